"""Node classes of the fake ComfyUI: their object_info schemas and CPU implementations.

The schemas of the real nodes are what a real ComfyUI 0.3.64 served
(`captures/object_info/<Node>.json`, copied verbatim into CAPTURED_OBJECT_INFO).
ImageFromBatch was not captured; its schema is written the way ComfyUI's `node_info()`
renders a V1 node, from `comfy_extras/nodes_images.py` at the captured commit.
TrulienceAnimatic is ours: it does not exist in ComfyUI and stands in for a GPU
image-to-video model, so a workflow can produce a real short segment on CPU.

The implementations follow ComfyUI's node code, on numpy instead of torch:
IMAGE is float32 [batch, height, width, 3] in 0..1, MASK float32 [batch, height, width],
VIDEO a VideoComponents, INT a Python int.
"""

import hashlib
import json
import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps, ImageSequence
from PIL.PngImagePlugin import PngInfo

CAPTURED_OBJECT_INFO: dict[str, dict[str, Any]] = {
    "LoadImage": {
        "input": {"required": {"image": [["example.png"], {"image_upload": True}]}},
        "input_order": {"required": ["image"]},
        "output": ["IMAGE", "MASK"],
        "output_is_list": [False, False],
        "output_name": ["IMAGE", "MASK"],
        "name": "LoadImage",
        "display_name": "Load Image",
        "description": "",
        "python_module": "nodes",
        "category": "image",
        "output_node": False,
    },
    "ImageScale": {
        "input": {
            "required": {
                "image": ["IMAGE"],
                "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]],
                "width": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 1}],
                "height": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 1}],
                "crop": [["disabled", "center"]],
            }
        },
        "input_order": {"required": ["image", "upscale_method", "width", "height", "crop"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "ImageScale",
        "display_name": "Upscale Image",
        "description": "",
        "python_module": "nodes",
        "category": "image/upscaling",
        "output_node": False,
    },
    "ImageInvert": {
        "input": {"required": {"image": ["IMAGE"]}},
        "input_order": {"required": ["image"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "ImageInvert",
        "display_name": "Invert Image",
        "description": "",
        "python_module": "nodes",
        "category": "image",
        "output_node": False,
    },
    "RepeatImageBatch": {
        "input": {
            "required": {
                "image": ["IMAGE"],
                "amount": ["INT", {"default": 1, "min": 1, "max": 4096}],
            }
        },
        "input_order": {"required": ["image", "amount"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "RepeatImageBatch",
        "display_name": "RepeatImageBatch",
        "description": "",
        "python_module": "comfy_extras.nodes_images",
        "category": "image/batch",
        "output_node": False,
    },
    "GetImageSize": {
        "input": {"required": {"image": ["IMAGE"]}, "hidden": {"unique_id": "UNIQUE_ID"}},
        "input_order": {"required": ["image"], "hidden": ["unique_id"]},
        "output": ["INT", "INT", "INT"],
        "output_is_list": [False, False, False],
        "output_name": ["width", "height", "batch_size"],
        "name": "GetImageSize",
        "display_name": "Get Image Size",
        "description": "Returns width and height of the image, and passes it through unchanged.",
        "python_module": "comfy_extras.nodes_images",
        "category": "image",
        "output_node": False,
    },
    "EmptyImage": {
        "input": {
            "required": {
                "width": ["INT", {"default": 512, "min": 1, "max": 16384, "step": 1}],
                "height": ["INT", {"default": 512, "min": 1, "max": 16384, "step": 1}],
                "batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}],
                "color": [
                    "INT",
                    {"default": 0, "min": 0, "max": 16777215, "step": 1, "display": "color"},
                ],
            }
        },
        "input_order": {"required": ["width", "height", "batch_size", "color"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "name": "EmptyImage",
        "display_name": "EmptyImage",
        "description": "",
        "python_module": "nodes",
        "category": "image",
        "output_node": False,
    },
    "ImageBlend": {
        "input": {
            "required": {
                "image1": ["IMAGE", {}],
                "image2": ["IMAGE", {}],
                "blend_factor": ["FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01}],
                "blend_mode": [
                    "COMBO",
                    {
                        "multiselect": False,
                        "options": [
                            "normal",
                            "multiply",
                            "screen",
                            "overlay",
                            "soft_light",
                            "difference",
                        ],
                    },
                ],
            }
        },
        "input_order": {"required": ["image1", "image2", "blend_factor", "blend_mode"]},
        "output": ["IMAGE"],
        "output_is_list": [False],
        "output_name": ["IMAGE"],
        "output_tooltips": [None],
        "name": "ImageBlend",
        "display_name": None,
        "description": "",
        "python_module": "comfy_extras.nodes_post_processing",
        "category": "image/postprocessing",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "CreateVideo": {
        "input": {
            "required": {
                "images": ["IMAGE", {"tooltip": "The images to create a video from."}],
                "fps": ["FLOAT", {"default": 30.0, "min": 1.0, "max": 120.0, "step": 1.0}],
            },
            "optional": {"audio": ["AUDIO", {"tooltip": "The audio to add to the video."}]},
        },
        "input_order": {"required": ["images", "fps"], "optional": ["audio"]},
        "output": ["VIDEO"],
        "output_is_list": [False],
        "output_name": ["VIDEO"],
        "output_tooltips": [None],
        "name": "CreateVideo",
        "display_name": "Create Video",
        "description": "Create a video from images.",
        "python_module": "comfy_extras.nodes_video",
        "category": "image/video",
        "output_node": False,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "SaveImage": {
        "input": {
            "required": {
                "images": ["IMAGE", {"tooltip": "The images to save."}],
                "filename_prefix": [
                    "STRING",
                    {
                        "default": "ComfyUI",
                        "tooltip": "The prefix for the file "
                        "to save. This may include "
                        "formatting information "
                        "such as %date:yyyy-MM-dd% "
                        "or %Empty Latent "
                        "Image.width% to include "
                        "values from nodes.",
                    },
                ],
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        },
        "input_order": {
            "required": ["images", "filename_prefix"],
            "hidden": ["prompt", "extra_pnginfo"],
        },
        "output": [],
        "output_is_list": [],
        "output_name": [],
        "name": "SaveImage",
        "display_name": "Save Image",
        "description": "Saves the input images to your ComfyUI output directory.",
        "python_module": "nodes",
        "category": "image",
        "output_node": True,
    },
    "PreviewImage": {
        "input": {
            "required": {"images": ["IMAGE"]},
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        },
        "input_order": {"required": ["images"], "hidden": ["prompt", "extra_pnginfo"]},
        "output": [],
        "output_is_list": [],
        "output_name": [],
        "name": "PreviewImage",
        "display_name": "Preview Image",
        "description": "Saves the input images to your ComfyUI output directory.",
        "python_module": "nodes",
        "category": "image",
        "output_node": True,
    },
    "SaveVideo": {
        "input": {
            "required": {
                "video": ["VIDEO", {"tooltip": "The video to save."}],
                "filename_prefix": [
                    "STRING",
                    {
                        "tooltip": "The prefix for the file "
                        "to save. This may include "
                        "formatting information "
                        "such as %date:yyyy-MM-dd% "
                        "or %Empty Latent "
                        "Image.width% to include "
                        "values from nodes.",
                        "default": "video/ComfyUI",
                        "multiline": False,
                    },
                ],
                "format": [
                    "COMBO",
                    {
                        "tooltip": "The format to save the video as.",
                        "default": "auto",
                        "multiselect": False,
                        "options": ["auto", "mp4"],
                    },
                ],
                "codec": [
                    "COMBO",
                    {
                        "tooltip": "The codec to use for the video.",
                        "default": "auto",
                        "multiselect": False,
                        "options": ["auto", "h264"],
                    },
                ],
            },
            "hidden": {"prompt": ["PROMPT"], "extra_pnginfo": ["EXTRA_PNGINFO"]},
        },
        "input_order": {
            "required": ["video", "filename_prefix", "format", "codec"],
            "hidden": ["prompt", "extra_pnginfo"],
        },
        "output": [],
        "output_is_list": [],
        "output_name": [],
        "output_tooltips": [],
        "name": "SaveVideo",
        "display_name": "Save Video",
        "description": "Saves the input images to your ComfyUI output directory.",
        "python_module": "comfy_extras.nodes_video",
        "category": "image/video",
        "output_node": True,
        "deprecated": False,
        "experimental": False,
        "api_node": False,
    },
    "SaveWEBM": {
        "input": {
            "required": {
                "images": ["IMAGE", {}],
                "filename_prefix": ["STRING", {"default": "ComfyUI", "multiline": False}],
                "codec": ["COMBO", {"multiselect": False, "options": ["vp9", "av1"]}],
                "fps": ["FLOAT", {"default": 24.0, "min": 0.01, "max": 1000.0, "step": 0.01}],
                "crf": [
                    "FLOAT",
                    {
                        "tooltip": "Higher crf means lower quality with a "
                        "smaller file size, lower crf means "
                        "higher quality higher filesize.",
                        "default": 32.0,
                        "min": 0,
                        "max": 63.0,
                        "step": 1,
                    },
                ],
            },
            "hidden": {"prompt": ["PROMPT"], "extra_pnginfo": ["EXTRA_PNGINFO"]},
        },
        "input_order": {
            "required": ["images", "filename_prefix", "codec", "fps", "crf"],
            "hidden": ["prompt", "extra_pnginfo"],
        },
        "output": [],
        "output_is_list": [],
        "output_name": [],
        "output_tooltips": [],
        "name": "SaveWEBM",
        "display_name": None,
        "description": "",
        "python_module": "comfy_extras.nodes_video",
        "category": "image/video",
        "output_node": True,
        "deprecated": False,
        "experimental": True,
        "api_node": False,
    },
}


IMAGE_FROM_BATCH_INFO: dict[str, Any] = {
    "input": {
        "required": {
            "image": ["IMAGE"],
            "batch_index": ["INT", {"default": 0, "min": 0, "max": 4095}],
            "length": ["INT", {"default": 1, "min": 1, "max": 4096}],
        }
    },
    "input_order": {"required": ["image", "batch_index", "length"]},
    "output": ["IMAGE"],
    "output_is_list": [False],
    "output_name": ["IMAGE"],
    "name": "ImageFromBatch",
    "display_name": "ImageFromBatch",
    "description": "",
    "python_module": "comfy_extras.nodes_images",
    "category": "image/batch",
    "output_node": False,
}

ANIMATIC_MOTIONS = ["zoom_in", "pan_left", "pan_right", "still"]

# The two core loaders, in the shape ComfyUI renders them (tests/data/comfyui/README.md);
# their file lists are the fake's model folders at the time of asking.
MODEL_LOADERS_INFO: dict[str, dict[str, Any]] = {
    name: info
    for name, info in json.loads(
        (
            Path(__file__).resolve().parent.parent / "data/comfyui/model_loaders_object_info.json"
        ).read_text()
    ).items()
    if name in ("CheckpointLoaderSimple", "LoraLoader")
}
# folder_paths.supported_pt_extensions, and the folders that list other files (0.3.64): an
# empty set lists every file, {""} only files without an extension.
SUPPORTED_PT_EXTENSIONS = frozenset(
    {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
)
MODEL_FOLDER_EXTENSIONS: dict[str, frozenset[str]] = {
    "configs": frozenset({".yaml"}),
    "diffusers": frozenset({"folder"}),
    "custom_nodes": frozenset(),
    "classifiers": frozenset({""}),
}

TRULIENCE_ANIMATIC_INFO: dict[str, Any] = {
    "input": {
        "required": {
            "image": ["IMAGE", {"tooltip": "The source image; frame 0 reproduces it exactly."}],
            "frames": ["INT", {"default": 16, "min": 1, "max": 1024}],
            "seed": [
                "INT",
                {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True},
            ],
            "motion": [ANIMATIC_MOTIONS, {"default": "zoom_in"}],
        },
        "optional": {
            "strength": ["FLOAT", {"default": 0.08, "min": 0.0, "max": 0.5, "step": 0.01}],
            "model": ["MODEL", {"tooltip": "A loaded model (LoRAs applied); drawn the same."}],
        },
    },
    "input_order": {
        "required": ["image", "frames", "seed", "motion"],
        "optional": ["strength", "model"],
    },
    "output": ["IMAGE"],
    "output_is_list": [False],
    "output_name": ["IMAGE"],
    "name": "TrulienceAnimatic",
    "display_name": "Trulience Animatic (test fake)",
    "description": "Test double for an image-to-video model: a gentle deterministic zoom or pan "
    "over the source image. Not a ComfyUI node; exists only in the fake server.",
    "python_module": "custom_nodes.trulience_fake",
    "category": "Trulience/fake",
    "output_node": False,
}


# --- data passed between nodes -------------------------------------------------------------


@dataclass(frozen=True)
class VideoComponents:
    """The VIDEO value CreateVideo hands to SaveVideo (ComfyUI's VideoFromComponents)."""

    images: np.ndarray
    frame_rate: Fraction


@dataclass(frozen=True)
class Folders:
    """The server's input/output/temp folders and ComfyUI's rules for naming files in them."""

    input: Path
    output: Path
    temp: Path
    # model folder -> the files in it (the fake keeps names, not weights); the host's own dict
    models: dict[str, list[str]] = field(default_factory=dict)

    def model_files(self, folder: str) -> list[str]:
        """folder_paths.get_filename_list: the folder's files with its extensions, sorted."""
        extensions = MODEL_FOLDER_EXTENSIONS.get(folder, SUPPORTED_PT_EXTENSIONS)
        return sorted(
            f
            for f in self.models.get(folder, [])
            if not extensions or os.path.splitext(f)[1].lower() in extensions
        )

    def by_type(self, type_name: str | None) -> Path | None:
        """folder_paths.get_directory_by_type: None for an unknown type."""
        return {"output": self.output, "temp": self.temp, "input": self.input}.get(type_name or "")

    def annotated(self, name: str) -> tuple[str, Path | None]:
        """Split "file.png [output]" into the name and the folder the annotation names."""
        for suffix, base in (
            ("[output]", self.output),
            ("[input]", self.input),
            ("[temp]", self.temp),
        ):
            if name.endswith(suffix):
                return name[: -len(suffix) - 1], base
        return name, None

    def annotated_path(self, name: str) -> str:
        """Where a LoadImage value points; plain names (and subpaths) are under input/."""
        name, base = self.annotated(name)
        return os.path.join(base or self.input, name)

    def save_path(
        self, filename_prefix: str, output_dir: Path, width: int = 0, height: int = 0
    ) -> tuple[str, str, int, str]:
        """folder_paths.get_save_image_path: (folder, basename, next counter, subfolder).

        A "/" in the prefix becomes the subfolder; the counter continues from the files
        already on disk for this folder and prefix.
        """
        prefix = filename_prefix.replace("%width%", str(width)).replace("%height%", str(height))
        subfolder = os.path.dirname(os.path.normpath(prefix))
        filename = os.path.basename(os.path.normpath(prefix))
        out_root = str(output_dir)
        full_output_folder = os.path.join(out_root, subfolder)
        if os.path.commonpath((out_root, os.path.abspath(full_output_folder))) != out_root:
            raise Exception(  # ComfyUI raises a bare Exception here
                "**** ERROR: Saving image outside the output folder is not allowed."
            )

        def counter_of(existing: str) -> tuple[int, str]:
            head = existing[: len(filename) + 1]
            try:
                digits = int(existing[len(filename) + 1 :].split("_")[0])
            except ValueError:
                digits = 0
            return digits, head

        try:
            counter = (
                max(
                    c
                    for c, head in map(counter_of, os.listdir(full_output_folder))
                    if os.path.normcase(head[:-1]) == os.path.normcase(filename)
                    and head[-1:] == "_"
                )
                + 1
            )
        except ValueError:
            counter = 1
        except FileNotFoundError:
            os.makedirs(full_output_folder, exist_ok=True)
            counter = 1
        return full_output_folder, filename, counter, subfolder


@dataclass
class NodeContext:
    """What a running node may see besides its inputs."""

    node_id: str
    folders: Folders
    preview_prefix: str = ""  # PreviewImage's random "_temp_xxxxx", kept per node object
    send_text: Callable[[str, str], None] = lambda node_id, text: None


@dataclass
class NodeOutput:
    """A node's result: its output values by slot, and what it shows in the UI/history."""

    values: tuple[Any, ...] = ()
    ui: dict[str, list[Any]] | None = None


@dataclass(frozen=True)
class NodeClass:
    """One node type: schema, implementation, and the optional hooks ComfyUI calls."""

    name: str
    info: dict[str, Any]
    run: Callable[..., NodeOutput]
    is_v3: bool = False  # new node API: RETURN_TYPES is a list, hidden inputs are not kwargs
    validate: Callable[[Folders, Any], bool | str] | None = None  # VALIDATE_INPUTS(image)
    is_changed: Callable[[Folders, Any], Any] | None = None  # IS_CHANGED(image)
    schema_for: Callable[[Folders], dict[str, Any]] | None = field(default=None, repr=False)

    def schema(self, folders: Folders) -> dict[str, Any]:
        """The object_info definition as served now (LoadImage lists the current input files)."""
        return self.schema_for(folders) if self.schema_for else self.info

    def input_types(self, folders: Folders) -> dict[str, dict[str, Any]]:
        """INPUT_TYPES(): required/optional/hidden dicts of [type, options]."""
        return self.schema(folders)["input"]

    @property
    def return_types(self) -> tuple[Any, ...] | list[Any]:
        """RETURN_TYPES; a list on V3 nodes, so a bad slot reads 'list index out of range'."""
        output = self.info["output"]
        return list(output) if self.is_v3 else tuple(output)

    @property
    def output_node(self) -> bool:
        return bool(self.info["output_node"])

    @property
    def takes_unique_id(self) -> bool:
        """Nodes with a hidden UNIQUE_ID input get their node id in their cache key."""
        return "UNIQUE_ID" in self.info["input"].get("hidden", {}).values()


# --- image helpers -------------------------------------------------------------------------

_RESAMPLE = {
    "nearest-exact": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def common_upscale(
    images: np.ndarray, width: int, height: int, method: str, crop: str
) -> np.ndarray:
    """comfy.utils.common_upscale on [B,H,W,C]: optional centre crop to the new aspect, resize.

    Resizes each channel as a float ('F') image so values keep their precision.
    """
    _, old_height, old_width, _ = images.shape
    if crop == "center":
        old_aspect = old_width / old_height
        new_aspect = width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_width - old_width * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_height - old_height * (old_aspect / new_aspect)) / 2)
        images = images[:, y : old_height - y, x : old_width - x, :]
    resample = _RESAMPLE[method]
    out = np.empty((images.shape[0], height, width, images.shape[3]), np.float32)
    for b, frame in enumerate(images):
        for c in range(frame.shape[2]):
            channel = Image.fromarray(np.ascontiguousarray(frame[:, :, c], dtype=np.float32))
            out[b, :, :, c] = np.asarray(channel.resize((width, height), resample))
    return out


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """How ComfyUI turns an IMAGE frame into pixels: 255*x clipped, truncated (not rounded)."""
    return np.clip(255.0 * frame, 0, 255).astype(np.uint8)


def _json_texts(prompt: Any, extra_pnginfo: dict[str, Any] | None) -> dict[str, str]:
    texts = {}
    if prompt is not None:
        texts["prompt"] = json.dumps(prompt)
    for key, value in (extra_pnginfo or {}).items():
        texts[key] = json.dumps(value)
    return texts


# --- node implementations ------------------------------------------------------------------


def _image_is_changed(folders: Folders, image: str) -> str:
    with open(folders.annotated_path(image), "rb") as f:
        return hashlib.sha256(f.read()).digest().hex()


def _image_validate(folders: Folders, image: str) -> bool | str:
    name, base = folders.annotated(image)
    if not os.path.exists(os.path.join(base or folders.input, name)):
        return f"Invalid image file: {image}"
    return True


def _load_image_schema(folders: Folders) -> dict[str, Any]:
    # Like ComfyUI: only files at the top of input/, only image types; subfolders are absent.
    files = [f for f in os.listdir(folders.input) if (folders.input / f).is_file()]
    images = sorted(
        f for f in files if (mimetypes.guess_type(f, strict=False)[0] or "").startswith("image/")
    )
    info = json.loads(json.dumps(CAPTURED_OBJECT_INFO["LoadImage"]))
    info["input"]["required"]["image"][0] = images
    return info


def load_image(ctx: NodeContext, image: str) -> NodeOutput:
    """LoadImage: every frame of the file as IMAGE, its alpha (inverted) as MASK."""
    img = Image.open(ctx.folders.annotated_path(image))
    images, masks = [], []
    size = None
    for frame in ImageSequence.Iterator(img):
        frame = ImageOps.exif_transpose(frame)
        if frame.mode == "I":
            frame = frame.point(lambda v: v * (1 / 255))
        rgb = frame.convert("RGB")
        if size is None:
            size = rgb.size
        if rgb.size != size:
            continue
        images.append(np.asarray(rgb).astype(np.float32) / 255.0)
        if "A" in frame.getbands():
            masks.append(1.0 - np.asarray(frame.getchannel("A")).astype(np.float32) / 255.0)
        else:
            masks.append(np.zeros((64, 64), np.float32))
    if len(images) > 1 and img.format != "MPO":
        return NodeOutput((np.stack(images), np.stack(masks)))
    return NodeOutput((images[0][None], masks[0][None]))


def image_scale(
    ctx: NodeContext, image: np.ndarray, upscale_method: str, width: int, height: int, crop: str
) -> NodeOutput:
    """ImageScale ("Upscale Image"); a 0 width or height keeps the aspect ratio."""
    if width == 0 and height == 0:
        return NodeOutput((image,))
    if width == 0:
        width = max(1, round(image.shape[2] * height / image.shape[1]))
    elif height == 0:
        height = max(1, round(image.shape[1] * width / image.shape[2]))
    return NodeOutput((common_upscale(image, width, height, upscale_method, crop),))


def image_invert(ctx: NodeContext, image: np.ndarray) -> NodeOutput:
    """ImageInvert: 1 - x."""
    return NodeOutput((1.0 - image,))


def repeat_image_batch(ctx: NodeContext, image: np.ndarray, amount: int) -> NodeOutput:
    """RepeatImageBatch: the batch repeated `amount` times."""
    return NodeOutput((np.tile(image, (amount, 1, 1, 1)),))


def image_from_batch(
    ctx: NodeContext, image: np.ndarray, batch_index: int, length: int
) -> NodeOutput:
    """ImageFromBatch: `length` frames from `batch_index`, both clamped to the batch."""
    # ComfyUI clamps: batch_index=4095 means "the last frame", whatever the batch size.
    batch_index = min(image.shape[0] - 1, batch_index)
    length = min(image.shape[0] - batch_index, length)
    return NodeOutput((image[batch_index : batch_index + length].copy(),))


def get_image_size(ctx: NodeContext, image: np.ndarray, unique_id: str | None = None) -> NodeOutput:
    """GetImageSize: width, height, batch size; shows them as a binary TEXT frame."""
    batch_size, height, width = image.shape[0], image.shape[1], image.shape[2]
    if unique_id:
        ctx.send_text(unique_id, f"width: {width}, height: {height}\n batch size: {batch_size}")
    return NodeOutput((width, height, batch_size))


def empty_image(
    ctx: NodeContext, width: int, height: int, batch_size: int = 1, color: int = 0
) -> NodeOutput:
    """EmptyImage: a batch filled with the 0xRRGGBB colour."""
    rgb = [((color >> 16) & 0xFF) / 0xFF, ((color >> 8) & 0xFF) / 0xFF, (color & 0xFF) / 0xFF]
    out = np.empty((batch_size, height, width, 3), np.float32)
    out[...] = np.asarray(rgb, np.float32)
    return NodeOutput((out,))


def _blend(img1: np.ndarray, img2: np.ndarray, mode: str) -> np.ndarray:
    if mode == "normal":
        return img2
    if mode == "multiply":
        return img1 * img2
    if mode == "screen":
        return 1 - (1 - img1) * (1 - img2)
    if mode == "overlay":
        return np.where(img1 <= 0.5, 2 * img1 * img2, 1 - 2 * (1 - img1) * (1 - img2))
    if mode == "soft_light":
        g = np.where(img1 <= 0.25, ((16 * img1 - 12) * img1 + 4) * img1, np.sqrt(img1))
        return np.where(
            img2 <= 0.5,
            img1 - (1 - 2 * img2) * img1 * (1 - img1),
            img1 + (2 * img2 - 1) * (g - img1),
        )
    if mode == "difference":
        return img1 - img2
    # COMBO-dialect inputs are not checked at submission, so a bad mode fails here, at run time.
    raise ValueError(f"Unsupported blend mode: {mode}")


def image_blend(
    ctx: NodeContext,
    image1: np.ndarray,
    image2: np.ndarray,
    blend_factor: float,
    blend_mode: str,
) -> NodeOutput:
    """ImageBlend: image2 resized to image1 if needed, blended, clamped to 0..1."""
    if image1.shape != image2.shape:
        image2 = common_upscale(image2, image1.shape[2], image1.shape[1], "bicubic", "center")
    blended = image1 * (1 - blend_factor) + _blend(image1, image2, blend_mode) * blend_factor
    return NodeOutput((np.clip(blended, 0, 1).astype(np.float32),))


def create_video(ctx: NodeContext, images: np.ndarray, fps: float, audio: Any = None) -> NodeOutput:
    """CreateVideo: images + frame rate as a VIDEO value (audio ignored)."""
    return NodeOutput((VideoComponents(images=images, frame_rate=Fraction(fps)),))


def _save_images(
    ctx: NodeContext,
    images: np.ndarray,
    filename_prefix: str,
    prompt: Any,
    extra_pnginfo: dict[str, Any] | None,
    *,
    temp: bool,
) -> NodeOutput:
    folder = ctx.folders.temp if temp else ctx.folders.output
    full_folder, filename, counter, subfolder = ctx.folders.save_path(
        filename_prefix, folder, images[0].shape[1], images[0].shape[0]
    )
    results = []
    for batch_number, image in enumerate(images):
        metadata = PngInfo()
        for key, text in _json_texts(prompt, extra_pnginfo).items():
            metadata.add_text(key, text)
        name = filename.replace("%batch_num%", str(batch_number))
        file = f"{name}_{counter:05}_.png"
        Image.fromarray(to_uint8(image)).save(
            os.path.join(full_folder, file), pnginfo=metadata, compress_level=1 if temp else 4
        )
        results.append(
            {"filename": file, "subfolder": subfolder, "type": "temp" if temp else "output"}
        )
        counter += 1
    return NodeOutput(ui={"images": results})


def save_image(
    ctx: NodeContext,
    images: np.ndarray,
    filename_prefix: str = "ComfyUI",
    prompt: Any = None,
    extra_pnginfo: dict[str, Any] | None = None,
) -> NodeOutput:
    """SaveImage: one PNG per frame in output/, prompt and extra_pnginfo as tEXt."""
    return _save_images(ctx, images, filename_prefix, prompt, extra_pnginfo, temp=False)


def preview_image(
    ctx: NodeContext,
    images: np.ndarray,
    prompt: Any = None,
    extra_pnginfo: dict[str, Any] | None = None,
) -> NodeOutput:
    """PreviewImage: like SaveImage, into temp/ as ComfyUI_temp_xxxxx_NNNNN_.png."""
    prefix = "ComfyUI" + ctx.preview_prefix
    return _save_images(ctx, images, prefix, prompt, extra_pnginfo, temp=True)


def save_video(
    ctx: NodeContext,
    video: VideoComponents,
    filename_prefix: str,
    format: str,  # ComfyUI's input name (shadows the builtin)
    codec: str,
    prompt: Any = None,
    extra_pnginfo: dict[str, Any] | None = None,
) -> NodeOutput:
    """SaveVideo + VideoFromComponents.save_to: H.264 yuv420p MP4 (odd sizes fail, as real)."""
    height, width = video.images.shape[1], video.images.shape[2]
    full_folder, filename, counter, subfolder = ctx.folders.save_path(
        filename_prefix, ctx.folders.output, width, height
    )
    metadata = dict(extra_pnginfo or {})
    if prompt is not None:
        metadata["prompt"] = prompt
    if format not in ("auto", "mp4"):
        raise ValueError("Only MP4 format is supported for now")
    if codec not in ("auto", "h264"):
        raise ValueError("Only H264 codec is supported for now")
    file = f"{filename}_{counter:05}_.mp4"
    path = os.path.join(full_folder, file)
    with av.open(path, mode="w", options={"movflags": "use_metadata_tags"}) as output:
        for key, value in metadata.items():
            output.metadata[key] = json.dumps(value)
        stream = output.add_stream("h264", rate=Fraction(round(video.frame_rate * 1000), 1000))
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for frame in video.images:
            av_frame = av.VideoFrame.from_ndarray(to_uint8(frame), format="rgb24")
            output.mux(stream.encode(av_frame.reformat(format="yuv420p")))
        output.mux(stream.encode(None))
    result = {"filename": file, "subfolder": subfolder, "type": "output"}
    return NodeOutput(ui={"images": [result], "animated": [True]})


def save_webm(
    ctx: NodeContext,
    images: np.ndarray,
    filename_prefix: str,
    codec: str,
    fps: float,
    crf: float,
    prompt: Any = None,
    extra_pnginfo: dict[str, Any] | None = None,
) -> NodeOutput:
    """SaveWEBM: vp9 (libvpx) or av1 (SVT-AV1); vp9 accepts odd frame sizes."""
    full_folder, filename, counter, subfolder = ctx.folders.save_path(
        filename_prefix, ctx.folders.output, images[0].shape[1], images[0].shape[0]
    )
    file = f"{filename}_{counter:05}_.webm"
    codec_name = {"vp9": "libvpx-vp9", "av1": "libsvtav1"}[codec]
    container = av.open(os.path.join(full_folder, file), mode="w")
    for key, text in _json_texts(prompt, extra_pnginfo).items():
        container.metadata[key] = text
    stream = container.add_stream(codec_name, rate=Fraction(round(fps * 1000), 1000))
    stream.width = images.shape[-2]
    stream.height = images.shape[-3]
    stream.pix_fmt = "yuv420p10le" if codec == "av1" else "yuv420p"
    stream.bit_rate = 0
    stream.options = {"crf": str(crf)}
    if codec == "av1":
        stream.options["preset"] = "6"
    for frame in images:
        av_frame = av.VideoFrame.from_ndarray(to_uint8(frame[..., :3]), format="rgb24")
        for packet in stream.encode(av_frame):
            container.mux(packet)
    container.mux(stream.encode())
    container.close()
    result = {"filename": file, "subfolder": subfolder, "type": "output"}
    return NodeOutput(ui={"images": [result], "animated": [True]})


def animatic_frames(
    image: np.ndarray, frames: int, seed: int, motion: str, strength: float = 0.08
) -> np.ndarray:
    """The frames TrulienceAnimatic renders from the first image of a batch.

    Frame 0 is the source image exactly; later frames zoom into (or pan across) it along a
    path fixed by the seed, sampled bilinearly. Public so tests can recompute the pixels.
    """
    source = np.asarray(image[0], np.float32)
    height, width = source.shape[:2]
    drift_x, drift_y = np.random.default_rng(seed).uniform(-1.0, 1.0, size=2)
    out = np.empty((frames, height, width, source.shape[2]), np.float32)
    out[0] = source
    for i in range(1, frames):
        t = i / (frames - 1)
        size = 1.0 if motion == "still" else 1.0 / (1.0 + strength * t)
        margin = (1.0 - size) / 2  # how far the window centre may move and stay inside
        if motion == "pan_left":
            centre_x, centre_y = 0.5 - margin, 0.5
        elif motion == "pan_right":
            centre_x, centre_y = 0.5 + margin, 0.5
        else:
            centre_x, centre_y = 0.5 + drift_x * margin, 0.5 + drift_y * margin
        xs = (centre_x - size / 2) * width + (np.arange(width) + 0.5) * size - 0.5
        ys = (centre_y - size / 2) * height + (np.arange(height) + 0.5) * size - 0.5
        out[i] = _bilinear(source, np.clip(ys, 0, height - 1), np.clip(xs, 0, width - 1))
    return out


def _bilinear(source: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, source.shape[0] - 1)
    x1 = np.minimum(x0 + 1, source.shape[1] - 1)
    wy = (ys - y0)[:, None, None].astype(np.float32)
    wx = (xs - x0)[None, :, None].astype(np.float32)
    top = source[y0][:, x0] * (1 - wx) + source[y0][:, x1] * wx
    bottom = source[y1][:, x0] * (1 - wx) + source[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def trulience_animatic(
    ctx: NodeContext,
    image: np.ndarray,
    frames: int,
    seed: int,
    motion: str,
    strength: float = 0.08,
    model: "LoadedModel | None" = None,
) -> NodeOutput:
    """TrulienceAnimatic (ours): see animatic_frames(); a model, when linked, only proves
    the loaders ran."""
    return NodeOutput((animatic_frames(image, frames, seed, motion, strength),))


@dataclass(frozen=True)
class LoadedModel:
    """What a loader hands on (MODEL, CLIP or VAE): the files loaded into it, in order. The
    fake has no weights; the names are what a workflow and a worker's folders agree on."""

    kind: str
    files: tuple[str, ...]


def _loader_schema(name: str, input_name: str, folder: str) -> Callable[[Folders], dict]:
    """The loader's object_info with its file list read from the folder now, as ComfyUI
    renders it on every call."""

    def schema(folders: Folders) -> dict[str, Any]:
        info = json.loads(json.dumps(MODEL_LOADERS_INFO[name]))
        info["input"]["required"][input_name][0] = folders.model_files(folder)
        return info

    return schema


def checkpoint_loader_simple(ctx: NodeContext, ckpt_name: str) -> NodeOutput:
    """CheckpointLoaderSimple: MODEL, CLIP and VAE of the checkpoint."""
    loaded = (f"checkpoints/{ckpt_name}",)
    return NodeOutput(tuple(LoadedModel(kind, loaded) for kind in ("MODEL", "CLIP", "VAE")))


def lora_loader(
    ctx: NodeContext,
    model: LoadedModel,
    clip: LoadedModel,
    lora_name: str,
    strength_model: float,
    strength_clip: float,
) -> NodeOutput:
    """LoraLoader: the model and clip with the LoRA applied."""
    lora = f"loras/{lora_name}"
    return NodeOutput(
        (LoadedModel("MODEL", (*model.files, lora)), LoadedModel("CLIP", (*clip.files, lora)))
    )


def _node(name: str, run: Callable[..., NodeOutput], **hooks: Any) -> NodeClass:
    info = CAPTURED_OBJECT_INFO.get(name) or MODEL_LOADERS_INFO.get(name)
    if info is None:
        info = {
            "ImageFromBatch": IMAGE_FROM_BATCH_INFO,
            "TrulienceAnimatic": TRULIENCE_ANIMATIC_INFO,
        }[name]
    # Nodes on the new API carry these keys in object_info; V1 nodes omit them.
    return NodeClass(name=name, info=info, run=run, is_v3="api_node" in info, **hooks)


NODE_CLASSES: dict[str, NodeClass] = {
    node.name: node
    for node in (
        _node(
            "LoadImage",
            load_image,
            validate=_image_validate,
            is_changed=_image_is_changed,
            schema_for=_load_image_schema,
        ),
        _node("ImageScale", image_scale),
        _node("ImageInvert", image_invert),
        _node("RepeatImageBatch", repeat_image_batch),
        _node("ImageFromBatch", image_from_batch),
        _node("GetImageSize", get_image_size),
        _node("EmptyImage", empty_image),
        _node("ImageBlend", image_blend),
        _node("CreateVideo", create_video),
        _node("SaveImage", save_image),
        _node("PreviewImage", preview_image),
        _node("SaveVideo", save_video),
        _node("SaveWEBM", save_webm),
        _node("TrulienceAnimatic", trulience_animatic),
        _node(
            "CheckpointLoaderSimple",
            checkpoint_loader_simple,
            schema_for=_loader_schema("CheckpointLoaderSimple", "ckpt_name", "checkpoints"),
        ),
        _node(
            "LoraLoader",
            lora_loader,
            schema_for=_loader_schema("LoraLoader", "lora_name", "loras"),
        ),
    )
}
