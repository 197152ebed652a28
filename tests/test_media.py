"""Encode, probe, frame access and trim on tiny clips whose frames carry their own number.

Each frame shows its index as 16 black-or-white 16x16 blocks (two rows of a 128x96
picture), which survives H.264 compression, so a test can read back which frame it got.
"""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from trulience.media.encode import H264Writer, UnencodableFrames, encode_frames
from trulience.media.frames import (
    FrameOutOfRange,
    first_frame,
    frame_at,
    last_frame,
    last_frame_full_decode,
    read_frames,
)
from trulience.media.probe import InvalidVideo, probe
from trulience.media.trim import trim_to_frames

WIDTH, HEIGHT, BLOCK, BITS = 128, 96, 16, 16


def numbered_frame(index: int) -> np.ndarray:
    """A frame whose top two block rows spell `index` in binary; the rest moves a little."""
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    frame[2 * BLOCK :] = np.roll(np.linspace(40, 200, WIDTH, dtype=np.uint8), 3 * index)[
        None, :, None
    ]
    per_row = WIDTH // BLOCK
    for bit in range(BITS):
        if index >> bit & 1:
            row, col = divmod(bit, per_row)
            frame[row * BLOCK : (row + 1) * BLOCK, col * BLOCK : (col + 1) * BLOCK] = 255
    return frame


def number_of(frame: np.ndarray) -> int:
    """Read back the index `numbered_frame` drew, from the centre of each block."""
    per_row = WIDTH // BLOCK
    index = 0
    for bit in range(BITS):
        row, col = divmod(bit, per_row)
        y, x = row * BLOCK + BLOCK // 2, col * BLOCK + BLOCK // 2
        if frame[y - 4 : y + 4, x - 4 : x + 4].mean() > 128:
            index |= 1 << bit
    return index


def make_clip(path: Path, frames: int, fps: Fraction = Fraction(24), gop: int = 12) -> Path:
    encode_frames((numbered_frame(i) for i in range(frames)), path, fps, gop=gop)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """61 frames at 24 fps, a keyframe at least every 12 frames: six GOPs, the last short."""
    return make_clip(tmp_path_factory.mktemp("media") / "numbered.mp4", 61)


def test_numbers_survive_compression(clip: Path) -> None:
    assert [number_of(frame) for frame in read_frames(clip)] == list(range(61))


def test_probe_counts_every_frame_at_24_fps(clip: Path) -> None:
    info = probe(clip)
    assert info.frames == 61
    assert info.fps == 24
    assert info.duration_s == pytest.approx(61 / 24)
    assert (info.codec, info.width, info.height, info.pix_fmt) == ("h264", 128, 96, "yuv420p")
    assert not info.has_audio
    assert info.bit_rate and info.bit_rate > 0
    assert info.keyframe_interval is not None and 1 < info.keyframe_interval <= 12


def test_probe_counts_exact_frames_at_ntsc_rate(tmp_path: Path) -> None:
    ntsc = Fraction(30000, 1001)
    info = probe(make_clip(tmp_path / "ntsc.mp4", 47, fps=ntsc, gop=15))
    assert info.frames == 47
    assert info.fps == ntsc
    assert info.duration_s == pytest.approx(47 * 1001 / 30000)


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(30000, 1001)])
def test_timestamps_are_exact_multiples_of_the_frame_duration(tmp_path: Path, fps) -> None:
    path = make_clip(tmp_path / "timed.mp4", 30, fps=fps, gop=10)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [frame.pts for frame in container.decode(stream)]
        time_base = stream.time_base
    # The MP4 muxer picks its own track time base (1/12288 at 24 fps, 1/30000 at 29.97),
    # so the encoder's pts i (in 1/fps) arrives as i frame durations, exactly.
    assert [Fraction(p) * time_base for p in pts] == [i / fps for i in range(30)]
    assert (1 / fps / time_base).denominator == 1


def test_probe_counts_frames_by_demuxing_when_the_container_has_no_count(
    clip: Path, tmp_path: Path
) -> None:
    mkv = tmp_path / "numbered.mkv"
    with av.open(str(clip)) as source, av.open(str(mkv), "w") as target:
        video = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = video
                target.mux(packet)
    with av.open(str(mkv)) as container:
        assert container.streams.video[0].frames == 0  # Matroska stores no frame count
    assert probe(mkv).frames == 61
    assert number_of(last_frame(mkv)) == 60
    assert [number_of(frame_at(mkv, i)) for i in (0, 11, 12, 13, 35, 60)] == [
        0,
        11,
        12,
        13,
        35,
        60,
    ]


def test_probe_counts_only_the_frames_an_edit_list_shows(clip: Path, tmp_path: Path) -> None:
    # Shifting timestamps 5 frames early makes the MP4 muxer hide those frames behind an
    # edit list; the sample table (the container's own count) still holds all 61.
    cut = tmp_path / "edit-list.mp4"
    with av.open(str(clip)) as source, av.open(str(cut), "w") as target:
        video = target.add_stream_from_template(source.streams.video[0])
        shift = round(5 / 24 / source.streams.video[0].time_base)
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.pts -= shift
                packet.dts -= shift
                packet.stream = video
                target.mux(packet)
    with av.open(str(cut)) as container:
        assert container.streams.video[0].frames == 61
    assert probe(cut).frames == 56
    assert [number_of(frame) for frame in read_frames(cut)] == list(range(5, 61))
    assert number_of(first_frame(cut)) == 5
    assert number_of(frame_at(cut, 7)) == 12
    assert number_of(last_frame(cut)) == 60


def test_first_and_last_frames_carry_their_numbers(clip: Path) -> None:
    assert number_of(first_frame(clip)) == 0
    assert number_of(last_frame(clip)) == 60


def test_last_frame_by_seeking_equals_the_full_decode(clip: Path, tmp_path: Path) -> None:
    assert np.array_equal(last_frame(clip), last_frame_full_decode(clip))
    single_gop = make_clip(tmp_path / "single-gop.mp4", 20, gop=100)
    assert probe(single_gop).keyframe_interval == 20
    assert np.array_equal(last_frame(single_gop), last_frame_full_decode(single_gop))
    assert number_of(last_frame(single_gop)) == 19


def test_frame_at_is_frame_accurate_around_every_keyframe(clip: Path) -> None:
    decoded = list(read_frames(clip))
    for index in [0, 1, 10, 11, 12, 13, 23, 24, 25, 36, 47, 48, 49, 59, 60]:
        frame = frame_at(clip, index)
        assert number_of(frame) == index
        assert np.array_equal(frame, decoded[index])
    assert number_of(frame_at(clip, -1)) == 60


def test_frame_at_refuses_frames_the_video_does_not_have(clip: Path) -> None:
    with pytest.raises(FrameOutOfRange, match="has 61 frames, there is no frame 61"):
        frame_at(clip, 61)


def test_encode_refuses_odd_sizes_and_leaves_nothing(tmp_path: Path) -> None:
    odd = np.zeros((48, 63, 3), np.uint8)
    with pytest.raises(UnencodableFrames, match=r"63x48 has an odd side.*even"):
        encode_frames([odd], tmp_path / "odd.mp4", Fraction(24))
    assert list(tmp_path.iterdir()) == []


def test_encode_refuses_empty_input(tmp_path: Path) -> None:
    with pytest.raises(UnencodableFrames, match="no frames to encode"):
        encode_frames([], tmp_path / "empty.mp4", Fraction(24))
    assert list(tmp_path.iterdir()) == []


def test_encode_refuses_frames_that_are_not_rgb_uint8(tmp_path: Path) -> None:
    with pytest.raises(UnencodableFrames, match=r"expected RGB uint8 \(H, W, 3\)"):
        encode_frames([np.zeros((48, 64), np.uint8)], tmp_path / "grey.mp4", Fraction(24))
    with pytest.raises(UnencodableFrames, match="frame rate must be positive"):
        encode_frames([numbered_frame(0)], tmp_path / "still.mp4", Fraction(0))


def test_a_failed_encode_keeps_the_previous_file_and_no_partial_one(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "segment.mp4", 5)
    before = path.read_bytes()

    def frames_then_a_wrong_size():
        yield from (numbered_frame(i) for i in range(10))
        yield np.zeros((48, 64, 3), np.uint8)

    with pytest.raises(UnencodableFrames, match="frame 10 is 64x48, expected 128x96"):
        encode_frames(frames_then_a_wrong_size(), path, Fraction(24))
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_writer_reencodes_decoded_frames_on_its_own_keyframe_schedule(
    tmp_path: Path,
) -> None:
    # Every source frame is an I-frame; without resetting pict_type x264 would copy that.
    source = make_clip(tmp_path / "all-intra.mp4", 24, gop=1)
    assert probe(source).keyframe_interval == 1
    with (
        av.open(str(source)) as container,
        H264Writer(tmp_path / "copy.mp4", Fraction(24), WIDTH, HEIGHT, gop=24) as writer,
    ):
        for frame in container.decode(video=0):
            writer.write(frame)
        info = writer.close()
    assert info.frames == 24
    assert info.keyframe_interval == 24
    assert [number_of(frame) for frame in read_frames(info.path)] == list(range(24))


def test_trim_keeps_exactly_the_first_frames(clip: Path, tmp_path: Path) -> None:
    info = trim_to_frames(clip, tmp_path / "trimmed.mp4", 25)
    assert info.frames == 25
    assert info.fps == 24
    assert [number_of(frame) for frame in read_frames(info.path)] == list(range(25))
    assert number_of(last_frame(info.path)) == 24


def test_trim_to_the_full_length_copies_the_file(clip: Path, tmp_path: Path) -> None:
    info = trim_to_frames(clip, tmp_path / "whole.mp4", 61)
    assert Path(info.path).read_bytes() == clip.read_bytes()


def test_trim_refuses_more_frames_than_the_source_has(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(FrameOutOfRange, match="has 61 frames, cannot keep the first 62"):
        trim_to_frames(clip, tmp_path / "long.mp4", 62)
    assert not (tmp_path / "long.mp4").exists()


def test_probe_of_a_text_file_names_it(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("shot list: walk, turn, wave\n")
    with pytest.raises(InvalidVideo, match=r"notes\.mp4: not a readable video file") as error:
        probe(notes)
    assert error.value.path == str(notes)


def test_probe_of_a_missing_file_or_a_still_image(tmp_path: Path) -> None:
    with pytest.raises(InvalidVideo, match=r"missing\.mp4: no such file"):
        probe(tmp_path / "missing.mp4")
    still = tmp_path / "still.png"
    av.VideoFrame.from_ndarray(numbered_frame(3), format="rgb24").to_image().save(still)
    with pytest.raises(InvalidVideo, match="still image"):
        probe(still)
