"""Source images through decoding, face detection, QA and embedding at the machine's pace
(issue 21): a few images are decoded, searched and checked side by side on worker threads
(Pillow, OpenCV and the face models let go of the GIL) while the caller stores the ones
before, and the best face of each batch of images is embedded in one run.

The results are those of taking the images one at a time: the same decoded pixels, faces,
QA verdict, and embeddings within 1e-4 cosine (tests/test_ingest_pipeline.py).
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from trulience.media.image_decode import DecodedImage, InvalidSourceImage, decode_image
from trulience.qa.image_checks import ImageQAResult, QAThresholds, evaluate

if TYPE_CHECKING:  # annotations only: loading the face models' code costs ~0.5 s
    from trulience.faces.detector import DetectedFace
    from trulience.faces.model_set import FaceModelSet

Source = TypeVar("Source")
Result = TypeVar("Result")

# Faces embedded in one run: FACTS.md, ~30 ms a face alone, ~18 ms in batches of 8.
EMBED_BATCH = 8


@dataclass(frozen=True, eq=False)
class AnalysedImage(Generic[Source]):
    """One source image analysed: its pixels, faces (best score first), QA verdict and
    the best face's embedding; or, for a file that is no usable image, the `problem`."""

    source: Source
    decoded: DecodedImage | None
    detected: "list[DetectedFace]"
    result: ImageQAResult | None
    embedding: np.ndarray | None
    problem: InvalidSourceImage | None = None


@dataclass(frozen=True, eq=False)
class _Prepared(Generic[Source]):
    source: Source
    decoded: DecodedImage | None
    detected: "list[DetectedFace]"
    result: ImageQAResult | None
    crop: np.ndarray | None
    problem: InvalidSourceImage | None


def ordered_map(
    function: Callable[[Source], Result],
    items: Iterable[Source],
    *,
    workers: int = 2,
    ahead: int = 4,
) -> Iterator[Result]:
    """`function(item)` for each item, in order, computed on `workers` threads at most
    `ahead` items before the one the caller is on; an item's exception is raised there."""
    if workers < 1 or ahead < 1:
        raise ValueError(f"workers and ahead must be at least 1, got {workers} and {ahead}")
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        queued: deque[Future[Result]] = deque()
        try:
            for item in items:
                queued.append(pool.submit(function, item))
                if len(queued) > ahead:
                    yield queued.popleft().result()
            while queued:
                yield queued.popleft().result()
        finally:
            for future in queued:
                future.cancel()


def analyse_images(
    sources: Iterable[Source],
    faces: "FaceModelSet",
    thresholds: QAThresholds,
    *,
    load: Callable[[Source], DecodedImage] = decode_image,
    embed: bool = True,
    workers: int = 2,
    batch: int = EMBED_BATCH,
) -> Iterator[AnalysedImage[Source]]:
    """Each of `sources`, in order, decoded by `load` (a file's path by default), searched
    for faces, checked by QA and (with `embed`) its best face embedded; `workers` threads
    work up to two batches ahead of the caller."""
    if workers < 1 or batch < 1:
        raise ValueError(f"workers and batch must be at least 1, got {workers} and {batch}")

    def prepare(source: Source) -> _Prepared[Source]:
        try:
            decoded = load(source)
        except InvalidSourceImage as problem:
            return _Prepared(source, None, [], None, None, problem)
        detected = faces.detector.detect(decoded.pixels)
        result = evaluate(decoded, detected, thresholds)
        crop = None
        if embed and detected:
            crop = faces.recognizer.align_rgb(decoded.pixels, detected[0].landmarks)
        return _Prepared(source, decoded, detected, result, crop, None)

    prepared = ordered_map(prepare, sources, workers=workers, ahead=2 * batch + workers)
    while chunk := list(islice(prepared, batch)):
        yield from _embedded(chunk, faces)


def _embedded(
    prepared: list[_Prepared[Source]], faces: "FaceModelSet"
) -> Iterator[AnalysedImage[Source]]:
    crops = [p.crop for p in prepared if p.crop is not None]
    embeddings = iter(faces.recognizer.embed_aligned(crops))
    for p in prepared:
        embedding = next(embeddings) if p.crop is not None else None
        yield AnalysedImage(p.source, p.decoded, p.detected, p.result, embedding, p.problem)
