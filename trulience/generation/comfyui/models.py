"""The model files a workflow loads: which inputs read model folders, and the references
found in a graph (for the asset registry and the worker's inventory check)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.api_format import api_format_problems, is_link
from trulience.generation.comfyui.schemas import InputSpec, parse_schemas

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


@dataclass(frozen=True)
class ModelRef:
    """A model file a workflow loads: which node and input, the file, and its folder when
    known ("checkpoints", "loras", ...)."""

    node_id: str
    class_type: str
    input_name: str
    filename: str
    folder: str | None


def looks_like_model(name: Any) -> bool:
    return isinstance(name, str) and name.lower().endswith(MODEL_EXTENSIONS)


def normalise(name: Any) -> Any:
    # Windows workers list files under subfolders with backslashes.
    return name.replace("\\", "/") if isinstance(name, str) else name


def model_folder(spec: InputSpec, class_type: str, value: Any = None) -> str | None:
    """The model folder an enum input reads from, or None when it is no model input.
    Named loader inputs map to their folder; other inputs whose options (or value) look like
    model files count as models of an unknown folder ("")."""
    if spec.type != "COMBO" or spec.upload:
        return None
    folder = known_folder(class_type, spec.name)
    if folder:
        return folder
    if any(looks_like_model(o) for o in spec.options or ()):
        return ""
    return None


def known_folder(class_type: str, input_name: str) -> str | None:
    """The model folder a core loader's input reads from ("ckpt_name" -> "checkpoints")."""
    return _CLASS_FOLDERS.get((class_type, input_name)) or MODEL_INPUT_FOLDERS.get(input_name)


def inventory_of(models: Mapping[str, Iterable[str]] | None) -> dict[str, set[str]]:
    if models is None:
        return {}
    return {folder: {normalise(f) for f in files} for folder, files in models.items()}


def extract_models(graph: Any, object_info: Mapping[str, Any]) -> list[ModelRef]:
    """The model files `graph` references (for the asset registry), in node order."""
    if api_format_problems(graph):
        return []
    schemas = parse_schemas(object_info)
    found = []
    for node_id, node in graph.items():
        schema = schemas.get(node["class_type"])
        for name, value in node.get("inputs", {}).items():
            if is_link(value) or not isinstance(value, str):
                continue
            spec = schema.spec(name) if schema else None
            if spec is not None and schema is not None:
                folder = model_folder(spec, schema.class_type, value)
            else:  # a node the catalogue does not describe: the loader input names say
                folder = known_folder(node["class_type"], name)
            if folder is None and not looks_like_model(value):
                continue
            found.append(
                ModelRef(
                    node_id=str(node_id),
                    class_type=node["class_type"],
                    input_name=name,
                    filename=normalise(value),
                    folder=folder or None,
                )
            )
    return found
