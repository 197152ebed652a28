"""Cost estimates (PRD-61) from the GPU seconds past segment attempts recorded, checked
against a hand computation, with their fallbacks and the honest 'no history' answer."""

from fractions import Fraction

import pytest

from tests.batch_history import add_take, make_character, make_project, make_scene_type
from trulience.production.cost import (
    HistorySegment,
    Target,
    estimate,
    estimate_batch,
    load_history,
)


@pytest.fixture
def history(conn):
    """One take of 'walk' (512x512, 24 fps, three 2-second segments): segment 0 took
    10 GPU s, segment 1 was refused once by QA (8 GPU s) and then passed (12 GPU s),
    segment 2 took 12 GPU s. Per second of video: 5, 10 and 6 GPU s; mean 7."""
    make_project(conn)
    make_character(conn, "eileen")
    make_scene_type(conn, "walk")
    add_take(conn, "eileen", "walk", [[10.0], [8.0, 12.0], [12.0]])
    return conn


def test_estimate_matches_the_hand_computation(history):
    e = estimate_batch(history, {"walk": 3})
    (walk,) = e.per_type
    # 7 GPU s per video second x 6 s per take x 3 takes
    assert walk.gpu_s_per_video_s == pytest.approx(7.0)
    assert walk.gpu_s_per_take == pytest.approx(42.0)
    assert e.gpu_seconds == pytest.approx(126.0)
    # one retake in three segments: a third per segment, 9 segments in the batch
    assert walk.retakes_per_segment == pytest.approx(1 / 3)
    assert e.expected_retakes == pytest.approx(3.0)
    assert (walk.level, walk.history_segments, walk.history_takes) == (1, 3, 1)
    # every draw lies between all-cheapest (5/s x 18 s) and all-dearest (10/s x 18 s)
    assert 90.0 <= e.low < e.gpu_seconds < e.high <= 180.0
    text = "\n".join(e.describe())
    assert "estimate: 126.0 GPU s" in text and "3 segment(s) of 1 past take(s)" in text
    assert "same scene type and resolution" in text and "thin history" in text


def test_the_same_history_always_gives_the_same_range(history):
    first, second = estimate_batch(history, {"walk": 3}), estimate_batch(history, {"walk": 3})
    assert (first.low, first.high) == (second.low, second.high)


def test_segments_without_recorded_gpu_time_are_not_history(history):
    history.execute(
        "INSERT INTO segments (scene_id, index, attempt, status) "
        "SELECT id, 9, 1, 'pending' FROM scenes"
    )
    assert len(load_history(history)) == 3


def test_another_resolution_of_the_scene_type_is_scaled_by_pixels(history):
    make_scene_type(history, "walk", width=256, height=256)  # a new version, a quarter the size
    (walk,) = estimate_batch(history, {"walk": 1}).per_type
    assert walk.level == 2
    assert walk.gpu_s_per_take == pytest.approx(42.0 / 4)
    assert "other resolutions" in walk.basis and "target 256x256" in walk.basis


def test_another_scene_type_at_the_same_resolution_lends_its_history(history):
    make_scene_type(history, "run", duration_s=4)
    (run,) = estimate_batch(history, {"run": 2}).per_type
    assert run.level == 3
    assert run.gpu_s_per_take == pytest.approx(7.0 * 4)


def test_all_history_is_the_last_resort_scaled_by_pixel_rate(history):
    make_scene_type(history, "wide", width=1024, height=512, duration_s=2, segment_s=2)
    (wide,) = estimate_batch(history, {"wide": 1}).per_type
    assert wide.level == 4
    assert wide.gpu_s_per_take == pytest.approx(7.0 * 2 * 2)  # twice the pixels, 2 s


def test_no_history_estimates_nothing_and_says_so(conn):
    make_project(conn)
    make_scene_type(conn, "walk")
    e = estimate_batch(conn, {"walk": 3})
    assert not e.available and e.gpu_seconds is None and e.high is None
    assert "no generation history" in e.missing
    assert e.describe() == [f"estimate: none - {e.missing}"]


def segment(rate: float, attempts: int = 1, scene: int = 1) -> HistorySegment:
    return HistorySegment(scene, "walk", 64, 64, Fraction(10), 20, attempts, rate * 2)


def test_the_range_widens_with_uneven_history():
    target = Target("walk", 64, 64, Fraction(10), (20, 20), 2)
    steady = estimate([segment(5.0), segment(5.2), segment(4.8)] * 4, [target])
    uneven = estimate([segment(1.0), segment(5.0), segment(9.0)] * 4, [target])
    assert steady.gpu_seconds == pytest.approx(uneven.gpu_seconds)
    assert (uneven.high - uneven.low) > 5 * (steady.high - steady.low)
    assert steady.low <= steady.gpu_seconds <= steady.high


def test_a_single_past_segment_gives_a_point_and_is_called_thin():
    e = estimate([segment(3.0, attempts=2)], [Target("walk", 64, 64, Fraction(10), (20,), 1)])
    assert e.low == e.gpu_seconds == e.high == pytest.approx(6.0)
    assert e.per_type[0].retakes_per_segment == 1.0
    assert "thin history" in e.per_type[0].basis
