"""Face detection: boxes, scores and insightface's five landmarks in an RGB image.

Two detectors: OpenCV Zoo's YuNet run by `cv2.FaceDetectorYN` (the default; insightface
would route its 12 outputs to SCRFD and decode them wrongly) and insightface's own SCRFD class
for production packs such as buffalo_l's `det_10g.onnx`.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from insightface.model_zoo import get_model
from insightface.model_zoo.scrfd import SCRFD

from trulience.errors import TrulienceError
from trulience.faces.models import FaceModelError

# YuNet scores on the test images: real faces 0.89-0.94 (the cameraman, in grey, is the
# lowest), non-faces at most 0.39 (cat 0.25, coffee cup 0.39), so 0.6 keeps a margin on both
# sides. OpenCV's demo uses 0.9, which would lose the cameraman.
YUNET_SCORE_THRESHOLD = 0.6
YUNET_NMS_THRESHOLD = 0.3
YUNET_TOP_K = 5000
# Detection cost grows with pixel count: a 4000 px photo is searched at this long side and the
# results scaled back. Faces then need roughly 10 px at working size to be found.
WORKING_SIZE = 640

SCRFD_SCORE_THRESHOLD = 0.5
SCRFD_INPUT_SIZE = (640, 640)


@contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's own log held to errors for one call. Loading YuNet makes OpenCV 5's DNN
    warn on stderr that its new graph engine ignores the preferred target (a notice about
    its internals, printed by every face command and the demo); errors still show."""
    logging = cv2.utils.logging
    # One thread at a time: two interleaved calls would restore each other's level.
    with _QUIET_LOCK:
        previous = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        try:
            yield
        finally:
            logging.setLogLevel(previous)


_QUIET_LOCK = threading.Lock()


class InvalidFaceImage(TrulienceError):
    """An image handed to face analysis is not an RGB uint8 array."""


@dataclass(frozen=True, eq=False)
class DetectedFace:
    """One face: box (x, y, w, h) in pixels of the analysed image (it may cross the image edge
    for a face cut by the border), detector score, and landmarks as a (5, 2) float32 array in
    insightface's order: right eye, left eye, nose tip, right and left mouth corner (the
    subject's right, i.e. image left first)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image."""

    def detect(self, image_rgb: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 (H, W, 3) image, best score first."""
        ...


def check_rgb_image(image_rgb: np.ndarray) -> np.ndarray:
    """Return the image if it is an RGB uint8 (H, W, 3) array, else raise InvalidFaceImage."""
    if not isinstance(image_rgb, np.ndarray):
        raise InvalidFaceImage(
            f"face analysis needs a numpy RGB image, got {type(image_rgb).__name__}"
        )
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise InvalidFaceImage(
            "face analysis needs an RGB uint8 array of shape (H, W, 3), got "
            f"{image_rgb.dtype} {image_rgb.shape} (convert grey or RGBA images to RGB first)"
        )
    if min(image_rgb.shape[:2]) < 1:
        raise InvalidFaceImage(f"face analysis got an empty image of shape {image_rgb.shape}")
    return image_rgb


class YuNetDetector:
    """OpenCV Zoo's YuNet through `cv2.FaceDetectorYN`, at a bounded working size."""

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = YUNET_SCORE_THRESHOLD,
        working_size: int = WORKING_SIZE,
    ) -> None:
        self.model_path = Path(model_path)
        self.working_size = working_size
        if not self.model_path.is_file():
            raise FaceModelError(f"face detector model {self.model_path} does not exist")
        self.score_threshold = score_threshold
        # FaceDetectorYN keeps the input size as state between setInputSize and detect, so
        # each call borrows one of its own (a few hundred KB each, made when all are busy
        # and kept for the next call): images are searched side by side, on any thread.
        self._lock = threading.Lock()
        self._free = [self._load()]

    def _load(self) -> cv2.FaceDetectorYN:
        try:
            with _opencv_quiet():
                return cv2.FaceDetectorYN.create(
                    str(self.model_path),
                    "",
                    (self.working_size, self.working_size),
                    self.score_threshold,
                    YUNET_NMS_THRESHOLD,
                    YUNET_TOP_K,
                )
        except cv2.error as error:
            raise FaceModelError(
                f"OpenCV cannot load face detector {self.model_path}: {error}"
            ) from error

    def detect(self, image_rgb: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 (H, W, 3) image, best score first."""
        image_rgb = check_rgb_image(image_rgb)
        height, width = image_rgb.shape[:2]
        scale = min(1.0, self.working_size / max(height, width))
        working = image_rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            working = cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
        image_bgr = cv2.cvtColor(working, cv2.COLOR_RGB2BGR)
        with self._lock:
            yunet = self._free.pop() if self._free else None
        if yunet is None:
            yunet = self._load()
        try:
            yunet.setInputSize((image_bgr.shape[1], image_bgr.shape[0]))
            _, rows = yunet.detect(image_bgr)
        finally:
            with self._lock:
                self._free.append(yunet)
        if rows is None:
            return []
        # Scale each axis separately: rounding the working size changes the aspect slightly.
        sx = width / image_bgr.shape[1]
        sy = height / image_bgr.shape[0]
        faces = []
        for row in rows:
            x, y, w, h = (float(v) for v in row[:4])
            # YuNet's landmark order (right eye, left eye, nose, right and left mouth
            # corner, the subject's sides) is already insightface's.
            landmarks = row[4:14].reshape(5, 2).astype(np.float32) * np.float32([sx, sy])
            box = (x * sx, y * sy, w * sx, h * sy)
            faces.append(DetectedFace(box=box, score=float(row[14]), landmarks=landmarks))
        return sorted(faces, key=lambda face: -face.score)


class ScrfdDetector:
    """insightface's SCRFD detector (e.g. buffalo_l's det_10g.onnx) loaded from a file path."""

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = SCRFD_SCORE_THRESHOLD,
        providers: list[str] | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FaceModelError(f"face detector model {self.model_path} does not exist")
        try:
            model = get_model(str(self.model_path), providers=providers)
        except Exception as error:  # onnxruntime and protobuf raise their own types
            raise FaceModelError(f"cannot load face detector {self.model_path}: {error}") from error
        if not isinstance(model, SCRFD):
            kind = type(model).__name__ if model is not None else "no known model"
            raise FaceModelError(
                f"face detector {self.model_path} is not an SCRFD detector (insightface "
                f"reads it as {kind})"
            )
        model.prepare(0, input_size=SCRFD_INPUT_SIZE, det_thresh=score_threshold)
        if not model.use_kps:
            raise FaceModelError(
                f"face detector {self.model_path} gives no landmarks, which face alignment needs"
            )
        self._scrfd = model

    def detect(self, image_rgb: np.ndarray) -> list[DetectedFace]:
        """Faces in an RGB uint8 (H, W, 3) image, best score first."""
        image_rgb = check_rgb_image(image_rgb)
        # insightface works in BGR: SCRFD swaps channels back to RGB when it builds its blob.
        boxes, landmarks = self._scrfd.detect(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        faces = []
        for (x1, y1, x2, y2, score), points in zip(boxes, landmarks, strict=True):
            box = (float(x1), float(y1), float(x2 - x1), float(y2 - y1))
            faces.append(
                DetectedFace(box=box, score=float(score), landmarks=points.astype(np.float32))
            )
        return sorted(faces, key=lambda face: -face.score)
