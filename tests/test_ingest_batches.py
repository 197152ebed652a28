"""Source images analysed on worker threads with batched embeddings (issue 21) give what
taking them one at a time gives: the same pixels, faces and QA verdicts, and embeddings
within 1e-4 cosine of today's (onnxruntime, one face per run)."""

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.ingest_files import ASTRONAUT, CAMERAMAN, CAT, COFFEE, GROUP, TOM, truncated_jpeg
from trulience.faces.recognizer import FaceRecognizer
from trulience.ingest.pipeline import analyse_images, ordered_map
from trulience.media.image_decode import InvalidSourceImage, decode_image
from trulience.qa.image_checks import QAThresholds, evaluate


@pytest.fixture(scope="module")
def today(face_models):
    """The model set as ingest ran it before: SFace in onnxruntime."""
    recognizer = FaceRecognizer(face_models.recognizer.model_path, preprocessing="embedded")
    return replace(face_models, recognizer=recognizer)


def one_at_a_time(path: Path, faces, thresholds: QAThresholds):
    decoded = decode_image(path)
    detected = faces.detector.detect(decoded.pixels)
    embedding = faces.recognizer.embed(decoded.pixels, detected[:1])
    return decoded, detected, evaluate(decoded, detected, thresholds), embedding


def test_batched_analysis_matches_one_image_at_a_time(face_models, today, tmp_path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(truncated_jpeg())
    # Faces and no faces, a group, grey, and a broken file, out of step with the batches.
    paths = [ASTRONAUT, CAT, GROUP, TOM, broken, CAMERAMAN, COFFEE, ASTRONAUT, TOM]
    thresholds = QAThresholds()
    analysed = list(analyse_images(paths, face_models, thresholds, workers=2, batch=3))
    assert [a.source for a in analysed] == paths
    for item in analysed:
        if item.source == broken:
            assert isinstance(item.problem, InvalidSourceImage)
            assert item.decoded is None and item.result is None and item.embedding is None
            with pytest.raises(InvalidSourceImage, match=re.escape(item.problem.reason)):
                decode_image(broken)
            continue
        decoded, detected, result, embedding = one_at_a_time(item.source, today, thresholds)
        assert item.problem is None
        assert np.array_equal(item.decoded.pixels, decoded.pixels)
        assert [f.box for f in item.detected] == [f.box for f in detected]
        assert item.result.to_dict() == result.to_dict()
        if detected:
            assert float(item.embedding @ embedding[0]) > 1 - 1e-4, item.source
        else:
            assert item.embedding is None
    assert sum(a.embedding is not None for a in analysed) == 6


def test_workers_and_batch_must_be_positive(face_models) -> None:
    with pytest.raises(ValueError, match="at least 1, got 0 and 8"):
        list(analyse_images([ASTRONAUT], face_models, QAThresholds(), workers=0))


def test_ordered_map_keeps_order_and_raises_where_the_item_failed() -> None:
    def invert(value: int) -> float:
        return 1 / value

    results = ordered_map(invert, [4, 2, 1, 0, 5], workers=2, ahead=2)
    assert [next(results) for _ in range(3)] == [0.25, 0.5, 1.0]
    with pytest.raises(ZeroDivisionError):
        next(results)
