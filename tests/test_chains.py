"""Triggered chains (PRD-97): a project's rules "when a take of X is approved (or delivered),
run Y for the same character", refused when they name nothing, loop or cycle; carried out by the
chains_sensor against the real catalog and a real Dagster instance; and the CLI."""

import pytest
from click.testing import CliRunner
from dagster import build_sensor_context, instance_for_test

from resources import CatalogResource
from sensors.chains import chains_sensor
from tests.batch_history import add_take, make_character, make_project, make_scene_type
from trulience.catalog.deliveries import record_deliverable
from trulience.catalog.errors import AlreadyExists, CatalogError, InvalidValue, NotFound
from trulience.cli import main
from trulience.generation.scene_config import Definition, define
from trulience.production.chains import (
    ChainCursor,
    add_rule,
    due_chains,
    enable_rule,
    list_rules,
)


@pytest.fixture
def studio(conn):
    """A project with one character, three scene types and a bare one, and a reviewer."""
    make_project(conn)
    make_character(conn, "eileen")
    for slug in ("walk", "run", "jump"):
        make_scene_type(conn, slug)
    define(conn, Definition("bare", "Bare", settings={"fps": 24}))  # nothing to generate with
    conn.execute(
        "INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', 'reviewer')"
    )
    return conn


def stored_rules(conn) -> int:
    return conn.execute("SELECT count(*) FROM chain_rules").fetchone()[0]


def decide(conn, scene_id: int, decision: str, undo_window_s: float | None = None) -> int:
    """Record rita's decision on the take's newest revision; its review id."""
    return conn.execute(
        """INSERT INTO reviews (scene_id, reviewer_id, decision, undo_until)
           SELECT %s, id, %s, now() + make_interval(secs => %s) FROM users
            WHERE username = 'rita' RETURNING id""",
        (scene_id, decision, undo_window_s),
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("project", "when", "then", "error", "message"),
    [
        ("nowhere", "walk", "run", NotFound, "project 'nowhere' not found"),
        ("moonbase", "fly", "run", NotFound, "scene type 'fly' not found"),
        ("moonbase", "walk", "swim", NotFound, "scene type 'swim' not found"),
        ("moonbase", "walk", "bare", InvalidValue, "'bare': cannot be generated"),
        (
            "moonbase",
            "walk",
            "walk",
            CatalogError,
            "a chain rule cannot run the scene type that triggers it",
        ),
    ],
)
def test_a_rule_naming_nothing_or_itself_is_refused_naming_the_value(
    studio, project, when, then, error, message
):
    with pytest.raises(error, match=message):
        add_rule(studio, project, when, then, "producer:pat")
    assert stored_rules(studio) == 0


def test_a_rule_closing_a_cycle_is_refused_naming_the_cycle(studio):
    add_rule(studio, "moonbase", "walk", "run", "producer:pat")
    add_rule(studio, "moonbase", "run", "jump", "producer:pat")
    with pytest.raises(InvalidValue, match="would close the cycle jump -> walk -> run -> jump"):
        add_rule(studio, "moonbase", "jump", "walk", "producer:pat")
    with pytest.raises(AlreadyExists):
        add_rule(studio, "moonbase", "walk", "run", "producer:pat")
    assert stored_rules(studio) == 2
    # another project's rules are its own: no cycle there
    make_project(studio, "mars")
    rule = add_rule(studio, "mars", "jump", "walk", "producer:pat")
    assert (rule.project, rule.trigger_scene_type, rule.then_scene_type) == ("mars", "jump", "walk")


@pytest.fixture
def evaluate(studio, db_url, tmp_path):
    """Evaluate the chains_sensor as the daemon would, carrying its cursor between ticks."""
    resources = {"catalog": CatalogResource(home=str(tmp_path), database_url=db_url)}
    with instance_for_test() as instance:
        cursor = [None]

        def tick():
            context = build_sensor_context(instance=instance, resources=resources, cursor=cursor[0])
            result = chains_sensor(context)
            cursor[0] = result.cursor
            for request in result.dynamic_partitions_requests:  # as the daemon adds them
                instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
            return result

        yield tick


def test_an_approval_requests_one_run_of_the_chained_scene_type(studio, evaluate):
    rule = add_rule(studio, "moonbase", "walk", "run", "producer:pat")
    take = add_take(studio, "eileen", "walk", [[1.0]])
    assert evaluate().run_requests == []
    decide(studio, take, "approved")

    result = evaluate()
    (request,) = result.run_requests
    assert request.partition_key == "eileen|run"
    assert request.tags == {
        "trulience/project": "moonbase",
        "trulience/chain_rule": str(rule.id),
        "trulience/because_of_take": str(take),
        "trulience/because_of_revision": "1",
        "trulience/because_of_event": "approved",
    }
    assert request.run_key == f"chain:{rule.id}:{take}:r1"
    assert request.run_config["ops"]["segments"]["config"] == {"project": "moonbase"}
    # the partitions the run needs are added with it
    added = {
        r.partitions_def_name: set(r.partition_keys) for r in result.dynamic_partitions_requests
    }
    assert "eileen" in added["character"] and "run" in added["scene_type"]

    again = evaluate()
    assert again.run_requests == []
    assert "no approval or delivery" in again.skip_reason.skip_message


def deliver(conn, scene_id: int, status: str = "packaged") -> int:
    """Record a delivery of the take's first revision; the deliverable's id."""
    return record_deliverable(conn, scene_id, 1, status, f"file:///d/{scene_id}.zip", "a" * 64, {})


def test_a_delivery_requests_one_run_and_an_approval_rule_ignores_it(studio, evaluate):
    on_delivery = add_rule(studio, "moonbase", "walk", "run", "producer:pat", "delivered")
    on_approval = add_rule(studio, "moonbase", "walk", "jump", "producer:pat")
    take = add_take(studio, "eileen", "walk", [[1.0]])
    deliver(studio, take, "failed")  # a failed package is no delivery
    assert evaluate().run_requests == []

    deliver(studio, take)
    (request,) = evaluate().run_requests
    assert request.partition_key == "eileen|run"
    assert request.run_key == f"chain:{on_delivery.id}:{take}:r1:delivered"
    assert request.tags["trulience/chain_rule"] == str(on_delivery.id)
    assert request.tags["trulience/because_of_event"] == "delivered"
    assert evaluate().run_requests == []

    # the approval sets off only the approval rule
    decide(studio, take, "approved")
    (request,) = evaluate().run_requests
    assert request.tags["trulience/chain_rule"] == str(on_approval.id)
    assert request.partition_key == "eileen|jump"


def test_a_delivery_rule_takes_part_in_cycles_and_an_unknown_event_is_refused(studio):
    add_rule(studio, "moonbase", "walk", "run", "producer:pat", "delivered")
    with pytest.raises(InvalidValue, match="would close the cycle run -> walk -> run"):
        add_rule(studio, "moonbase", "run", "walk", "producer:pat")
    with pytest.raises(InvalidValue, match="'rendered': must be one of approved, delivered"):
        add_rule(studio, "moonbase", "jump", "run", "producer:pat", "rendered")
    assert stored_rules(studio) == 1


def test_the_chains_cursor_reads_its_text_and_the_older_bare_review_id():
    assert ChainCursor.parse(None) == ChainCursor()
    assert ChainCursor.parse("41") == ChainCursor(reviews=41)
    cursor = ChainCursor(7, 3)
    assert ChainCursor.parse(cursor.text()) == cursor
    with pytest.raises(InvalidValue, match="is not a chains cursor"):
        ChainCursor.parse('{"reviews": 1}')


def test_a_rejection_a_disabled_rule_or_an_older_approval_requests_nothing(studio, evaluate):
    decide(studio, add_take(studio, "eileen", "walk", [[1.0]]), "approved")  # before the rule
    rule = add_rule(studio, "moonbase", "walk", "run", "producer:pat")
    assert evaluate().run_requests == []
    add_rule(studio, "moonbase", "jump", "run", "producer:pat")
    rejected = add_take(studio, "eileen", "walk", [[1.0]])
    decide(studio, rejected, "rejected")
    assert evaluate().run_requests == []

    enable_rule(studio, rule.id, False)
    assert [r.enabled for r in list_rules(studio, "moonbase") if r.id == rule.id] == [False]
    decide(studio, add_take(studio, "eileen", "walk", [[1.0]]), "approved")
    assert evaluate().run_requests == []
    # a take of a scene type no rule names sets off nothing either
    decide(studio, add_take(studio, "eileen", "run", [[1.0]]), "approved")
    assert evaluate().run_requests == []


def test_an_approval_chains_only_once_its_undo_window_has_closed(studio):
    add_rule(studio, "moonbase", "walk", "run", "producer:pat")
    waiting = decide(studio, add_take(studio, "eileen", "walk", [[1.0]]), "approved", 3600)
    closed = add_take(studio, "eileen", "walk", [[1.0]])
    decide(studio, closed, "approved")
    due = due_chains(studio, ChainCursor())
    # the later approval waits behind the undoable one, so the cursor cannot skip it
    assert (due.chains, due.cursor.reviews) == ([], waiting - 1)
    studio.execute("UPDATE reviews SET undo_until = now() WHERE id = %s", (waiting,))
    due = due_chains(studio, due.cursor)
    assert [(c.character, c.then_scene_type, c.project) for c in due.chains] == [
        ("eileen", "run", "moonbase"),
        ("eileen", "run", "moonbase"),
    ]
    assert closed in {c.because_of for c in due.chains}
    assert due_chains(studio, due.cursor).chains == []


@pytest.fixture
def cli(studio, db_url, tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "TRULIENCE_ACTOR": "cli:pat",
    }

    def invoke(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_cli_adds_lists_disables_and_removes_rules(cli, studio):
    added = cli(
        "chains", "add", "--project", "moonbase", "--when", "walk", "--approved", "--run", "run"
    )
    assert added.exit_code == 0, added.output
    (rule_id,) = studio.execute("SELECT id FROM chain_rules").fetchone()
    line = f"{rule_id}: moonbase: when walk is approved, run run, by cli:pat"
    assert added.output.strip() == line
    assert cli("chains", "list").output.strip() == line
    assert (
        cli("chains", "disable", str(rule_id)).output.strip()
        == f"{line.replace(', by', ' (disabled), by')}"
    )
    assert cli("chains", "enable", str(rule_id)).output.strip() == line

    refused = cli(
        "chains", "add", "--project", "moonbase", "--when", "run", "--approved", "--run", "walk"
    )
    assert refused.exit_code == 1
    assert "would close the cycle run -> walk -> run" in refused.output
    unknown = cli(
        "chains", "add", "--project", "moonbase", "--when", "fly", "--approved", "--run", "walk"
    )
    assert unknown.exit_code == 1 and "scene type 'fly' not found" in unknown.output
    missing = cli("chains", "add", "--project", "moonbase", "--when", "walk", "--run", "jump")
    assert missing.exit_code == 2 and "--approved or --delivered" in missing.output
    on_delivery = cli(
        "chains", "add", "--project", "moonbase", "--when", "walk", "--delivered", "--run", "jump"
    )
    assert on_delivery.exit_code == 0, on_delivery.output
    assert "when walk is delivered, run jump, by cli:pat" in on_delivery.output
    (delivered_id,) = studio.execute(
        "SELECT id FROM chain_rules WHERE trigger_event = 'delivered'"
    ).fetchone()
    assert cli("chains", "remove", str(delivered_id)).exit_code == 0

    assert cli("chains", "remove", str(rule_id)).output.strip() == f"chain rule {rule_id} removed"
    assert cli("chains", "list").output == ""
    audited = studio.execute(
        "SELECT actor, action FROM audit_log WHERE table_name = 'chain_rules' ORDER BY id"
    ).fetchall()
    assert audited == [
        ("cli:pat", a) for a in ("INSERT", "UPDATE", "UPDATE", "INSERT", "DELETE", "DELETE")
    ]
    gone = cli("chains", "remove", str(rule_id))
    assert gone.exit_code == 1 and f"chain rule {rule_id} not found" in gone.output
