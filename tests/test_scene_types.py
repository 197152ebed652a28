"""Scene types (PRD-23, 27, 100): validation, versions, inheritance, the effective config."""

from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner

from trulience.catalog import characters, projects, scene_types
from trulience.catalog.errors import InvalidValue
from trulience.catalog.workflows import add_workflow
from trulience.cli import main
from trulience.generation.loop import open_take
from trulience.generation.scene_config import (
    Definition,
    InvalidSceneType,
    SceneConfig,
    apply_file,
    define,
    render_prompt,
    resolve,
)

BASE = {
    "target_duration_s": 30,
    "segment_duration_s": 5,
    "fps": 24,
    "width": 512,
    "height": 512,
    "prompt_template": "{name}, {role}, walking on the moon",
    "presets": {"gentle": {"motion": 0.3}, "lively": {"motion": 0.8}},
    "preset": "gentle",
    "seed": 7,
}


def count(conn, table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def walk(conn):
    add_workflow(conn, "animatic", {"1": {"class_type": "LoadImage", "inputs": {}}})
    define(conn, Definition("walk", "Walk", settings=BASE | {"workflow": "animatic"}))
    return conn


def test_child_overrides_duration_and_inherits_workflow(walk):
    define(
        walk,
        Definition(
            "walk-short",
            "Short walk",
            parent="walk",
            settings={"target_duration_s": 10, "preset": "lively", "params": {"motion": 0.9}},
        ),
    )
    child = resolve(walk, "walk-short")
    assert child.lineage == ("walk", "walk-short")
    assert child.target_duration_s == Decimal("10")
    assert child.segment_duration_s == Decimal("5")
    assert child.workflow == "animatic" and child.workflow_sha256 is not None
    assert child.prompt_template == BASE["prompt_template"]
    assert child.segment_params() == {"motion": 0.9}  # preset, then own params on top
    assert resolve(walk, "walk").segment_params() == {"motion": 0.3}


def test_a_cycle_is_refused(walk):
    define(walk, Definition("walk-fast", "Fast", parent="walk", settings={"fps": 30}))
    with pytest.raises(InvalidValue, match="descendant"):
        define(
            walk,
            Definition(
                "walk", "Walk", parent="walk-fast", settings=BASE | {"workflow": "animatic"}
            ),
        )
    assert scene_types.get_scene_type(walk, "walk").parent_id is None


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            Definition("bad", "Bad", settings=BASE | {"target_duration_s": -5}),
            "target_duration_s: must be greater than 0, got -5",
        ),
        (
            Definition("bad", "Bad", settings=BASE | {"fps": 0}),
            "fps: must be greater than 0, got 0",
        ),
        (
            Definition("bad", "Bad", settings=BASE | {"prompt_template": "{name} with {hair}"}),
            "unknown placeholder(s) {hair}",
        ),
        (
            Definition("bad", "Bad", settings=BASE | {"prompt_template": "{name"}),
            "malformed template",
        ),
        (Definition("bad", "Bad", parent="nope", settings=BASE), "parent: no scene type 'nope'"),
        (
            Definition("bad", "Bad", settings=BASE | {"workflow": "nope"}),
            "no workflow named 'nope'",
        ),
        (Definition("bad", "Bad", settings=BASE | {"segment_duration_s": 40}), "is longer than"),
        (Definition("bad", "Bad", settings=BASE | {"preset": "wild"}), "'wild' is not one of"),
        (
            Definition("bad", "Bad", settings=BASE | {"width": 511}),
            "width: must be an even number of pixels",
        ),
    ],
)
def test_invalid_definitions_are_refused_and_store_nothing(conn, definition, message):
    before = (count(conn, "scene_types"), count(conn, "scene_type_versions"))
    with pytest.raises((InvalidSceneType, InvalidValue)) as err:
        define(conn, definition)
    assert message in str(err.value)
    assert (count(conn, "scene_types"), count(conn, "scene_type_versions")) == before


def test_edit_is_a_new_version_and_a_take_keeps_its_own(walk):
    assert (
        define(walk, Definition("walk", "Walk", settings=BASE | {"workflow": "animatic"}))
        == "unchanged"
    )
    projects.create_project(walk, "moonbase", "Moonbase")
    characters.create_character(walk, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    take, config, resumed = open_take(walk, "moonbase", "eileen", "walk")
    assert not resumed and config.version == 1
    assert (
        define(
            walk,
            Definition(
                "walk", "Walk", settings=BASE | {"workflow": "animatic", "target_duration_s": 60}
            ),
        )
        == "new version 2"
    )
    assert resolve(walk, "walk").target_duration_s == 60
    again, kept, resumed = open_take(walk, "moonbase", "eileen", "walk")
    assert resumed and again.id == take.id
    assert kept.version == 1 and kept.target_duration_s == 30  # the take keeps its settings
    with pytest.raises(Exception, match="immutable"):
        walk.execute("UPDATE scene_type_versions SET fps = 12")


def test_frame_plan_is_exact():
    def plan(duration, segment, fps):
        return SceneConfig(
            "x", 1, 1, ("x",), Decimal(duration), Decimal(segment), Fraction(fps), 64, 64
        ).frame_plan()

    assert plan("30", "5", 24) == [120] * 6
    assert plan("10", "3", 24) == [72, 72, 72, 24]
    assert sum(plan("10", "2.5", Fraction(30000, 1001))) == round(10 * Fraction(30000, 1001))


def test_prompt_renders_character_fields_and_reports_missing_ones():
    text, missing = render_prompt(
        "{name}, {role}, {hair} hair", "Eileen", "eileen", {"role": "pilot", "tags": ["a", "b"]}
    )
    assert text == "Eileen, pilot, hair" and missing == ["hair"]


def test_file_defines_parents_first_and_all_or_nothing(conn, tmp_path):
    good = tmp_path / "types.yaml"
    good.write_text("""
scene_types:
  - slug: walk-night
    parent: walk
    negative_prompt: daylight
  - slug: walk
    name: Walk
    target_duration_s: 12
    segment_duration_s: 4
    fps: 24
    width: 512
    height: 512
""")
    assert apply_file(conn, good) == [("walk", "created"), ("walk-night", "created")]
    assert resolve(conn, "walk-night").frame_plan() == [96, 96, 96]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {slug: run, fps: 24, width: 64, height: 64, target_duration_s: 4,"
        " segment_duration_s: 2}\n- {slug: jump, fps: -1}\n"
    )
    with pytest.raises(InvalidSceneType, match="'jump', fps: must be greater than 0"):
        apply_file(conn, bad)
    assert [t.slug for t in scene_types.list_scene_types(conn)] == ["walk", "walk-night"]
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- {slug: run, colour: red}\n")
    with pytest.raises(InvalidSceneType, match="colour: unknown field"):
        apply_file(conn, unknown)


def test_cli_add_show_list(db_url, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env)

    assert (
        "created"
        in run(
            "scene-types",
            "add",
            "walk",
            "--duration",
            "30",
            "--segment",
            "5",
            "--fps",
            "24",
            "--width",
            "512",
            "--height",
            "512",
        ).output
    )
    assert (
        "created"
        in run("scene-types", "add", "walk-short", "--parent", "walk", "--duration", "10").output
    )
    shown = run("scene-types", "show", "walk-short").output
    assert '"frame_plan": [\n    120,\n    120\n  ]' in shown
    assert "walk-short" in run("scene-types", "list").output
    refused = run("scene-types", "add", "run", "--duration", "-3")
    assert refused.exit_code == 1 and "must be greater than 0" in refused.output
    assert "Traceback" not in refused.output


def test_the_catalog_reads_a_parents_slug_and_the_projects_metadata_schemas(walk):
    from trulience.catalog.errors import NotFound
    from trulience.generation.scene_config import known_fields

    define(walk, Definition("walk-slow", "Slow", parent="walk", settings={"fps": 12}))
    child = scene_types.get_scene_type(walk, "walk-slow")
    assert scene_types.scene_type_slug(walk, child.parent_id) == "walk"
    with pytest.raises(NotFound):
        scene_types.scene_type_slug(walk, -1)
    assert scene_types.project_metadata_schemas(walk) == []
    schema = {"type": "object", "properties": {"helmet": {"type": "string"}}}
    projects.create_project(walk, "moonbase", "Moonbase", settings={"metadata_schema": schema})
    projects.create_project(walk, "plain", "Plain")
    assert scene_types.project_metadata_schemas(walk) == [schema]
    assert "helmet" in known_fields(walk)
    # a template may name a project's field; an unknown one is refused
    define(walk, Definition("walk-helmet", "Helmet", "walk", {"prompt_template": "{helmet}"}))
    with pytest.raises(InvalidSceneType, match="unknown placeholder"):
        define(walk, Definition("walk-visor", "Visor", "walk", {"prompt_template": "{visor}"}))
