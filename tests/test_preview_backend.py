"""The local preview backend: real H.264 segments that chain into one continuous shot."""

from datetime import UTC
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from trulience.generation.backend import PermanentBackendError, SegmentRequest
from trulience.generation.preview import MAX_ZOOM, LocalPreviewBackend, PreviewMotion
from trulience.media.frames import first_frame, last_frame, read_frames
from trulience.media.probe import probe

SIZE = 128


@pytest.fixture(scope="module")
def seed_frame() -> np.ndarray:
    """A textured portrait (the astronaut's head, halved), so that small camera moves
    change many pixels."""
    return cv2.resize(data.astronaut()[:256, 96:352], (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def request(index: int = 0, seed: int = 7, **changes) -> SegmentRequest:
    fields = dict(
        scene="test/astronaut/idle/take-1",
        index=index,
        frames=36,
        fps=Fraction(24),
        width=SIZE,
        height=SIZE,
        seed=seed,
    )
    fields.update(changes)
    return SegmentRequest(**fields)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_segment_has_exactly_the_requested_frames(seed_frame, tmp_path: Path) -> None:
    result = LocalPreviewBackend().generate_segment(seed_frame, request(index=4), tmp_path)
    assert result.video_path == tmp_path / "segment-004.mp4"
    info = probe(result.video_path)
    assert (info.frames, info.fps, info.width, info.height) == (36, 24, SIZE, SIZE)
    assert result.frames == 36
    assert result.backend == "preview"
    assert result.started_at.tzinfo is UTC and result.finished_at >= result.started_at
    assert result.compute_s > 0
    assert set(result.metadata["motion"]) >= {"strength", "zoom", "pan_x", "pan_y"}
    assert result.metadata["motion"]["strength"] == 0.5


def test_frame_zero_is_the_seed_and_the_last_frame_is_returned_losslessly(
    seed_frame, tmp_path: Path
) -> None:
    result = LocalPreviewBackend().generate_segment(seed_frame, request(), tmp_path)
    # H.264 at CRF 20 with 4:2:0 chroma costs about 3 levels on this detailed 128 px image
    # (the chroma subsampling alone about 1.7).
    assert mean_difference(first_frame(result.video_path), seed_frame) < 3.5
    assert result.last_frame.dtype == np.uint8 and result.last_frame.shape == (SIZE, SIZE, 3)
    assert mean_difference(last_frame(result.video_path), result.last_frame) < 3.5
    # The camera did move: the last frame is not the seed.
    assert mean_difference(result.last_frame, seed_frame) > 3


def test_without_motion_every_frame_is_the_seed(seed_frame, tmp_path: Path) -> None:
    still = request(params={"motion": 0})
    result = LocalPreviewBackend().generate_segment(seed_frame, still, tmp_path)
    assert np.array_equal(result.last_frame, seed_frame)


def test_the_same_seed_renders_the_same_segment(seed_frame, tmp_path: Path) -> None:
    backend = LocalPreviewBackend()
    one = backend.generate_segment(seed_frame, request(seed=11), tmp_path / "one")
    two = backend.generate_segment(seed_frame, request(seed=11), tmp_path / "two")
    other = backend.generate_segment(seed_frame, request(seed=12), tmp_path / "other")
    assert np.array_equal(one.last_frame, two.last_frame)
    assert one.metadata == two.metadata
    assert all(
        np.array_equal(a, b)
        for a, b in zip(read_frames(one.video_path), read_frames(two.video_path), strict=True)
    )
    assert one.metadata["motion"] != other.metadata["motion"]
    assert mean_difference(one.last_frame, other.last_frame) > 1


def test_a_chain_of_segments_plays_as_one_continuous_shot(seed_frame, tmp_path: Path) -> None:
    backend = LocalPreviewBackend()
    seed, segments = seed_frame, []
    for index in range(3):
        step = request(index=index, seed=100 + index, frames=48, params={"motion": 1.0})
        result = backend.generate_segment(seed, step, tmp_path)
        segments.append(list(read_frames(result.video_path)))
        seed = result.last_frame
    for before, after in pairwise(segments):
        seam = mean_difference(before[-1], after[0])
        within = mean_difference(before[0], before[-1])
        # Inside a segment the largest step between neighbours is the keyframe at frame 24,
        # where the encoder starts afresh: the seam must look like no more than that.
        largest_step = max(mean_difference(a, b) for a, b in pairwise(before))
        assert seam < 3
        assert within > 3 * seam
        assert seam < 1.25 * largest_step


@pytest.mark.parametrize(("width", "height"), [(128, 128), (1280, 720), (480, 832)])
def test_the_camera_never_looks_past_the_seed_frame(width: int, height: int) -> None:
    # Anything outside would be invented (mirrored) border, carried on by the next segment.
    corners = np.array([[0, width - 1, 0, width - 1], [0, 0, height - 1, height - 1], [1] * 4])
    for seed in range(40):
        for duration in (0.5, 2.0, 5.0, 10.0):
            motion = PreviewMotion.from_seed(seed, 1.0, duration)
            assert 0 < motion.zoom <= MAX_ZOOM
            assert np.allclose(motion.matrix(0.0, width, height), [[1, 0, 0], [0, 1, 0]])
            for progress in np.linspace(0, 1, 49):
                x, y = motion.matrix(progress, width, height) @ corners
                assert x.min() >= -1e-9 and x.max() <= width - 1 + 1e-9
                assert y.min() >= -1e-9 and y.max() <= height - 1 + 1e-9


def test_a_seed_of_another_shape_is_cropped_not_stretched(seed_frame, tmp_path: Path) -> None:
    wide = cv2.resize(data.astronaut(), (256, 144), interpolation=cv2.INTER_AREA)
    result = LocalPreviewBackend().generate_segment(wide, request(frames=2), tmp_path)
    assert probe(result.video_path).width == SIZE
    assert result.metadata["seed_resized"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"frames": 0}, "frames must be a positive integer"),
        ({"width": 127}, r"width must be a positive even number.*odd sizes"),
        ({"height": 0}, "height must be a positive even number"),
        ({"fps": Fraction(0)}, "frame rate must be positive"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"params": {"motion": 2}}, "params.motion must be from 0 to 1"),
    ],
)
def test_impossible_requests_are_refused(
    seed_frame, tmp_path: Path, changes: dict, message: str
) -> None:
    with pytest.raises(PermanentBackendError, match=message):
        LocalPreviewBackend().generate_segment(seed_frame, request(**changes), tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_seed_frame_that_is_not_rgb_uint8_is_refused(seed_frame, tmp_path: Path) -> None:
    with pytest.raises(PermanentBackendError, match=r"expected RGB uint8 \(H, W, 3\)"):
        LocalPreviewBackend().generate_segment(seed_frame / 255.0, request(), tmp_path)
    with pytest.raises(PermanentBackendError, match=r"expected RGB uint8"):
        LocalPreviewBackend().generate_segment(seed_frame[..., 0], request(), tmp_path)
