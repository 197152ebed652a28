"""Authoring in plain Python against the real catalog (PRD-63, PRD-33): where each setting
of a scene type comes from (own / inherited / default), an edit stored as a new version, a
refused value naming its field with nothing stored, the acceptance case (prompt v3, diff
with v1, rollback creates v4 equal to v1) through the page's state and the CLI, a viewer
refused; and a workflow's graph model: nodes, links, slots, models and problems."""

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from apps.scene_types_state import SceneTypesSession
from apps.workflows_state import WorkflowsSession
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.scene_type_versions import scene_type_version
from trulience.catalog.workflows import add_workflow
from trulience.cli import main
from trulience.config import Settings
from trulience.generation import scene_history
from trulience.generation.scene_config import Definition, InvalidSceneType, define, resolve
from trulience.generation.workflow_graph import build_graph, graph_problems

PASSWORD = "s3cret-pass"
DATA = Path(__file__).parent / "data" / "comfyui"
PROMPT = json.loads((DATA / "success_prompt.json").read_text())
OBJECT_INFO = json.loads((DATA / "object_info.json").read_text())
SLOTS = {"seed_image": ["1", "image"], "fps": ["10", "fps"], "video": "11", "last_frame": "5"}
BASE = {"target_duration_s": 10, "segment_duration_s": 5, "fps": 24, "width": 512, "height": 512}


def authored(conn) -> None:
    """base (durations, fps, size, seed 7, workflow animatic) and walk inheriting it with
    its own prompt (v1); paul (producer) and vic (viewer)."""
    add_workflow(conn, "animatic", PROMPT, slots=SLOTS)
    define(conn, Definition("base", "Base", settings=BASE | {"seed": 7, "workflow": "animatic"}))
    define(conn, Definition("walk", "Walk", "base", {"prompt_template": "{name} walking"}))
    for name, role in [("paul", "producer"), ("vic", "viewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)


def signed_in(session, username: str):
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    assert session.user is not None, session.login.notice.object
    return session


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    with connect(db_url, actor="tester") as conn:
        authored(conn)
    return Settings(home=tmp_path, database_url=db_url, storage_url=str(tmp_path / "store"))


def by_name(settings_list):
    return {s.name: s for s in settings_list}


def test_each_setting_says_where_its_value_comes_from(conn) -> None:
    authored(conn)
    found = by_name(scene_history.sources(conn, "walk"))
    assert (found["prompt_template"].source, found["prompt_template"].value) == (
        "own",
        "{name} walking",
    )
    assert (found["fps"].source, found["fps"].origin, found["fps"].value) == (
        "inherited",
        "base",
        "24",
    )
    assert (found["workflow"].source, found["workflow"].value) == ("inherited", "animatic v1")
    assert found["seed_policy"].source == "default" and found["seed_policy"].value == "increment"
    assert found["preset"].source == "unset" and found["fps"].own == ""


def test_an_edit_is_a_new_version_and_a_refused_value_stores_nothing(conn) -> None:
    authored(conn)
    stored = scene_history.edit(conn, "walk", {"fps": "12", "prompt_template": "{name} runs"})
    assert stored is not None and stored.version == 2
    assert resolve(conn, "walk").fps == 12 and resolve(conn, "walk").version == 2
    assert scene_history.edit(conn, "walk", {"fps": "12"}) is None  # nothing changed
    with pytest.raises(InvalidSceneType) as refused:
        scene_history.edit(conn, "walk", {"width": 513, "prompt_template": "again"})
    assert refused.value.field == "width" and "even number" in refused.value.reason
    with pytest.raises(InvalidSceneType) as unknown:
        scene_history.edit(conn, "walk", {"prompt_template": "{name} in {nowhere}"})
    assert unknown.value.field == "prompt_template" and "{nowhere}" in unknown.value.reason
    with pytest.raises(InvalidSceneType) as longer:  # refused only once the chain is merged
        scene_history.edit(conn, "walk", {"segment_duration_s": 20})
    assert longer.value.field == "segment_duration_s"
    assert [v.version for v in scene_history.history(conn, "walk")] == [1, 2]
    cleared = scene_history.edit(conn, "walk", {"fps": None})  # inherited again
    assert cleared is not None and by_name(scene_history.sources(conn, "walk"))["fps"].source == (
        "inherited"
    )


def test_prompt_v3_diff_with_v1_then_rollback_creates_v4_equal_to_v1(settings) -> None:
    session = signed_in(SceneTypesSession(settings), "paul")
    assert "walk" in session.slugs and session.parents["walk"] == "base"
    session.open("walk")
    assert session.may_edit and session.newest == 1
    assert session.save({"prompt_template": "{name} walking fast"})
    assert session.save({"prompt_template": "{name} walking fast\nin the rain"})
    assert session.newest == 3 and session.notice == ("scene type walk: new version 3", "success")

    session.compare(3, 1)
    diff = session.diff
    assert (diff.old, diff.new) == (3, 1)
    assert diff.changed == (
        ("prompt_template", "{name} walking fast\nin the rain", "{name} walking"),
    )
    assert [(line.kind, line.text) for line in diff.lines if line.kind in ("add", "remove")] == [
        ("remove", "-prompt_template: {name} walking fast"),
        ("remove", "-prompt_template: in the rain"),
        ("add", "+prompt_template: {name} walking"),
    ]

    assert session.rollback(1)
    assert (
        session.newest == 4 and session.notice[0] == "scene type walk: new version 4 (equal to v1)"
    )
    with connect(settings.database_url) as conn:
        v1, v3, v4 = (scene_type_version(conn, "walk", n) for n in (1, 3, 4))
        assert scene_history.same_settings(v4, v1) and not scene_history.same_settings(v4, v3)
        assert v3.prompt_template == "{name} walking fast\nin the rain"  # history kept
        assert scene_history.diff(conn, "walk", 1, 4).lines == ()
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE actor = 'user:paul' AND table_name = "
            "'scene_type_versions'"
        ).fetchone()[0]
    assert audited == 3


def test_a_refused_edit_is_said_at_its_field_and_a_viewer_changes_nothing(settings) -> None:
    session = signed_in(SceneTypesSession(settings), "paul")
    session.open("walk")
    assert not session.save({"height": 7})
    assert session.field_error == (
        "height",
        "must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes), got 7",
    )
    assert session.newest == 1
    viewer = signed_in(SceneTypesSession(settings), "vic")
    viewer.open("walk")
    assert not viewer.may_edit
    assert not viewer.save({"prompt_template": "{name} sneaks"})
    assert viewer.notice[1] == "danger" and "not allowed" in viewer.notice[0]
    viewer.open("walk")
    assert viewer.newest == 1


def test_the_cli_shows_history_diff_and_rolls_back(settings, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    with connect(settings.database_url, actor="tester") as conn:
        scene_history.edit(conn, "walk", {"prompt_template": "{name} jogging"})
    runner = CliRunner()
    shown = runner.invoke(main, ["scene-types", "history", "walk"])
    assert shown.exit_code == 0, shown.output
    assert [line.split()[0] for line in shown.output.splitlines()] == ["v1", "v2"]
    diffed = runner.invoke(main, ["scene-types", "diff", "walk", "1", "2"])
    assert "-prompt_template: {name} walking\n+prompt_template: {name} jogging" in diffed.output
    rolled = runner.invoke(main, ["scene-types", "rollback", "walk", "1"])
    assert rolled.output.strip() == "scene type walk: new version 3 (equal to v1)"
    missing = runner.invoke(main, ["scene-types", "rollback", "walk", "9"])
    assert missing.exit_code != 0 and "walk v9" in missing.output


def test_a_workflow_graph_has_its_nodes_links_slots_and_problems() -> None:
    graph = copy.deepcopy(PROMPT)
    graph["3"]["inputs"]["image"] = ["2", 5]  # ImageScale has one output
    drawn = build_graph(graph, SLOTS, graph_problems(graph, SLOTS, OBJECT_INFO))
    assert len(drawn.nodes) == len(graph)
    links = sum(isinstance(v, list) for n in graph.values() for v in n["inputs"].values())
    assert len(drawn.edges) == links
    assert drawn.node("1").slots == ("seed_image",) and drawn.node("1").layer == 0
    assert drawn.node("11").output_slots == ("video",)
    assert drawn.node("10").slots == ("fps",)
    assert all(drawn.node(e.source).layer < drawn.node(e.target).layer for e in drawn.edges)
    broken = drawn.node("3")
    assert broken.has_error and [p.type for p in broken.problems] == ["link_to_missing_output"]
    assert [p.type for p in drawn.loose] == ["no_seed_slot"]  # a warning on no node


def test_models_are_named_and_bad_slots_said() -> None:
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
    }
    drawn = build_graph(graph, {"video": "2"}, graph_problems(graph, {"video": "2"}))
    assert drawn.node("1").models == ("sd15.safetensors",)
    assert drawn.node("1").inputs[0].model == "checkpoints"
    assert [p.type for p in drawn.loose] == ["slots"]
    assert "seed_image" in drawn.loose[0].message


def test_the_workflows_page_draws_the_opened_version(settings) -> None:
    session = signed_in(WorkflowsSession(settings), "vic")
    assert session.names == {"animatic": [1]}
    session.open("animatic")
    assert session.graph is not None and session.graph.node("1").slots == ("seed_image",)
    session.check(OBJECT_INFO, None, "gpu-a")
    assert session.checked_on == "gpu-a" and session.notice == (
        "checked on gpu-a: 0 error(s), 1 warning(s)",
        "success",
    )
    session.check_on_worker()
    assert session.notice == ("no worker is online to check the workflow against", "warning")


def test_both_pages_show_their_content_once_signed_in(settings) -> None:
    from apps.scene_types import SceneTypesApp
    from apps.workflows import WorkflowsApp

    scene_types = SceneTypesApp(settings)
    signed_in(scene_types.session, "paul")
    assert scene_types.main.visible and "walk (inherits base)" in scene_types.chooser.options
    scene_types.chooser.value = "walk"
    editor = scene_types.editor
    assert 'data-source="inherited"' in editor.table.object and editor.edits.visible
    workflows = WorkflowsApp(settings)
    signed_in(workflows.session, "vic")
    workflows.chooser.value = "animatic"
    assert workflows.version.value == 1
    assert 'class="wf-node wf-node-1 wf-node-slot"' in workflows.drawn.drawing.object


def test_a_project_made_from_a_template_starts_with_its_settings_and_chain_rules(
    settings, monkeypatch
) -> None:
    from trulience.catalog.chains import list_chain_rules
    from trulience.catalog.projects import create_project, get_project
    from trulience.production.chains import add_rule, enable_rule

    template_settings = {"image_qa": {"min_sharpness": 40}, "presets": {"calm": {"motion": 0.2}}}
    with connect(settings.database_url, actor="tester") as conn:
        create_project(conn, "pilot", "Pilot", "the first season", template_settings)
        define(conn, Definition("run", "Run", "base", {"prompt_template": "{name} running"}))
        add_rule(conn, "pilot", "walk", "run", "producer:pat")
        enable_rule(conn, add_rule(conn, "pilot", "run", "base", "producer:pat").id, False)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    made = runner.invoke(
        main, ["projects", "create", "season-2", "Season 2", "--from-template", "pilot"]
    )
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[:2] == [
        "project season-2 created from pilot",
        "  settings: image_qa, presets",
    ]
    assert "scene types (shared): base, run, walk" in made.output
    with connect(settings.database_url) as conn:
        assert get_project(conn, "season-2").settings == template_settings
        rules = {
            (r.trigger_scene_type, r.then_scene_type, r.enabled)
            for r in list_chain_rules(conn, "season-2")
        }
        assert rules == {("walk", "run", True), ("run", "base", False)}
        before = conn.execute("SELECT count(*) FROM projects").fetchone()[0]
    again = runner.invoke(main, ["projects", "create", "season-3", "S3", "--from-template", "nope"])
    assert again.exit_code != 0 and "nope" in again.output
    with connect(settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == before
