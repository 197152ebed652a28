"""Registration warns (prints, and records with the version) what it allows but is likely
wrong: a workflow without a seed slot (every retake is the same graph, answered from the
worker's cache with the same video), and a fixed width/height literal that disagrees with a
scene type using the workflow; saving such a scene type warns too."""

import copy
import json

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.animatic import SLOTS, WORKFLOW
from trulience.catalog.workflows import workflow_warnings
from trulience.cli import main
from trulience.generation.comfyui.registration import (
    FixedSize,
    fixed_sizes,
    registration_warnings,
    size_disagreements,
)
from trulience.generation.comfyui.slots import parse_slots
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow, scene_type_warnings

NO_SEED = {k: v for k, v in SLOTS.items() if k != "seed"}


def scaled(width: int, height: int) -> dict:
    """The animatic workflow with its seed image scaled to a fixed size first."""
    graph = copy.deepcopy(WORKFLOW)
    graph["7"] = {
        "class_type": "ImageScale",
        "inputs": {
            "image": ["1", 0],
            "upscale_method": "nearest-exact",
            "width": width,
            "height": height,
            "crop": "disabled",
        },
    }
    graph["2"]["inputs"]["image"] = ["7", 0]
    return graph


def test_a_workflow_without_a_seed_slot_is_warned_about_and_told_where_one_is() -> None:
    (warning,) = registration_warnings(WORKFLOW, parse_slots(NO_SEED, WORKFLOW))
    assert warning.type == "no_seed_slot" and warning.severity == "warning"
    assert "answers it from its cache" in str(warning) and '["2", "seed"]' in str(warning)
    assert registration_warnings(WORKFLOW, parse_slots(SLOTS, WORKFLOW)) == []


def test_a_size_bound_to_the_size_slots_is_not_fixed() -> None:
    graph = scaled(256, 256)
    assert fixed_sizes(graph, parse_slots(SLOTS, graph)) == [FixedSize("7", "ImageScale", 256, 256)]
    bound = {**SLOTS, "width": ["7", "width"], "height": ["7", "height"]}
    assert fixed_sizes(graph, parse_slots(bound, graph)) == []


sizes = st.integers(min_value=1, max_value=4096)


@given(
    fixed_w=st.one_of(st.none(), sizes),
    fixed_h=st.one_of(st.none(), sizes),
    width=sizes,
    height=sizes,
)
def test_a_fixed_size_disagrees_exactly_when_a_given_side_differs(
    fixed_w, fixed_h, width, height
) -> None:
    fixed = FixedSize("7", "ImageScale", fixed_w, fixed_h)
    problems = size_disagreements([fixed], width, height, "scene type 'walk'")
    differs = fixed_w not in (None, width) or fixed_h not in (None, height)
    assert len(problems) == int(differs)
    for problem in problems:
        assert problem.severity == "warning" and problem.node_id == "7"
        assert f"asks for {width}x{height}" in problem.message


def test_registration_warns_and_records_a_fixed_size_a_scene_type_disagrees_with(conn) -> None:
    first = register_workflow(conn, "animatic", WORKFLOW, SLOTS)
    assert first.warnings == [] and workflow_warnings(conn, first.workflow.id) == []
    define(
        conn,
        Definition(
            "walk",
            "Walk",
            settings={
                "workflow": "animatic",
                "target_duration_s": 4,
                "segment_duration_s": 1,
                "fps": 12,
                "width": 128,
                "height": 128,
            },
        ),
    )
    second = register_workflow(conn, "animatic", scaled(256, 256), NO_SEED)
    assert second.workflow.version == 2
    assert len(second.warnings) == 2
    no_seed, size = second.warnings
    assert no_seed.startswith("no seed slot")
    assert "node 7 (ImageScale)" in size and "scene type 'walk' asks for 128x128" in size
    assert workflow_warnings(conn, second.workflow.id) == second.warnings


def test_the_cli_prints_the_warnings_of_workflows_and_scene_types(db_url, tmp_path) -> None:
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    path = tmp_path / "scaled.json"
    path.write_text(json.dumps(scaled(256, 256)))
    added = CliRunner().invoke(
        main, ["workflows", "add", "scaled", str(path), "--slots", json.dumps(NO_SEED)], env=env
    )
    assert added.exit_code == 0, added.output
    assert "  warning: no seed slot" in added.output
    scene_type = "walk --name Walk --workflow scaled --duration 4 --segment 1 --fps 12"
    size = ["--width", "128", "--height", "128"]
    saved = CliRunner().invoke(main, ["scene-types", "add", *scene_type.split(), *size], env=env)
    assert saved.exit_code == 0, saved.output
    assert "warning: workflow scaled v1: node 7 (ImageScale) input 'width'" in saved.output
    assert "asks for 128x128" in saved.output


def test_a_scene_type_matching_its_workflow_has_no_warnings(conn) -> None:
    register_workflow(conn, "scaled", scaled(128, 128), SLOTS)
    settings = {"workflow": "scaled", "target_duration_s": 4, "segment_duration_s": 1}
    define(conn, Definition("walk", "Walk", settings=settings | {"width": 128, "height": 128}))
    assert scene_type_warnings(conn, "walk") == []


def test_applying_a_scene_type_file_warns_about_its_workflow(db_url, tmp_path) -> None:
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    graph = tmp_path / "scaled.json"
    graph.write_text(json.dumps(scaled(320, 240)))
    slots = json.dumps(SLOTS)
    added = CliRunner().invoke(
        main, ["workflows", "add", "scaled", str(graph), "--slots", slots], env=env
    )
    assert added.exit_code == 0 and "warning" not in added.output, added.output
    types = tmp_path / "types.json"
    entry = {
        "slug": "walk",
        "name": "Walk",
        "workflow": "scaled",
        "target_duration_s": 4,
        "fps": 12,
    }
    types.write_text(json.dumps([entry | {"segment_duration_s": 1, "width": 128, "height": 96}]))
    applied = CliRunner().invoke(main, ["scene-types", "apply", str(types)], env=env)
    assert applied.exit_code == 0, applied.output
    assert "warning: workflow scaled v1: node 7 (ImageScale) input 'width'" in applied.output
    assert "320x240 is written into the node, but scene type 'walk' asks for 128x96" in (
        applied.output
    )
