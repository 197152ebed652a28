"""Project budgets (PRD-93): a batch beyond the remaining budget is refused (nothing
stored) or queued until it fits, as the project's policy says."""

from dataclasses import replace

import pytest

from tests.batch_history import add_take, make_character, make_project, make_scene_type
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.production.batch import (
    BatchRefused,
    BatchRequest,
    create_batch,
    get_batch,
    next_release,
    plan,
    record_launch,
)
from trulience.production.budget import set_budget, standing

# 126 GPU s expected for three takes of 'walk' (see test_cost_estimate's hand computation)
WALK_X3 = BatchRequest("moonbase", ("eileen", "marco", "theo"), ("walk",), 0, "producer:pat")


@pytest.fixture
def production(conn):
    """Three ready characters and one past take of 'walk' that used 42 GPU s."""
    make_project(conn)
    for slug in ("eileen", "marco", "theo"):
        make_character(conn, slug)
    make_scene_type(conn, "walk")
    add_take(conn, "eileen", "walk", [[10.0], [8.0, 12.0], [12.0]])
    return conn


def stored(conn) -> tuple[int, int, int]:
    """Batches, batch items and audit entries about either."""
    return conn.execute(
        """SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM batch_items),
                  (SELECT count(*) FROM audit_log
                    WHERE table_name IN ('batches', 'batch_items'))"""
    ).fetchone()


def test_a_batch_beyond_the_budget_is_refused_clearly_and_nothing_is_stored(production):
    set_budget(production, "moonbase", gpu_hours=0.03, policy="refuse")  # 108 GPU s
    with pytest.raises(BatchRefused) as refused:
        create_batch(production, WALK_X3)
    message = str(refused.value)
    assert "batch refused, nothing stored" in message
    assert "project moonbase has 66.0 GPU s" in message  # 108 - 42 used
    assert "estimated at 126.0 GPU s" in message
    assert "used 42.0" in message and "budgets set moonbase" in message
    assert stored(production) == (0, 0, 0)


def test_a_batch_that_fits_is_stored_with_its_estimate_and_reserves_it(production):
    set_budget(production, "moonbase", gpu_hours=1, cost_per_gpu_hour=3.6)
    batch, checked = create_batch(production, WALK_X3)
    assert checked.verdict.decision == "launch"
    assert (batch.status, batch.items, batch.priority) == ("queued", 3, 0)
    assert float(batch.estimate_gpu_s) == pytest.approx(126.0)
    assert batch.estimate_low_s <= batch.estimate_gpu_s <= batch.estimate_high_s
    assert batch.estimate_basis["walk"]["history_segments"] == 3
    now = standing(production, "moonbase")
    assert now.used_s == pytest.approx(42.0)
    assert now.reserved_s == pytest.approx(float(batch.estimate_high_s))
    assert now.remaining_s == pytest.approx(3600 - 42 - float(batch.estimate_high_s))
    assert now.budget.money(3600) == "3.60 USD"


def test_a_running_batch_reserves_only_what_it_has_not_spent_yet(production):
    set_budget(production, "moonbase", gpu_hours=1)
    batch, _ = create_batch(production, WALK_X3)
    record_launch(production, batch.id, "bf-1")
    add_take(production, "marco", "walk", [[20.0], [20.0], [20.0]], status="generating")
    high = float(get_batch(production, batch.id).estimate_high_s)
    assert standing(production, "moonbase").reserved_s == pytest.approx(high - 60.0)
    # once no take waits or generates, the batch reserves nothing
    for slug in ("eileen", "theo"):
        add_take(production, slug, "walk", [[1.0]], status="generated")
    production.execute("UPDATE scenes SET status = 'generated' WHERE status = 'generating'")
    assert standing(production, "moonbase").reserved_s == 0.0


def test_queue_policy_records_the_batch_queued_and_releases_it_when_it_fits(production):
    set_budget(production, "moonbase", gpu_hours=0.03, policy="queue")
    batch, checked = create_batch(production, WALK_X3)
    assert checked.verdict.decision == "queue"
    assert "queued until the budget allows" in checked.verdict.reason
    assert get_batch(production, batch.id).status == "queued"
    ready, waiting = next_release(production)
    assert ready is None and [w.batch.id for w in waiting] == [batch.id]
    assert "project moonbase has 66.0 GPU s" in waiting[0].verdict.reason
    set_budget(production, "moonbase", gpu_hours=1, policy="queue")
    ready, waiting = next_release(production)
    assert ready.id == batch.id and waiting == []


def test_queued_batches_are_released_in_priority_order(production):
    set_budget(production, "moonbase", gpu_hours=0.03, policy="queue")
    low, _ = create_batch(production, WALK_X3)
    urgent, _ = create_batch(production, replace(WALK_X3, priority=50))
    set_budget(production, "moonbase", gpu_hours=1, policy="queue")
    ready, _ = next_release(production)
    assert ready.id == urgent.id
    record_launch(production, urgent.id, "bf-urgent")
    ready, _ = next_release(production)
    assert ready.id == low.id


def test_a_queued_batch_holds_its_place_against_new_ones(production):
    set_budget(production, "moonbase", gpu_hours=0.03, policy="queue")
    create_batch(production, WALK_X3)
    set_budget(production, "moonbase", gpu_hours=0.07, policy="queue")  # 252 GPU s
    # 210 left: the queued batch's high estimate is reserved ahead of a new one
    later = plan(production, WALK_X3)
    assert later.verdict.decision == "queue"
    assert "reserved by queued/running batches" in later.verdict.reason


def test_with_a_budget_a_batch_without_an_estimate_is_refused(conn):
    make_project(conn)
    make_character(conn, "eileen")
    make_scene_type(conn, "walk")
    set_budget(conn, "moonbase", gpu_hours=100, policy="queue")
    request = BatchRequest("moonbase", ("eileen",), ("walk",))
    with pytest.raises(BatchRefused, match="no generation history to estimate from"):
        create_batch(conn, request)
    assert stored(conn) == (0, 0, 0)


def test_without_a_budget_a_batch_without_an_estimate_goes_ahead(conn):
    make_project(conn)
    make_character(conn, "eileen")
    make_scene_type(conn, "walk")
    batch, checked = create_batch(conn, BatchRequest("moonbase", ("eileen",), ("walk",)))
    assert checked.verdict.decision == "launch" and batch.estimate_gpu_s is None
    assert "no generation history" in batch.estimate_basis["missing"]


@pytest.mark.parametrize(
    ("project", "hours", "policy", "error", "message"),
    [
        ("moonbase", 1, "later", InvalidValue, "policy 'later': must be refuse or queue"),
        ("moonbase", -1, "refuse", InvalidValue, "gpu_hours -1: must not be negative"),
        ("nowhere", 1, "refuse", NotFound, "project 'nowhere' not found"),
    ],
)
def test_bad_budgets_are_refused_clearly(production, project, hours, policy, error, message):
    with pytest.raises(error, match=message):
        set_budget(production, project, hours, policy)
    assert production.execute("SELECT count(*) FROM project_budgets").fetchone()[0] == 0


def test_a_bad_currency_is_refused_by_the_catalog(production):
    with pytest.raises(InvalidValue, match="three-letter ISO 4217 code"):
        set_budget(production, "moonbase", 1, currency="dollars")


def test_a_locked_budget_holds_a_second_locker_but_not_a_reader(production, db_url):
    # create_batch locks the budget row so two batches cannot both take its last hours
    from psycopg import errors as pg

    from trulience.catalog.budgets import budget_of, budget_of_for_update
    from trulience.catalog.database import connect

    set_budget(production, "moonbase", 1)
    with connect(db_url) as other, production.transaction():
        assert budget_of_for_update(production, "moonbase").policy == "refuse"
        other.execute("SET lock_timeout = '200ms'")
        assert budget_of(other, "moonbase").project == "moonbase"  # reading does not wait
        with pytest.raises(pg.LockNotAvailable):
            budget_of_for_update(other, "moonbase")
