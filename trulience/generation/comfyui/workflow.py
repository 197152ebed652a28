"""API-format workflows: format checks, validation against a worker's /object_info, the
model files a workflow references, and binding a segment request into the graph by slots.

ComfyUI runs the "API format": `{node_id: {"class_type": str, "inputs": {name: value}}}`,
where a value is a literal or a link `[source_node_id, output_index]`. Validation here
follows the server's own rules (PROTOCOL.md section 9) so that a producer learns what is
wrong when registering a workflow, not when a GPU segment fails.
"""

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.errors import Problem, SlotError, WorkflowValidationError

__all__ = [
    "INPUT_SLOTS",
    "OUTPUT_SLOTS",
    "REQUIRED_SLOTS",
    "FixedSize",
    "InputSpec",
    "ModelRef",
    "NodeSchema",
    "Problem",
    "Slots",
    "api_format_problems",
    "bind_inputs",
    "check_api_format",
    "check_workflow",
    "extract_models",
    "fixed_sizes",
    "is_link",
    "is_ui_format",
    "parse_slots",
    "registration_warnings",
    "size_disagreements",
    "validate_workflow",
]

UI_FORMAT_HELP = (
    "this is a UI-format workflow (the file ComfyUI's Save writes, with top-level 'nodes' and "
    "'links' arrays), not the API format a worker runs; open it in ComfyUI and choose "
    "Workflow > Export (API) (older versions: enable dev mode in the settings and use "
    "'Save (API Format)'), then register that file"
)

# Extensions ComfyUI lists as model files (folder_paths.supported_pt_extensions, plus GGUF
# and ONNX, common in custom loaders).
MODEL_EXTENSIONS = (
    ".safetensors",
    ".ckpt",
    ".pt",
    ".pt2",
    ".pth",
    ".bin",
    ".pkl",
    ".sft",
    ".gguf",
    ".onnx",
)

# The model folder each well-known loader input reads from (core nodes). Other inputs count
# as model inputs when their options look like model files.
MODEL_INPUT_FOLDERS = {
    "ckpt_name": "checkpoints",
    "lora_name": "loras",
    "vae_name": "vae",
    "unet_name": "diffusion_models",
    "clip_name": "text_encoders",
    "clip_name1": "text_encoders",
    "clip_name2": "text_encoders",
    "clip_name3": "text_encoders",
    "clip_name4": "text_encoders",
    "control_net_name": "controlnet",
    "upscale_model_name": "upscale_models",
    "style_model_name": "style_models",
    "gligen_name": "gligen",
    "hypernetwork_name": "hypernetworks",
    "photomaker_model_name": "photomaker",
    "audio_encoder_name": "audio_encoders",
    "model_patch_name": "model_patches",
}
_CLASS_FOLDERS = {("CLIPVisionLoader", "clip_name"): "clip_vision"}

# Config flags of inputs that take an uploaded file: the server validates those itself
# (LoadImage accepts "sub/folder/name.png", which its enum never lists; PROTOCOL section 4).
_UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload", "upload")

_POST_BODY_KEYS = {"prompt", "client_id", "prompt_id", "extra_data", "front", "number"}

_PRIMITIVES = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")


# -- node schemas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """One declared input: its type ("INT", "IMAGE", "COMBO", ...), enum options if any,
    numeric bounds, and whether the server checks the value itself (upload widgets)."""

    name: str
    type: str
    options: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    upload: bool = False
    multiselect: bool = False

    @classmethod
    def parse(cls, name: str, config: Any) -> "InputSpec":
        """Read either dialect: `[[options...], {...}]` (older nodes) or
        `["COMBO", {"options": [...]}]` (newer node API), and `["INT", {min, max}]`."""
        if isinstance(config, str):
            config = [config]
        if not isinstance(config, list | tuple) or not config:
            return cls(name=name, type="*")
        head = config[0]
        extra = config[1] if len(config) > 1 and isinstance(config[1], dict) else {}
        upload = any(extra.get(flag) for flag in _UPLOAD_FLAGS)
        if isinstance(head, list | tuple):
            return cls(name=name, type="COMBO", options=tuple(head), upload=upload)
        kind = str(head)
        options = None
        if kind == "COMBO":
            options = tuple(extra.get("options") or ())
        return cls(
            name=name,
            type=kind,
            options=options,
            min=_number(extra.get("min")),
            max=_number(extra.get("max")),
            upload=upload,
            multiselect=bool(extra.get("multiselect")),
        )


@dataclass(frozen=True)
class NodeSchema:
    """A node class as /object_info describes it."""

    class_type: str
    required: dict[str, InputSpec]
    optional: dict[str, InputSpec]
    hidden: frozenset[str]
    outputs: tuple[Any, ...]
    output_node: bool

    @classmethod
    def parse(cls, class_type: str, info: Mapping[str, Any]) -> "NodeSchema":
        inputs = info.get("input") or {}

        def specs(section: str) -> dict[str, InputSpec]:
            declared = inputs.get(section) or {}
            return {name: InputSpec.parse(name, conf) for name, conf in declared.items()}

        return cls(
            class_type=class_type,
            required=specs("required"),
            optional=specs("optional"),
            hidden=frozenset(inputs.get("hidden") or {}),
            outputs=tuple(info.get("output") or ()),
            output_node=bool(info.get("output_node")),
        )

    def spec(self, name: str) -> InputSpec | None:
        return self.required.get(name) or self.optional.get(name)


def _schemas(object_info: Mapping[str, Any]) -> dict[str, NodeSchema]:
    return {
        name: NodeSchema.parse(name, info)
        for name, info in object_info.items()
        if isinstance(info, Mapping)
    }


# -- format ---------------------------------------------------------------------------------


def is_ui_format(graph: Any) -> bool:
    """True for the editor's save format (top-level "nodes"/"links" arrays, "version", ...)."""
    if not isinstance(graph, Mapping):
        return False
    if isinstance(graph.get("nodes"), list) or isinstance(graph.get("links"), list):
        return True
    # A node is an object; the editor's "version" is a number.
    return "last_node_id" in graph or isinstance(graph.get("version"), int | float | str)


def is_link(value: Any) -> bool:
    """A link is any list to the server (PROTOCOL section 3): `[node_id, output_index]`."""
    return isinstance(value, list | tuple)


def api_format_problems(graph: Any) -> list[Problem]:
    """Why `graph` is not an API-format workflow (empty when it is one)."""
    if is_ui_format(graph):
        return [Problem(None, None, None, "ui_format", UI_FORMAT_HELP)]
    if not isinstance(graph, Mapping):
        return [
            Problem(
                None,
                None,
                None,
                "not_api_format",
                f"a workflow is a JSON object of nodes, got {type(graph).__name__}",
            )
        ]
    if isinstance(graph.get("prompt"), Mapping) and set(graph) <= _POST_BODY_KEYS:
        return [
            Problem(
                None,
                None,
                None,
                "not_api_format",
                "this looks like a POST /prompt body; register the object under its 'prompt' key",
            )
        ]
    if not graph:
        return [Problem(None, None, None, "prompt_no_outputs", "the workflow has no nodes")]
    problems = []
    for node_id, node in graph.items():
        if not isinstance(node, Mapping):
            problems.append(
                Problem(
                    str(node_id),
                    None,
                    None,
                    "invalid_node",
                    f"a node is an object with class_type and inputs, got {type(node).__name__}",
                )
            )
            continue
        class_type = node.get("class_type")
        if not isinstance(class_type, str) or not class_type:
            problems.append(
                Problem(
                    str(node_id),
                    None,
                    None,
                    "missing_class_type",
                    "the node has no class_type, so the server refuses the whole prompt",
                )
            )
        inputs = node.get("inputs", {})
        if not isinstance(inputs, Mapping):
            problems.append(
                Problem(
                    str(node_id),
                    class_type if isinstance(class_type, str) else None,
                    None,
                    "invalid_node",
                    f"'inputs' must be an object of input names, got {type(inputs).__name__}",
                )
            )
    return problems


def check_api_format(graph: Any) -> None:
    """Raise WorkflowValidationError unless `graph` is an API-format workflow."""
    problems = api_format_problems(graph)
    if problems:
        raise WorkflowValidationError("the workflow is not in ComfyUI's API format", problems)


# -- validation -----------------------------------------------------------------------------


def validate_workflow(
    graph: Any,
    object_info: Mapping[str, Any],
    models: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Every problem a worker with this `object_info` would find in `graph` (and a few it
    would let through silently, as warnings); `models` maps a model folder ("checkpoints",
    "loras", ...) to the files a worker has, as GET /models/<folder> lists them."""
    problems = api_format_problems(graph)
    if problems:
        return problems
    schemas = _schemas(object_info)
    inventory = _inventory(models)
    has_output = False
    for node_id, node in graph.items():
        node_id = str(node_id)
        class_type = node["class_type"]
        schema = schemas.get(class_type)
        if schema is None:
            problems.append(
                Problem(
                    node_id,
                    class_type,
                    None,
                    "unknown_class_type",
                    f"node class {class_type!r} does not exist on this worker "
                    "(a custom node that is not installed, or a misspelt name)",
                )
            )
            continue
        has_output |= schema.output_node
        inputs = node.get("inputs", {})
        for name in schema.required:
            if name not in inputs:
                problems.append(
                    Problem(
                        node_id,
                        class_type,
                        name,
                        "required_input_missing",
                        "required input is missing",
                    )
                )
        for name, value in inputs.items():
            spec = schema.spec(name)
            if spec is None:
                if name not in schema.hidden:
                    problems.append(
                        Problem(
                            node_id,
                            class_type,
                            name,
                            "unknown_input",
                            f"{class_type} declares no input {name!r}; the worker ignores it",
                            severity="warning",
                        )
                    )
                continue
            if is_link(value):
                problems.extend(_link_problems(graph, schemas, node_id, class_type, spec, value))
            else:
                problems.extend(
                    _value_problems(node_id, class_type, spec, value, inventory, models is not None)
                )
    if not has_output and not any(p.type == "unknown_class_type" for p in problems):
        problems.append(
            Problem(
                None,
                None,
                None,
                "prompt_no_outputs",
                "the workflow has no output node (SaveImage, SaveVideo, ...), so nothing runs",
            )
        )
    return problems


def check_workflow(
    graph: Any,
    object_info: Mapping[str, Any],
    models: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Raise WorkflowValidationError if `graph` has errors; return its warnings otherwise."""
    problems = validate_workflow(graph, object_info, models)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        noun = "problem" if len(errors) == 1 else "problems"
        raise WorkflowValidationError(f"the workflow has {len(errors)} {noun}", errors)
    return problems


def _link_problems(
    graph: Mapping[str, Any],
    schemas: Mapping[str, NodeSchema],
    node_id: str,
    class_type: str,
    spec: InputSpec,
    link: Any,
) -> list[Problem]:
    name = spec.name
    if len(link) != 2:
        return [
            Problem(
                node_id,
                class_type,
                name,
                "bad_linked_input",
                f"a link is [node_id, output_index], got {list(link)!r}",
            )
        ]
    source_id, index = link
    if not isinstance(source_id, str) or source_id not in graph:
        hint = ""
        if not isinstance(source_id, str) and str(source_id) in graph:
            hint = f' (node ids are strings: write "{source_id}")'
        return [
            Problem(
                node_id,
                class_type,
                name,
                "link_to_missing_node",
                f"links to node {source_id!r}, which is not in the workflow{hint}",
                details={"linked_node": list(link)},
            )
        ]
    source = graph[source_id]
    source_schema = schemas.get(source.get("class_type"))
    if source_schema is None:
        return []  # the unknown class is reported on its own node
    outputs = source_schema.outputs
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(outputs):
        return [
            Problem(
                node_id,
                class_type,
                name,
                "link_to_missing_output",
                f"links to output {index!r} of node {source_id} ({source_schema.class_type}), "
                f"which has {len(outputs)} output(s)",
                details={"linked_node": list(link)},
            )
        ]
    received = outputs[index]
    if not types_match(received, spec):
        return [
            Problem(
                node_id,
                class_type,
                name,
                "return_type_mismatch",
                f"expects {spec.type} but is linked to output {index} of node {source_id} "
                f"({source_schema.class_type}), which gives {_type_name(received)}",
                details={"linked_node": list(link), "received_type": _type_name(received)},
            )
        ]
    return []


def types_match(received: Any, spec: InputSpec) -> bool:
    """The server's rule: equal types, "*" on either side, or comma-separated unions that
    share a type; an enum input takes only COMBO (or list) outputs."""
    if received == "*" or spec.type == "*":
        return True
    if spec.type == "COMBO":
        return isinstance(received, list | tuple) or received == "COMBO"
    if not isinstance(received, str):
        return False
    given = {t.strip() for t in received.split(",")}
    wanted = {t.strip() for t in spec.type.split(",")}
    return bool(given & wanted)


def _type_name(output_type: Any) -> str:
    return "COMBO" if isinstance(output_type, list | tuple) else str(output_type)


def _value_problems(
    node_id: str,
    class_type: str,
    spec: InputSpec,
    value: Any,
    inventory: dict[str, set[str]],
    have_inventory: bool,
) -> list[Problem]:
    name = spec.name

    def problem(kind: str, message: str, severity: str = "error") -> list[Problem]:
        return [
            Problem(
                node_id,
                class_type,
                name,
                kind,
                message,
                severity=severity,
                details={"received_value": value},
            )
        ]

    if spec.type in ("INT", "FLOAT"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return problem(
                "invalid_input_type", f"expects {spec.type}, got {type(value).__name__} {value!r}"
            )
        try:
            number = int(value) if spec.type == "INT" else float(value)
        except (TypeError, ValueError):
            return problem("invalid_input_type", f"expects {spec.type}, got {value!r}")
        found = []
        if spec.type == "INT" and isinstance(value, float) and value != number:
            found += problem(
                "int_given_float",
                f"expects INT, got {value!r}; the worker truncates it to {number}",
                severity="warning",
            )
        if spec.type == "FLOAT" and not math.isfinite(number):
            return problem("invalid_input_type", f"expects a finite number, got {value!r}")
        if spec.min is not None and number < spec.min:
            found += problem(
                "value_smaller_than_min", f"value {value!r} is below the minimum {spec.min:g}"
            )
        if spec.max is not None and number > spec.max:
            found += problem(
                "value_bigger_than_max", f"value {value!r} is above the maximum {spec.max:g}"
            )
        return found
    if spec.type == "COMBO":
        if spec.upload:
            return []  # the server resolves uploaded-file names itself (subfolders, [input])
        folder = model_folder(spec, class_type, value)
        if folder is not None or (isinstance(value, str) and _looks_like_model(value)):
            if have_inventory:
                if folder in inventory:
                    files = inventory[folder]
                else:  # a folder the caller did not list, or none known: search them all
                    files = set().union(*inventory.values())
                if _normalise(value) not in files:
                    where = f"models/{folder}" if folder else "any model folder"
                    return problem(
                        "missing_model",
                        f"model file {value!r} is not on the worker (not in {where})",
                    )
                return []
            if spec.options is not None and value not in spec.options:
                return problem(
                    "missing_model",
                    f"model file {value!r} is not on the worker; it has {_some(spec.options)}",
                )
            return []
        if spec.options is not None and value not in spec.options:
            return problem("value_not_in_list", f"{value!r} is not one of {_some(spec.options)}")
        return []
    if spec.type in ("STRING", "BOOLEAN"):
        return []
    if spec.type not in _PRIMITIVES:
        return problem(
            "link_required",
            f"{spec.type} comes from another node: link it as [node_id, output_index], "
            f"got the literal {value!r}",
        )
    return []


def _some(options: tuple[Any, ...], limit: int = 8) -> str:
    if not options:
        return "no options at all"
    shown = ", ".join(repr(o) for o in options[:limit])
    more = f" and {len(options) - limit} more" if len(options) > limit else ""
    return f"[{shown}{more}]"


# -- models ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    """A model file a workflow loads: which node and input, the file, and its folder when
    known ("checkpoints", "loras", ...)."""

    node_id: str
    class_type: str
    input_name: str
    filename: str
    folder: str | None


def _looks_like_model(name: Any) -> bool:
    return isinstance(name, str) and name.lower().endswith(MODEL_EXTENSIONS)


def _normalise(name: Any) -> Any:
    # Windows workers list files under subfolders with backslashes.
    return name.replace("\\", "/") if isinstance(name, str) else name


def model_folder(spec: InputSpec, class_type: str, value: Any = None) -> str | None:
    """The model folder an enum input reads from, or None when it is no model input.
    Named loader inputs map to their folder; other inputs whose options (or value) look like
    model files count as models of an unknown folder ("")."""
    if spec.type != "COMBO" or spec.upload:
        return None
    folder = _CLASS_FOLDERS.get((class_type, spec.name)) or MODEL_INPUT_FOLDERS.get(spec.name)
    if folder:
        return folder
    if any(_looks_like_model(o) for o in spec.options or ()):
        return ""
    return None


def _inventory(models: Mapping[str, Iterable[str]] | None) -> dict[str, set[str]]:
    if models is None:
        return {}
    return {folder: {_normalise(f) for f in files} for folder, files in models.items()}


def extract_models(graph: Any, object_info: Mapping[str, Any]) -> list[ModelRef]:
    """The model files `graph` references (for the asset registry), in node order."""
    if api_format_problems(graph):
        return []
    schemas = _schemas(object_info)
    found = []
    for node_id, node in graph.items():
        schema = schemas.get(node["class_type"])
        for name, value in node.get("inputs", {}).items():
            if is_link(value) or not isinstance(value, str):
                continue
            spec = schema.spec(name) if schema else None
            folder = model_folder(spec, schema.class_type, value) if spec and schema else None
            if folder is None and not _looks_like_model(value):
                if spec is not None or name not in MODEL_INPUT_FOLDERS:
                    continue
                folder = MODEL_INPUT_FOLDERS[name]
            found.append(
                ModelRef(
                    node_id=str(node_id),
                    class_type=node["class_type"],
                    input_name=name,
                    filename=_normalise(value),
                    folder=folder or None,
                )
            )
    return found


# -- slots ----------------------------------------------------------------------------------

INPUT_SLOTS = (
    "seed_image",
    "prompt",
    "negative_prompt",
    "seed",
    "frames",
    "width",
    "height",
    "fps",
)
OUTPUT_SLOTS = ("video", "last_frame")
REQUIRED_SLOTS = ("seed_image", "video")


@dataclass(frozen=True)
class Slots:
    """Where a segment request goes in a workflow: input slot name -> (node id, input name)
    targets, and the node ids of the video and (optional) lossless last-frame outputs."""

    inputs: dict[str, tuple[tuple[str, str], ...]]
    video: str
    last_frame: str | None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {k: [list(t) for t in v] for k, v in self.inputs.items()}
        return {**shown, "video": self.video, "last_frame": self.last_frame}


def parse_slots(
    raw: Any, graph: Mapping[str, Any], object_info: Mapping[str, Any] | None = None
) -> Slots:
    """Read `request.params["slots"]` against `graph`; raise SlotError naming each slot that
    is missing, malformed, or points at a node or input the workflow lacks."""
    if not isinstance(raw, Mapping):
        raise SlotError(
            "the request has no slots: params['slots'] must map slot names to "
            "[node_id, input_name] (inputs) or a node id (outputs), e.g. "
            '{"seed_image": ["1", "image"], "video": "9", "last_frame": "11"}'
        )
    schemas = _schemas(object_info or {})
    errors = []
    unknown = sorted(set(raw) - set(INPUT_SLOTS) - set(OUTPUT_SLOTS))
    if unknown:
        errors.append(
            f"unknown slot(s) {', '.join(unknown)}; known: {', '.join(INPUT_SLOTS + OUTPUT_SLOTS)}"
        )
    missing = [name for name in REQUIRED_SLOTS if raw.get(name) in (None, "", [])]
    if missing:
        errors.append(f"required slot(s) missing: {', '.join(missing)}")
    inputs: dict[str, tuple[tuple[str, str], ...]] = {}
    for name in INPUT_SLOTS:
        if raw.get(name) in (None, "", []):
            continue
        targets = _slot_targets(raw[name])
        if targets is None:
            errors.append(
                f"slot {name}: expected [node_id, input_name] (or a list of them), "
                f"got {raw[name]!r}"
            )
            continue
        for node_id, input_name in targets:
            node = graph.get(node_id)
            if not isinstance(node, Mapping):
                errors.append(f"slot {name}: node {node_id} is not in the workflow")
                continue
            schema = schemas.get(node.get("class_type"))
            declared = schema is not None and schema.spec(input_name) is not None
            if input_name not in (node.get("inputs") or {}) and not declared:
                errors.append(
                    f"slot {name}: node {node_id} ({node.get('class_type')}) has no input "
                    f"{input_name!r}"
                )
        inputs[name] = targets
    outputs: dict[str, str | None] = {}
    for name in OUTPUT_SLOTS:
        value = raw.get(name)
        if value in (None, "", []):
            outputs[name] = None
            continue
        node_id = _slot_node(value)
        node = graph.get(node_id) if node_id is not None else None
        if not isinstance(node, Mapping):
            errors.append(f"slot {name}: node {value!r} is not in the workflow")
            continue
        schema = schemas.get(node.get("class_type"))
        if schema is not None and not schema.output_node:
            errors.append(
                f"slot {name}: node {node_id} ({node.get('class_type')}) is not an output "
                "node, so the worker lists no files for it"
            )
        outputs[name] = node_id
    if errors:
        raise SlotError("the workflow's slots do not fit: " + "; ".join(errors))
    return Slots(inputs=inputs, video=str(outputs["video"]), last_frame=outputs["last_frame"])


def _slot_targets(value: Any) -> tuple[tuple[str, str], ...] | None:
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, list | tuple) for v in value)
    ):
        pairs = [_slot_pair(v) for v in value]
        return None if any(p is None for p in pairs) else tuple(p for p in pairs if p)
    pair = _slot_pair(value)
    return None if pair is None else (pair,)


def _slot_pair(value: Any) -> tuple[str, str] | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str | int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    ):
        return str(value[0]), value[1]
    return None


def _slot_node(value: Any) -> str | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    return None


def bind_inputs(
    graph: Mapping[str, Any],
    slots: Slots,
    values: Mapping[str, Any],
    object_info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A deep copy of `graph` with each slot's value written into its targets (the caller's
    graph is never changed); values are cast to the declared INT/FLOAT/STRING type."""
    bound = copy.deepcopy(dict(graph))
    schemas = _schemas(object_info or {})
    for name, targets in slots.inputs.items():
        if name not in values:
            continue
        for node_id, input_name in targets:
            node = bound[node_id]
            schema = schemas.get(node.get("class_type"))
            spec = schema.spec(input_name) if schema else None
            node.setdefault("inputs", {})[input_name] = _cast(values[name], spec)
    return bound


def _cast(value: Any, spec: InputSpec | None) -> Any:
    if spec is None:
        return value
    if spec.type == "INT" and isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    if spec.type == "FLOAT" and isinstance(value, int | float):
        return float(value)
    if spec.type == "STRING":
        return str(value)
    return value


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- registration warnings --------------------------------------------------------------------

# Inputs that commonly take a sampler's seed, to point a producer at the one to declare.
_SEED_INPUTS = ("seed", "noise_seed")


@dataclass(frozen=True)
class FixedSize:
    """A width and/or height written into a node as a literal, not bound to a size slot:
    the frames have this size whatever the scene type asks for."""

    node_id: str
    class_type: str
    width: int | None
    height: int | None

    def __str__(self) -> str:
        size = f"{self.width if self.width is not None else '?'}x"
        size += f"{self.height if self.height is not None else '?'}"
        return f"node {self.node_id} ({self.class_type}) fixes {size}"


def _size_literal(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fixed_sizes(graph: Mapping[str, Any], slots: Slots | None) -> list[FixedSize]:
    """Nodes whose `width`/`height` inputs are integer literals the size slots do not bind."""
    bound = set()
    if slots is not None:
        for name in ("width", "height"):
            bound.update(slots.inputs.get(name, ()))
    found = []
    for node_id, node in graph.items():
        if not isinstance(node, Mapping):
            continue
        inputs = node.get("inputs") or {}
        width, height = (
            None if (str(node_id), name) in bound else _size_literal(inputs.get(name))
            for name in ("width", "height")
        )
        if width is not None or height is not None:
            found.append(FixedSize(str(node_id), str(node.get("class_type")), width, height))
    return found


def size_disagreements(
    fixed: Iterable[FixedSize], width: int, height: int, user: str
) -> list[Problem]:
    """A warning for each fixed size that differs from a scene type's `width` x `height`
    (`user` names the scene type in the message)."""
    problems = []
    for size in fixed:
        if (size.width is None or size.width == width) and (
            size.height is None or size.height == height
        ):
            continue
        problems.append(
            Problem(
                size.node_id,
                size.class_type,
                "width" if size.width not in (None, width) else "height",
                "fixed_size_disagrees",
                f"{size.width}x{size.height} is written into the node, but {user} asks for "
                f"{width}x{height}: its segments come out at the node's size (and fail QA's "
                "size check); bind the node's width and height to the width/height slots, "
                "or change one of the two sizes",
                severity="warning",
                details={"fixed": [size.width, size.height], "scene": [width, height]},
            )
        )
    return problems


def registration_warnings(graph: Mapping[str, Any], slots: Slots) -> list[Problem]:
    """What registration warns about without refusing: a missing seed slot (every retake
    then sends the same graph, and ComfyUI answers it from its cache with the same video)."""
    warnings = []
    if "seed" not in slots.inputs:
        candidates = [
            f'["{node_id}", "{name}"]'
            for node_id, node in graph.items()
            if isinstance(node, Mapping)
            for name in _SEED_INPUTS
            if name in (node.get("inputs") or {}) and not is_link(node["inputs"][name])
        ]
        hint = f" (this workflow has {', '.join(candidates)})" if candidates else ""
        warnings.append(
            Problem(
                None,
                None,
                None,
                "no_seed_slot",
                "no seed slot: every retake of a segment sends the same graph, so the worker "
                "answers it from its cache at once with the same video and QA refuses it "
                'again; declare one, e.g. "seed": [node_id, "seed"]' + hint,
                severity="warning",
            )
        )
    return warnings
