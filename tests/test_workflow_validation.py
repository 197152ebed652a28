"""Workflow validation against a worker's /object_info, with real ComfyUI 0.3.64 schemas.

Each broken graph is the captured successful 13-node prompt with one thing changed, and each
refusal must name the node, its class and the input, and say why.
"""

import copy
import json
from pathlib import Path

import pytest

from trulience.generation.comfyui.api_format import check_api_format
from trulience.generation.comfyui.errors import SlotError, WorkflowValidationError
from trulience.generation.comfyui.models import extract_models
from trulience.generation.comfyui.schemas import InputSpec
from trulience.generation.comfyui.slots import bind_inputs, parse_slots
from trulience.generation.comfyui.validation import check_workflow, validate_workflow

DATA = Path(__file__).parent / "data" / "comfyui"
# recorded from a real ComfyUI 0.3.64 server (tests/data/comfyui/PROTOCOL.md)
CAPTURES = Path(__file__).resolve().parent / "data" / "comfyui" / "captures"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


OBJECT_INFO = load("object_info.json")
LOADERS = load("model_loaders_object_info.json")
PROMPT = load("success_prompt.json")


def graph(**changes: dict) -> dict:
    """The captured graph with node inputs changed: graph(**{"2": {"width": 5}})."""
    changed = copy.deepcopy(PROMPT)
    for node_id, inputs in changes.items():
        changed[node_id]["inputs"].update(inputs)
    return changed


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def only_error(problems):
    found = errors(problems)
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


def test_the_captured_graph_passes() -> None:
    assert validate_workflow(PROMPT, OBJECT_INFO) == []
    assert check_workflow(PROMPT, OBJECT_INFO) == []


def test_an_unknown_node_class_is_refused() -> None:
    broken = graph()
    broken["9"] = {"class_type": "NoSuchNode", "inputs": {}}
    problem = only_error(validate_workflow(broken, OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.type) == (
        "9",
        "NoSuchNode",
        "unknown_class_type",
    )
    assert "does not exist on this worker" in str(problem)
    assert str(problem).startswith("node 9 (NoSuchNode)")


def test_a_node_without_class_type_is_refused() -> None:
    broken = graph()
    del broken["3"]["class_type"]
    problem = only_error(validate_workflow(broken, OBJECT_INFO))
    assert (problem.node_id, problem.type) == ("3", "missing_class_type")


def test_a_missing_required_input_is_refused() -> None:
    broken = graph()
    del broken["2"]["inputs"]["width"]
    problem = only_error(validate_workflow(broken, OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "2",
        "ImageScale",
        "width",
        "required_input_missing",
    )
    assert "node 2 (ImageScale) input 'width'" in str(problem)


def test_a_bad_enum_value_is_refused_in_the_list_dialect() -> None:
    problem = only_error(validate_workflow(graph(**{"2": {"upscale_method": "sinc"}}), OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "2",
        "ImageScale",
        "upscale_method",
        "value_not_in_list",
    )
    assert "'sinc' is not one of" in problem.message and "'lanczos'" in problem.message


def test_a_bad_enum_value_is_refused_in_the_combo_dialect() -> None:
    problems = validate_workflow(graph(**{"4": {"blend_mode": "lighten"}}), OBJECT_INFO)
    problem = only_error(problems)
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "4",
        "ImageBlend",
        "blend_mode",
        "value_not_in_list",
    )
    assert "'lighten'" in problem.message and "'multiply'" in problem.message
    codec = only_error(validate_workflow(graph(**{"11": {"codec": "vp9"}}), OBJECT_INFO))
    assert (codec.node_id, codec.class_type, codec.input_name) == ("11", "SaveVideo", "codec")


def test_both_enum_dialects_parse_to_the_same_spec() -> None:
    legacy = InputSpec.parse("crop", [["disabled", "center"]])
    combo = InputSpec.parse("crop", ["COMBO", {"options": ["disabled", "center"]}])
    assert legacy.type == combo.type == "COMBO"
    assert legacy.options == combo.options == ("disabled", "center")


@pytest.mark.parametrize(
    ("inputs", "kind"),
    [
        ({"width": 99999}, "value_bigger_than_max"),
        ({"width": -1}, "value_smaller_than_min"),
    ],
)
def test_an_int_out_of_range_is_refused(inputs: dict, kind: str) -> None:
    problem = only_error(validate_workflow(graph(**{"2": inputs}), OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "2",
        "ImageScale",
        "width",
        kind,
    )
    assert "16384" in problem.message or "0" in problem.message


def test_a_float_out_of_range_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"4": {"blend_factor": 1.5}}), OBJECT_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == (
        "4",
        "blend_factor",
        "value_bigger_than_max",
    )


def test_an_int_given_a_float_is_a_warning_because_the_server_truncates() -> None:
    problems = validate_workflow(graph(**{"2": {"width": 64.9}}), OBJECT_INFO)
    assert errors(problems) == []
    (warning,) = problems
    assert (warning.node_id, warning.input_name, warning.type, warning.severity) == (
        "2",
        "width",
        "int_given_float",
        "warning",
    )
    assert "truncates it to 64" in warning.message
    assert check_workflow(graph(**{"2": {"width": 64.9}}), OBJECT_INFO) == problems


def test_a_non_numeric_int_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"2": {"width": "abc"}}), OBJECT_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == (
        "2",
        "width",
        "invalid_input_type",
    )


def test_a_link_to_a_missing_node_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"5": {"images": ["42", 0]}}), OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "5",
        "SaveImage",
        "images",
        "link_to_missing_node",
    )
    assert "node '42'" in problem.message


def test_a_link_naming_a_node_by_number_says_ids_are_strings() -> None:
    problem = only_error(validate_workflow(graph(**{"5": {"images": [4, 0]}}), OBJECT_INFO))
    assert problem.type == "link_to_missing_node"
    assert 'write "4"' in problem.message


def test_a_link_to_a_missing_output_slot_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"5": {"images": ["4", 3]}}), OBJECT_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == (
        "5",
        "images",
        "link_to_missing_output",
    )
    assert "node 4 (ImageBlend), which has 1 output" in problem.message


def test_a_type_mismatch_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"11": {"video": ["9", 0]}}), OBJECT_INFO))
    assert (problem.node_id, problem.class_type, problem.input_name, problem.type) == (
        "11",
        "SaveVideo",
        "video",
        "return_type_mismatch",
    )
    assert "expects VIDEO" in problem.message and "gives IMAGE" in problem.message


def test_widget_inputs_may_be_fed_by_links_of_the_same_type() -> None:
    # The captured graph feeds EmptyImage's INT widgets from GetImageSize (nodes 7 -> 8).
    assert PROMPT["8"]["inputs"]["width"] == ["7", 0]
    mismatch = graph(**{"8": {"width": ["6", 0]}})  # IMAGE into an INT widget
    problem = only_error(validate_workflow(mismatch, OBJECT_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == (
        "8",
        "width",
        "return_type_mismatch",
    )


def test_a_wildcard_type_matches_anything() -> None:
    info = copy.deepcopy(OBJECT_INFO)
    info["ImageInvert"]["input"]["required"]["image"] = ["*"]
    assert errors(validate_workflow(graph(**{"3": {"image": ["7", 0]}}), info)) == []


def test_a_literal_for_a_connection_input_is_refused() -> None:
    problem = only_error(validate_workflow(graph(**{"3": {"image": "astronaut.png"}}), OBJECT_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == ("3", "image", "link_required")


def test_load_image_values_are_not_checked_against_its_enum() -> None:
    # The enum lists only top-level input files; "sub/folder/name.png" still runs.
    uploaded = graph(**{"1": {"image": "trulience/demo/seg-000.png"}})
    assert validate_workflow(uploaded, OBJECT_INFO) == []


def test_an_unknown_input_is_a_warning_since_the_server_ignores_it() -> None:
    problems = validate_workflow(graph(**{"5": {"bogus_extra": 1}}), OBJECT_INFO)
    (warning,) = problems
    assert (warning.node_id, warning.input_name, warning.severity) == (
        "5",
        "bogus_extra",
        "warning",
    )


def test_a_graph_without_an_output_node_is_refused() -> None:
    no_outputs = {k: v for k, v in PROMPT.items() if k in ("1", "2", "3")}
    problem = only_error(validate_workflow(no_outputs, OBJECT_INFO))
    assert problem.type == "prompt_no_outputs"


UI_FORMAT = {
    "last_node_id": 3,
    "last_link_id": 2,
    "nodes": [
        {"id": 1, "type": "LoadImage", "widgets_values": ["astronaut.png", "image"]},
        {"id": 2, "type": "SaveImage", "widgets_values": ["ComfyUI"]},
    ],
    "links": [[1, 1, 0, 2, 0, "IMAGE"]],
    "groups": [],
    "config": {},
    "extra": {},
    "version": 0.4,
}


def test_a_ui_format_workflow_is_refused_with_how_to_export_the_api_format() -> None:
    (problem,) = validate_workflow(UI_FORMAT, OBJECT_INFO)
    assert problem.type == "ui_format"
    assert "Workflow > Export (API)" in problem.message
    assert "Save (API Format)" in problem.message
    with pytest.raises(WorkflowValidationError, match="Export \\(API\\)"):
        check_api_format(UI_FORMAT)


def test_a_post_prompt_body_is_refused_with_a_hint() -> None:
    (problem,) = validate_workflow({"prompt": PROMPT, "client_id": "x"}, OBJECT_INFO)
    assert "'prompt' key" in problem.message


def test_the_raising_variant_lists_every_error() -> None:
    broken = graph(**{"2": {"width": 99999, "upscale_method": "sinc"}, "11": {"video": ["9", 0]}})
    with pytest.raises(WorkflowValidationError) as raised:
        check_workflow(broken, OBJECT_INFO)
    error = raised.value
    assert {(p.node_id, p.input_name) for p in error.problems} == {
        ("2", "width"),
        ("2", "upscale_method"),
        ("11", "video"),
    }
    assert "3 problems" in str(error)
    assert "node 11 (SaveVideo) input 'video'" in str(error)


# -- models -------------------------------------------------------------------------------

MODEL_INFO = {**OBJECT_INFO, **LOADERS}


def model_graph(
    ckpt: str = "wan2.1_i2v_480p.safetensors", lora: str = "eileen_face_v3.safetensors"
):
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {
            "class_type": "LoraLoader",
            "inputs": {
                "model": ["1", 0],
                "clip": ["1", 1],
                "lora_name": lora,
                "strength_model": 0.8,
                "strength_clip": 0.8,
            },
        },
        "3": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x-UltraSharp.pth"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "x"}},
    }


def test_extract_models_lists_every_model_file_with_its_folder() -> None:
    refs = extract_models(model_graph(), MODEL_INFO)
    assert [(r.node_id, r.input_name, r.filename, r.folder) for r in refs] == [
        ("1", "ckpt_name", "wan2.1_i2v_480p.safetensors", "checkpoints"),
        ("2", "lora_name", "eileen_face_v3.safetensors", "loras"),
        ("3", "model_name", "4x-UltraSharp.pth", None),
    ]
    assert extract_models(PROMPT, OBJECT_INFO) == []


def test_models_present_on_the_worker_pass() -> None:
    models = {
        "checkpoints": ["wan2.1_i2v_480p.safetensors"],
        "loras": ["eileen_face_v3.safetensors"],
        "upscale_models": ["4x-UltraSharp.pth"],
    }
    assert validate_workflow(model_graph(), MODEL_INFO, models) == []
    assert validate_workflow(model_graph(), MODEL_INFO) == []


def test_a_model_missing_from_the_worker_lists_is_refused() -> None:
    models = {"checkpoints": ["wan2.1_i2v_480p.safetensors"], "loras": [], "upscale_models": []}
    problems = errors(validate_workflow(model_graph(), MODEL_INFO, models))
    assert [(p.node_id, p.class_type, p.input_name, p.type) for p in problems] == [
        ("2", "LoraLoader", "lora_name", "missing_model"),
        ("3", "UpscaleModelLoader", "model_name", "missing_model"),
    ]
    assert "'eileen_face_v3.safetensors' is not on the worker (not in models/loras)" in str(
        problems[0]
    )


def test_a_model_missing_from_the_schema_enum_is_a_missing_model() -> None:
    problem = only_error(validate_workflow(model_graph(ckpt="sdxl_base.safetensors"), MODEL_INFO))
    assert (problem.node_id, problem.input_name, problem.type) == (
        "1",
        "ckpt_name",
        "missing_model",
    )
    assert "'sdxl_base.safetensors' is not on the worker" in problem.message


def test_model_paths_from_windows_workers_match() -> None:
    models = {"checkpoints": ["sd15\\v1-5-pruned-emaonly.safetensors"], "loras": ["x"]}
    problems = validate_workflow(
        model_graph(ckpt="sd15/v1-5-pruned-emaonly.safetensors"), MODEL_INFO, models
    )
    assert [p.input_name for p in errors(problems)] == ["lora_name", "model_name"]


# -- slots ----------------------------------------------------------------------------------

SLOTS = {"seed_image": ["1", "image"], "fps": ["10", "fps"], "video": "11", "last_frame": "5"}


def test_slots_bind_into_a_copy_and_cast_to_the_declared_type() -> None:
    original = copy.deepcopy(PROMPT)
    slots = parse_slots({**SLOTS, "width": [["2", "width"], ["8", "width"]]}, PROMPT, OBJECT_INFO)
    bound = bind_inputs(PROMPT, slots, {"fps": 12, "width": 320.0}, OBJECT_INFO)
    assert bound["10"]["inputs"]["fps"] == 12.0 and isinstance(bound["10"]["inputs"]["fps"], float)
    assert bound["2"]["inputs"]["width"] == 320 and isinstance(bound["2"]["inputs"]["width"], int)
    assert bound["8"]["inputs"]["width"] == 320
    assert original == PROMPT  # never the caller's graph


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"video": "11"}, "required slot(s) missing: seed_image"),
        ({"seed_image": ["1", "image"]}, "required slot(s) missing: video"),
        ({**SLOTS, "seed_image": ["99", "image"]}, "slot seed_image: node 99 is not in"),
        ({**SLOTS, "seed": ["2", "noise_seed"]}, "node 2 (ImageScale) has no input 'noise_seed'"),
        ({**SLOTS, "video": "77"}, "slot video: node '77' is not in the workflow"),
        ({**SLOTS, "video": "10"}, "node 10 (CreateVideo) is not an output node"),
        ({**SLOTS, "seeed": ["2", "width"]}, "unknown slot(s) seeed"),
        ({**SLOTS, "prompt": "6"}, "slot prompt: expected [node_id, input_name]"),
    ],
)
def test_bad_slots_are_refused_with_a_clear_message(slots: dict, message: str) -> None:
    with pytest.raises(SlotError) as raised:
        parse_slots(slots, PROMPT, OBJECT_INFO)
    assert message in str(raised.value)


def test_missing_slots_are_a_permanent_backend_error() -> None:
    from trulience.generation.backend import PermanentBackendError

    with pytest.raises(PermanentBackendError, match="params\\['slots'\\]"):
        parse_slots(None, PROMPT)


# Our names for what the server reports as an exception or a whole-prompt error.
_SERVER_TYPES = {
    "exception_during_validation": {"link_to_missing_node", "link_to_missing_output"},
    "invalid_prompt": {"unknown_class_type", "missing_class_type"},
}


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="the shared captures are not beside the repo")
def test_every_captured_rejection_is_found_locally_on_the_same_nodes() -> None:
    """The real server's verdicts (captures/errors/validation) agree with ours, node for
    node, except a missing LoadImage file, which only the worker can know about."""
    compared = 0
    for path in sorted((CAPTURES / "errors" / "validation").glob("*.json")):
        capture = json.loads(path.read_text())
        prompt = (capture["request"].get("json") or {}).get("prompt")
        answer = capture["response"]["body"].get("json")
        if not isinstance(prompt, dict) or not prompt or not isinstance(answer, dict):
            continue
        server = {
            (node_id, error["type"])
            for node_id, entry in (answer.get("node_errors") or {}).items()
            for error in entry["errors"]
        }
        error = answer.get("error") or {}
        if not server and error.get("type") == "invalid_prompt":
            server = {(error["details"].split("#")[1].rstrip("'"), "invalid_prompt")}
        elif not server and error.get("type"):
            server = {(None, error["type"])}
        if path.name == "loadimage_missing_file.json":
            assert validate_workflow(prompt, OBJECT_INFO) == []
            continue
        ours = {(p.node_id, p.type) for p in errors(validate_workflow(prompt, OBJECT_INFO))}
        assert {n for n, _ in ours} == {n for n, _ in server}, path.name
        for node_id, kind in server:
            names = _SERVER_TYPES.get(kind, {kind})
            assert any(n == node_id and t in names for n, t in ours), (path.name, kind, ours)
        compared += 1
    assert compared >= 15
