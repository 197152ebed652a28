"""SMPTE timecode of frames, with drop-frame at 29.97 and 59.94 fps: known values at the
minute boundaries, and every frame round-tripping (hypothesis)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trulience.review.timecode import InvalidTimecode, from_timecode, to_timecode

NTSC = 30000 / 1001
NTSC_60 = 60000 / 1001


@pytest.mark.parametrize(
    ("frame", "fps", "drop", "expected"),
    [
        (0, 24, False, "00:00:00:00"),
        (23, 24, False, "00:00:00:23"),
        (24, 24, False, "00:00:01:00"),
        (86399, 24, False, "00:59:59:23"),
        (1799, NTSC, True, "00:00:59;29"),
        (1800, NTSC, True, "00:01:00;02"),
        (17981, NTSC, True, "00:09:59;29"),
        (17982, NTSC, True, "00:10:00;00"),
        (17983, NTSC, True, "00:10:00;01"),
        (19781, NTSC, True, "00:10:59;29"),
        (19782, NTSC, True, "00:11:00;02"),
        (3599, NTSC_60, True, "00:00:59;59"),
        (3600, NTSC_60, True, "00:01:00;04"),
        (1800, NTSC, False, "00:01:00:00"),
        (107892, NTSC, True, "01:00:00;00"),
    ],
)
def test_frames_print_as_smpte_timecode(frame, fps, drop, expected):
    assert to_timecode(frame, fps, drop_frame=drop) == expected
    assert from_timecode(expected, fps, drop_frame=drop) == frame


@given(
    frame=st.integers(min_value=0, max_value=10_000_000),
    rate=st.sampled_from(
        [(24, False), (25, False), (23.976, False), (NTSC, True), (NTSC_60, True), (NTSC, False)]
    ),
)
def test_every_frame_round_trips_through_its_timecode(frame, rate):
    fps, drop = rate
    timecode = to_timecode(frame, fps, drop_frame=drop)
    assert from_timecode(timecode, fps, drop_frame=drop) == frame


@given(frame=st.integers(min_value=1, max_value=1_000_000))
def test_drop_frame_timecode_never_goes_backwards(frame):
    before = from_timecode(to_timecode(frame - 1, NTSC, drop_frame=True), NTSC, drop_frame=True)
    assert before == frame - 1


@pytest.mark.parametrize(
    ("timecode", "fps", "drop", "why"),
    [
        ("00:01:00;00", NTSC, True, "does not exist in drop-frame"),
        ("00:01:00;01", NTSC, True, "does not exist in drop-frame"),
        ("00:00:00:24", 24, False, "frames to 23"),
        ("00:60:00:00", 24, False, "minutes and seconds run to 59"),
        ("1:2:3", 24, False, "is not HH:MM:SS:FF"),
        ("00:00:01:00", 25, True, "drop-frame timecode is for 29.97 or 59.94"),
    ],
)
def test_a_timecode_that_does_not_exist_is_refused_saying_why(timecode, fps, drop, why):
    with pytest.raises(InvalidTimecode, match=why):
        from_timecode(timecode, fps, drop_frame=drop)


def test_a_negative_frame_has_no_timecode():
    with pytest.raises(InvalidTimecode, match="before the first frame"):
        to_timecode(-1, 24)
