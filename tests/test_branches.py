"""Branches of a take (PRD-50) in plain Python against the real catalog: a branch is a new
pending take of the same cell made from the scene type's configuration with its overrides,
which the pipeline resumes as it resumes any unfinished take; branches are listed with
their QA and decisions, and one is promoted to the cell's current take."""

import pytest
from click.testing import CliRunner

from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.auth.errors import PermissionDenied
from trulience.catalog import characters, projects, scenes
from trulience.catalog.branches import current_take
from trulience.catalog.errors import InvalidValue
from trulience.catalog.workflows import add_workflow
from trulience.cli import main
from trulience.generation.scene_config import Definition, define
from trulience.generation.takes import open_take
from trulience.review import decide
from trulience.review.branches import branches, create_branch, promote

SETTINGS = {
    "target_duration_s": 2,
    "segment_duration_s": 1,
    "fps": 12,
    "width": 128,
    "height": 128,
    "seed": 7,
    "params": {"motion": 0.3},
    "workflow": "animatic",
}
ANA = Operator("cli:ana")


@pytest.fixture
def cell(conn):
    """Eileen walking in moonbase: take 1 on main, generated and assembled."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {}, ["moonbase"])
    add_workflow(conn, "animatic", {"1": {"class_type": "LoadImage", "inputs": {}}})
    add_workflow(conn, "storyboard", {"1": {"class_type": "SaveImage", "inputs": {}}})
    define(conn, Definition("walk", "Walk", settings=SETTINGS))
    take, _, _ = open_take(conn, "moonbase", "eileen", "walk")
    scenes.set_take_state(conn, take.id, "assembled", frames=24)
    return take.id


def test_a_branch_is_a_pending_take_of_the_cell_that_the_pipeline_generates_next(conn, cell):
    branch = create_branch(
        conn, ANA, cell, "seed-42", seed=42, params={"motion": 0.9}, workflow="storyboard"
    )
    assert (branch.take, branch.status) == (2, "pending")
    config = branch.effective_config
    assert (config["seed"], config["params"], config["workflow"]) == (
        42,
        {"motion": 0.9},
        "storyboard",
    )
    resumed, resolved, was_unfinished = open_take(conn, "moonbase", "eileen", "walk")
    assert (resumed.id, resolved.seed, was_unfinished) == (branch.id, 42, True)
    listed = {b.take: b for b in branches(conn, cell)}
    assert listed[2].branch == "seed-42" and listed[1].branch == "main"
    assert listed[2].overrides == {
        "seed": 42,
        "params": {"motion": 0.9},
        "workflow": "storyboard",
        "from_take": cell,
    }


def test_another_branch_waits_until_the_unfinished_one_is_made(conn, cell):
    create_branch(conn, ANA, cell, "calm", params={"motion": 0.1})
    with pytest.raises(InvalidValue, match="take 2 of eileen/walk is not finished"):
        create_branch(conn, ANA, cell, "wild", params={"motion": 1.0})


def test_promoting_a_branch_makes_it_the_current_take_of_its_cell(conn, cell):
    branch = create_branch(conn, ANA, cell, "seed-42", seed=42)
    assert current_take(conn, cell) == cell  # no promotion: the newest take on main
    with pytest.raises(InvalidValue, match=r"'pending'.*only a generated or assembled take"):
        promote(conn, ANA, branch.id)
    scenes.set_take_state(conn, branch.id, "assembled", frames=24)
    rita = accounts.create_user(conn, "rita", "Rita", "reviewer", "s3cret-pass")
    decide(conn, rita, branch.id, "approved")

    promoted = promote(conn, ANA, branch.id)
    assert (promoted.take, promoted.current, promoted.decision) == (2, True, "approved")
    assert current_take(conn, cell) == branch.id
    promote(conn, ANA, cell)  # back to take 1: one current take per cell
    assert [(b.take, b.promoted, b.current) for b in branches(conn, cell)] == [
        (1, True, True),
        (2, False, False),
    ]
    with pytest.raises(PermissionDenied):
        promote(conn, rita, branch.id)


@pytest.mark.parametrize(
    ("name", "overrides", "refusal"),
    [
        ("main", {"seed": 1}, "'main' is the pipeline's own"),
        ("Big Idea", {"seed": 1}, "lower-case letters"),
        ("same", {}, "give a seed, params or a workflow"),
        ("neg", {"seed": -1}, r"seed -1: must be a whole number >= 0"),
        ("other", {"workflow": "nope"}, "workflow 'nope': no such workflow"),
    ],
)
def test_a_branch_that_names_nothing_valid_is_refused_and_nothing_is_made(
    conn, cell, name, overrides, refusal
):
    with pytest.raises(InvalidValue, match=refusal):
        create_branch(conn, ANA, cell, name, **overrides)
    assert [b.take for b in branches(conn, cell)] == [1]


def test_the_cli_branches_lists_and_promotes(conn, cell, db_url, tmp_path):
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "TRULIENCE_ACTOR": "cli:t"}
    run = CliRunner().invoke
    made = run(main, ["takes", "branch", str(cell), "calm", "--param", "motion=0.1"], env=env)
    assert made.exit_code == 0, made.output
    assert "branch calm: take 2" in made.output
    listed = run(main, ["takes", "branches", str(cell)], env=env)
    assert listed.exit_code == 0, listed.output
    assert '{"params": {"motion": 0.1}}' in listed.output and "* take   1" in listed.output
    refused = run(main, ["takes", "promote", str(cell + 1)], env=env)
    assert refused.exit_code == 1 and "only a generated or assembled take" in refused.output
    bad = run(main, ["takes", "branch", str(cell), "x", "--param", "oops"], env=env)
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output
