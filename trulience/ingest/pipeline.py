"""Source images through decoding, face detection, QA and embedding at the machine's pace
(issue 21): a few images are decoded, searched and checked side by side on worker threads
(Pillow, OpenCV and the face models let go of the GIL) while the caller stores the ones
before, and the best face of each batch of images is embedded in one run.

The results are those of taking the images one at a time: the same decoded pixels, faces,
QA verdict, and embeddings within 1e-4 cosine (tests/test_ingest_pipeline.py).
"""

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trulience.media.image_decode import DecodedImage, InvalidSourceImage, decode_image
from trulience.qa.image_checks import ImageQAResult, QAThresholds, evaluate

if TYPE_CHECKING:  # annotations only: loading the face models' code costs ~0.5 s
    from trulience.faces.detector import DetectedFace
    from trulience.faces.model_set import FaceModelSet

# Faces embedded in one run: FACTS.md, ~30 ms a face alone, ~18 ms in batches of 8.
EMBED_BATCH = 8


@dataclass(frozen=True, eq=False)
class AnalysedImage:
    """One source image analysed: its pixels, faces (best score first), QA verdict and
    the best face's embedding; or, for a file that is no usable image, the `problem`."""

    path: Path
    decoded: DecodedImage | None
    detected: "list[DetectedFace]"
    result: ImageQAResult | None
    embedding: np.ndarray | None
    problem: InvalidSourceImage | None = None


@dataclass(frozen=True, eq=False)
class _Prepared:
    path: Path
    decoded: DecodedImage | None
    detected: "list[DetectedFace]"
    result: ImageQAResult | None
    crop: np.ndarray | None
    problem: InvalidSourceImage | None


def analyse_images(
    paths: Iterable[Path],
    faces: "FaceModelSet",
    thresholds: QAThresholds,
    *,
    workers: int = 2,
    batch: int = EMBED_BATCH,
) -> Iterator[AnalysedImage]:
    """Each image of `paths`, in order, decoded, searched for faces, checked by QA and its
    best face embedded; `workers` threads work up to two batches ahead of the caller."""
    if workers < 1 or batch < 1:
        raise ValueError(f"workers and batch must be at least 1, got {workers} and {batch}")
    ahead = 2 * batch + workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        queued: deque[Future[_Prepared]] = deque()
        waiting = iter(paths)
        try:
            for path in waiting:
                queued.append(pool.submit(_prepare, Path(path), faces, thresholds))
                if len(queued) >= ahead:
                    yield from _embedded([queued.popleft().result() for _ in range(batch)], faces)
            while queued:
                count = min(batch, len(queued))
                yield from _embedded([queued.popleft().result() for _ in range(count)], faces)
        finally:
            for future in queued:
                future.cancel()


def _prepare(path: Path, faces: "FaceModelSet", thresholds: QAThresholds) -> _Prepared:
    try:
        decoded = decode_image(path)
    except InvalidSourceImage as problem:
        return _Prepared(path, None, [], None, None, problem)
    detected = faces.detector.detect(decoded.pixels)
    result = evaluate(decoded, detected, thresholds)
    crop = faces.recognizer.align_rgb(decoded.pixels, detected[0].landmarks) if detected else None
    return _Prepared(path, decoded, detected, result, crop, None)


def _embedded(prepared: list[_Prepared], faces: "FaceModelSet") -> Iterator[AnalysedImage]:
    crops = [p.crop for p in prepared if p.crop is not None]
    embeddings = iter(faces.recognizer.embed_aligned(crops))
    for p in prepared:
        embedding = next(embeddings) if p.crop is not None else None
        yield AnalysedImage(p.path, p.decoded, p.detected, p.result, embedding, p.problem)
