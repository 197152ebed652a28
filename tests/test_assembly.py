"""Scene assembly: packet-copy joins, seam smoothing that re-encodes only seam GOPs,
one-segment replacement, fallbacks, colour continuity and browser proxies."""

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from tests.ingest_files import ASTRONAUT
from trulience.delivery.assemble import (
    FULL_REENCODE,
    PACKET_COPY,
    SEAM_REENCODE,
    assemble,
    reassemble,
)
from trulience.delivery.package import make_proxy
from trulience.delivery.packets import read_layout
from trulience.delivery.seams import seam_jumps
from trulience.generation.backend import SegmentRequest
from trulience.generation.continuity import (
    colour_stats,
    normalise_segment,
    normalise_to_anchor,
    segment_stats,
)
from trulience.generation.preview import LocalPreviewBackend
from trulience.media.encode import H264Writer
from trulience.media.frames import first_frame, read_frames
from trulience.media.probe import probe

SIZE = 128
FPS = 12
FRAMES = 24  # two seconds per segment
GOP = 6
SEGMENTS = 4


def regop(src: Path, dst: Path, *, brightness: int = 0, size: int = SIZE, fps: int = FPS) -> Path:
    """`src` re-encoded with 6-frame GOPs (optionally brightened, resized or retimed), as a
    generation backend with short GOPs would write it."""
    with H264Writer(dst, fps, size, size, gop=GOP) as writer:
        for frame in read_frames(src):
            if size != SIZE:
                frame = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
            shifted = np.clip(frame.astype(np.int16) + brightness, 0, 255).astype(np.uint8)
            writer.write(shifted)
        writer.close()
    return dst


def generate_chain(work: Path, count: int, seed: int) -> list[Path]:
    """A chained scene from the preview backend: each segment seeded by the previous one's
    last frame."""
    backend = LocalPreviewBackend()
    picture = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    seed_frame = cv2.resize(picture[:256, 96:352], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    paths = []
    for index in range(count):
        request = SegmentRequest(
            scene="test/astronaut/idle/take-1",
            index=index,
            frames=FRAMES,
            fps=Fraction(FPS),
            width=SIZE,
            height=SIZE,
            seed=seed + index,
            params={"motion": 1.0},
        )
        result = backend.generate_segment(seed_frame, request, work / "raw")
        seed_frame = result.last_frame
        paths.append(regop(result.video_path, work / f"segment-{index}.mp4"))
    return paths


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_chain(tmp_path_factory.mktemp("scene"), SEGMENTS, seed=11)


@pytest.fixture(scope="module")
def mismatched_scene(scene: list[Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same chain with each segment 14 levels brighter than the one before: hard seams."""
    work = tmp_path_factory.mktemp("mismatched")
    return [
        regop(path, work / f"bright-{i}.mp4", brightness=14 * i) for i, path in enumerate(scene)
    ]


def test_packet_copy_join_keeps_every_frame_bit_exact_and_reencodes_none(
    scene: list[Path], tmp_path: Path
) -> None:
    result = assemble(scene, tmp_path / "scene.mp4")
    assert (result.method, result.fallback_reason) == (PACKET_COPY, None)
    assert (result.frames, result.reencoded_frames, result.copied_frames) == (96, 0, 96)
    assert result.seams == (24, 48, 72)
    info = probe(result.path)
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", SIZE, SIZE)
    assert (info.frames, info.fps, info.duration_s) == (FRAMES * SEGMENTS, FPS, 8.0)
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        assert stream.duration * stream.time_base == 8
    joined = list(read_frames(result.path))
    originals = [frame for path in scene for frame in read_frames(path)]
    assert all(np.array_equal(a, b) for a, b in zip(joined, originals, strict=True))
    # +faststart: the index (moov) comes before the media data (mdat).
    head = result.path.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")


def reencoded(result) -> list[int]:
    """Output frames the assembly re-encoded, from its plan."""
    return [
        frame
        for piece in result.pieces
        if piece.kind == "encode"
        for frame in range(piece.start, piece.start + piece.frames)
    ]


def keyframes(path: Path) -> list[int]:
    """Display frames of `path` that are keyframes."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        per_frame = stream.time_base * FPS
        return sorted(int(p.pts * per_frame) for p in container.demux(stream) if p.is_keyframe)


def test_smoothing_reencodes_only_the_seam_windows_and_the_frames_closing_their_gops(
    mismatched_scene: list[Path], tmp_path: Path
) -> None:
    hard = assemble(mismatched_scene, tmp_path / "hard.mp4")
    smooth = assemble(mismatched_scene, tmp_path / "smooth.mp4", crossfade_frames=3)
    today = assemble(mismatched_scene, tmp_path / "gops.mp4", crossfade_frames=3, reference=True)
    assert smooth.method == SEAM_REENCODE == today.method
    # The first version: 3 seams x (the last 6-frame GOP before + the first one after).
    assert (today.frames, today.reencoded_frames, today.copied_frames) == (96, 36, 60)
    encoded = reencoded(smooth)
    assert smooth.reencoded_frames == len(encoded) < 36
    assert smooth.copied_frames == 96 - len(encoded)
    for seam in smooth.seams:
        before = [f for f in encoded if seam - GOP <= f < seam]
        after = [f for f in encoded if seam <= f < seam + GOP]
        # After the seam: the window and the rest of that GOP (its next keyframe is the
        # first frame that can be copied); before it: the window and the few frames from
        # the last cut (B-frames wait on the frame after them).
        assert after == list(range(seam, seam + GOP))
        assert before == list(range(before[0], seam)) and 3 <= len(before) < GOP
    # Each re-encoded run opens a GOP and so does the copy after it.
    marks = keyframes(smooth.path)
    for piece in smooth.pieces:
        assert piece.start in marks
    assert probe(smooth.path).frames == 96 and probe(smooth.path).duration_s == 8.0
    hard_jumps = seam_jumps(hard.path, hard.seams)
    smooth_jumps = seam_jumps(smooth.path, smooth.seams)
    assert min(hard_jumps) > 8
    # The jump is spread over 2n + 1 = 7 steps.
    assert all(s < h / 3 for s, h in zip(smooth_jumps, hard_jumps, strict=True))
    assert max(smooth_jumps) < 5  # below what reads as a cut (the seam gate allows 10)
    # Every frame not re-encoded is the segments' own, bit for bit (the copied packets
    # before a cut decode without those after it); the re-encoded ones are as close to
    # the exact smoothing as the whole-GOP version's, within the encoder's noise.
    joined = list(read_frames(smooth.path))
    originals = [frame.astype(np.float32) for p in mismatched_scene for frame in read_frames(p)]
    for index in sorted(set(range(96)) - set(encoded)):
        assert np.array_equal(joined[index], originals[index]), index
    exact = list(originals)
    for seam in smooth.seams:
        jump = originals[seam] - originals[seam - 1]
        for k in range(3):
            exact[seam - 1 - k] = originals[seam - 1 - k] + jump * (3 - k) / 7
            exact[seam + k] = originals[seam + k] - jump * (3 - k) / 7
    by_gops = list(read_frames(today.path))

    def error(frames: list[np.ndarray]) -> list[float]:
        return [
            float(np.abs(frames[i] - np.clip(np.rint(exact[i]), 0, 255)).mean()) for i in encoded
        ]

    assert max(error(joined)) < 4
    assert np.mean(error(joined)) < np.mean(error(by_gops)) + 0.5


def test_packet_copy_joins_are_byte_identical_to_the_first_versions(
    scene: list[Path], mismatched_scene: list[Path], tmp_path: Path
) -> None:
    # The comparison cases: a chain, hard seams, a segment twice, segments in Matroska.
    mkv = [remux(p, tmp_path / f"segment-{i}.mkv") for i, p in enumerate(scene)]
    cases = {
        "chain": scene,
        "hard seams": mismatched_scene,
        "repeated": [scene[0], scene[1], scene[0], *mismatched_scene],
        "matroska": mkv,
    }
    for name, segments in cases.items():
        new = assemble(segments, tmp_path / f"{name}-new.mp4")
        old = assemble(segments, tmp_path / f"{name}-old.mp4", reference=True)
        assert (new.method, old.method) == (PACKET_COPY, PACKET_COPY), name
        assert new.pieces == old.pieces, name
        assert sha256(new.path) == sha256(old.path), name


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_replacing_one_segment_reencodes_only_its_seams(
    scene: list[Path], mismatched_scene: list[Path], tmp_path: Path
) -> None:
    first = assemble(mismatched_scene, tmp_path / "v1.mp4", crossfade_frames=3)
    retake = regop(scene[2], tmp_path / "retake.mp4", brightness=-20)
    second = reassemble(first.to_dict(), 2, retake, tmp_path / "v2.mp4")
    assert second.method == SEAM_REENCODE
    assert second.segments[2] == retake
    # Segment 2's two seams are re-encoded; the seam between 0 and 1 is reused.
    runs = [p for p in second.pieces if p.kind == "encode"]
    assert [p.segments for p in runs] == [(0, 1), (1, 2), (2, 3)]
    assert second.reencoded_frames == runs[1].frames + runs[2].frames
    assert second.frames == 96 and second.copied_frames == 96 - second.reencoded_frames
    before, after = list(read_frames(first.path)), list(read_frames(second.path))
    untouched = [*range(0, runs[1].start), *range(runs[2].start + runs[2].frames, 96)]
    for index in untouched:
        assert np.array_equal(before[index], after[index])
    assert not np.array_equal(before[60], after[60])
    expected = list(read_frames(retake))
    assert np.array_equal(after[54], expected[6])


def flat_segment(path: Path, levels: list[int]) -> Path:
    """A segment of flat grey frames, one level per frame, with 6-frame GOPs."""
    with H264Writer(path, FPS, SIZE, SIZE, gop=GOP) as writer:
        for level in levels:
            writer.write(np.full((SIZE, SIZE, 3), level, dtype=np.uint8))
        writer.close()
    return path


def test_smoothing_moves_each_frame_by_its_share_of_the_jump(tmp_path: Path) -> None:
    rising = flat_segment(tmp_path / "a.mp4", [20 + 6 * i for i in range(FRAMES)])
    falling = flat_segment(tmp_path / "b.mp4", [200 - 2 * i for i in range(FRAMES)])
    result = assemble([rising, falling], tmp_path / "smooth.mp4", crossfade_frames=3)
    assert (result.frames, result.seams) == (48, (24,))
    expected = [float(frame.mean()) for path in (rising, falling) for frame in read_frames(path)]
    jump = expected[24] - expected[23]  # about 200 - 158
    for k in range(3):  # k places from the seam: +J (n - k) / (2n + 1) before it, minus after
        expected[23 - k] += jump * (3 - k) / 7
        expected[24 + k] -= jump * (3 - k) / 7
    levels = [float(frame.mean()) for frame in read_frames(result.path)]
    assert levels == pytest.approx(expected, abs=1.5)


def timeline(path: Path) -> list[tuple[int, int, int]]:
    """(pts, dts, duration) of every packet in decode order, in frames."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        per_frame = stream.time_base * FPS
        return [
            (int(p.pts * per_frame), int(p.dts * per_frame), int(p.duration * per_frame))
            for p in container.demux(stream)
            if p.size
        ]


def assert_one_continuous_timeline(path: Path, frames: int) -> None:
    packets = timeline(path)
    assert sorted(pts for pts, _, _ in packets) == list(range(frames))
    dts = [d for _, d, _ in packets]
    assert dts == list(range(dts[0], dts[0] + frames))  # one frame apart, in decode order
    assert all(d <= pts for pts, d, _ in packets)
    assert {duration for _, _, duration in packets} == {1}


def test_copied_and_reencoded_pieces_share_one_continuous_timeline(
    mismatched_scene: list[Path], tmp_path: Path
) -> None:
    plain = assemble(mismatched_scene, tmp_path / "plain.mp4")
    smooth = assemble(mismatched_scene, tmp_path / "smooth.mp4", crossfade_frames=3)
    retake = regop(mismatched_scene[1], tmp_path / "retake.mp4", brightness=-20)
    # Pieces from the segments, the seam encoder and the previous output, all in one file.
    again = reassemble(smooth, 1, retake, tmp_path / "again.mp4")
    for result in (plain, smooth, again):
        assert_one_continuous_timeline(result.path, 96)
        info = probe(result.path)
        assert (info.frames, info.keyframe_interval) == (96, GOP)


def remux(src: Path, dst: Path) -> Path:
    """`src`'s packets, untouched, in another container (Matroska for .mkv)."""
    with av.open(str(src)) as source, av.open(str(dst), mode="w") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    return dst


def test_segments_in_matroska_assemble_like_their_mp4_originals(
    mismatched_scene: list[Path], tmp_path: Path
) -> None:
    mkv = [remux(p, tmp_path / f"segment-{i}.mkv") for i, p in enumerate(mismatched_scene)]
    plain = assemble(mkv, tmp_path / "plain.mp4")
    assert (plain.method, plain.frames, plain.copied_frames) == (PACKET_COPY, 96, 96)
    assert_one_continuous_timeline(plain.path, 96)
    originals = [frame for path in mismatched_scene for frame in read_frames(path)]
    joined = list(read_frames(plain.path))
    assert all(np.array_equal(a, b) for a, b in zip(joined, originals, strict=True))

    smooth = assemble(mkv, tmp_path / "smooth.mp4", crossfade_frames=3)
    reference = assemble(mismatched_scene, tmp_path / "reference.mp4", crossfade_frames=3)
    assert smooth.pieces == reference.pieces
    assert (smooth.frames, smooth.reencoded_frames) == (96, reference.reencoded_frames)
    assert_one_continuous_timeline(smooth.path, 96)
    # The same packets decode and smooth to the same pixels, seams included.
    smoothed = list(read_frames(smooth.path))
    expected = list(read_frames(reference.path))
    for index in range(96):
        assert np.array_equal(smoothed[index], expected[index])
    assert seam_jumps(smooth.path, smooth.seams) == seam_jumps(reference.path, reference.seams)


def test_segments_that_differ_in_size_fall_back_to_a_full_reencode(
    scene: list[Path], tmp_path: Path
) -> None:
    small = regop(scene[1], tmp_path / "small.mp4", size=96)
    result = assemble([scene[0], small, scene[2]], tmp_path / "mixed.mp4", crossfade_frames=2)
    assert result.method == FULL_REENCODE
    assert "size 96x96" in result.fallback_reason
    assert (result.frames, result.reencoded_frames, result.copied_frames) == (72, 72, 0)
    info = probe(result.path)
    assert (info.width, info.height, info.frames, info.codec) == (SIZE, SIZE, 72, "h264")


def test_segments_at_another_rate_fall_back_and_keep_every_frame(
    scene: list[Path], tmp_path: Path
) -> None:
    fast = regop(scene[1], tmp_path / "fast.mp4", fps=24)
    result = assemble([scene[0], fast], tmp_path / "retimed.mp4")
    assert result.method == FULL_REENCODE and "fps 24" in result.fallback_reason
    assert probe(result.path).frames == 48 and probe(result.path).fps == FPS


def test_normalising_toward_the_anchor_removes_a_colour_cast(
    scene: list[Path], tmp_path: Path
) -> None:
    anchor = colour_stats(first_frame(scene[0]))
    cast = tmp_path / "cast.mp4"
    with H264Writer(cast, FPS, SIZE, SIZE, gop=GOP) as writer:
        for frame in read_frames(scene[1]):
            warm = frame.astype(np.int16) + np.array([28, 4, -24])
            writer.write(np.clip(warm, 0, 255).astype(np.uint8))
        writer.close()

    def distance(stats) -> float:
        return float(np.abs(np.subtract(stats.mean, anchor.mean)).sum())

    fixed = normalise_segment(cast, tmp_path / "fixed.mp4", segment_stats(scene[0]))
    assert fixed.frames == FRAMES and fixed.keyframe_interval == GOP
    assert distance(segment_stats(fixed.path)) < 0.3 * distance(segment_stats(cast))
    # Strength 0 leaves a frame as it was.
    frame = first_frame(cast)
    assert np.abs(normalise_to_anchor(frame, anchor, 0.0).astype(int) - frame).max() <= 1


def _write_source(path: Path, codec: str, size: tuple[int, int], frames: int) -> None:
    """A moving gradient in a non-H.264 codec, made with PyAV."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            x = np.linspace(0, 255, size[0], dtype=np.float32)[None, :, None]
            picture = np.broadcast_to((x + index * 9) % 256, (size[1], size[0], 3))
            frame = av.VideoFrame.from_ndarray(picture.astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize(
    ("codec", "name"), [("libvpx-vp9", "source.webm"), ("mpeg4", "source.avi")]
)
def test_proxy_of_any_codec_is_browser_playable_h264(codec: str, name: str, tmp_path: Path) -> None:
    source = tmp_path / name
    _write_source(source, codec, (200, 150), 30)
    proxy = make_proxy(source, tmp_path / "proxy.mp4", max_height=101, gop_frames=6)
    assert (proxy.codec, proxy.pix_fmt, proxy.frames) == ("h264", "yuv420p", 30)
    assert proxy.width % 2 == 0 and proxy.height % 2 == 0 and proxy.height <= 101
    assert (proxy.width, proxy.height) == (134, 100)
    assert proxy.fps == FPS and proxy.keyframe_interval <= 6


def test_segments_encoded_with_other_settings_are_not_spliced_together(
    scene: list[Path], tmp_path: Path
) -> None:
    other = tmp_path / "other-crf.mp4"
    with H264Writer(other, FPS, SIZE, SIZE, gop=GOP, crf=30) as writer:
        for frame in read_frames(scene[1]):
            writer.write(frame)
        writer.close()
    result = assemble([scene[0], other], tmp_path / "joined.mp4")
    assert result.method == FULL_REENCODE
    assert "parameter sets" in result.fallback_reason
    assert probe(result.path).frames == 2 * FRAMES


def test_preview_segments_open_gops_at_the_seam_windows_so_a_seam_reencodes_only_them(
    tmp_path: Path,
) -> None:
    backend = LocalPreviewBackend()
    seed = cv2.resize(np.asarray(Image.open(ASTRONAUT).convert("RGB")), (SIZE, SIZE))
    paths = []
    for index in range(3):
        request = SegmentRequest(
            "test/astronaut/idle/take-1",
            index,
            FRAMES,
            Fraction(FPS),
            SIZE,
            SIZE,
            seed=index,
            params={"motion": 1.0, "crossfade_frames": 3},
        )
        result = backend.generate_segment(seed, request, tmp_path / f"raw-{index}")
        seed = result.last_frame
        paths.append(result.video_path)
    # The encoder's GOPs of one second (12 frames), with more opened right after the
    # window at the start (3) and at the window at the end (21); a colour-normalised copy
    # keeps them.
    assert keyframes(paths[0]) == [0, 3, 15, 21]
    normalised = normalise_segment(paths[1], tmp_path / "normalised.mp4", segment_stats(paths[0]))
    assert keyframes(normalised.path) == keyframes(paths[1]) == [0, 3, 15, 21]
    smooth = assemble(paths, tmp_path / "smooth.mp4", crossfade_frames=3)
    encoded = reencoded(smooth)
    # Each seam re-encodes its window and nothing else (a whole-GOP plan would do the same
    # on these segments: their GOPs end and start at the windows).
    assert encoded == [f for seam in smooth.seams for f in range(seam - 3, seam + 3)]
    assert smooth.reencoded_frames == len(encoded) == 2 * 6
    joined = list(read_frames(smooth.path))
    originals = [frame for path in paths for frame in read_frames(path)]
    assert len(joined) == 3 * FRAMES
    for index in sorted(set(range(3 * FRAMES)) - set(encoded)):
        assert np.array_equal(joined[index], originals[index]), index


def test_segments_sharing_the_first_ones_parameter_sets_are_read_without_decoding(
    scene: list[Path], tmp_path: Path
) -> None:
    first = read_layout(scene[0])
    for path in scene[1:]:
        assert read_layout(path, like=first) == read_layout(path)
    mkv = remux(scene[1], tmp_path / "segment.mkv")  # no sample table: read in full
    assert read_layout(mkv, like=first) == read_layout(mkv)
    other = tmp_path / "other-crf.mp4"
    with H264Writer(other, FPS, SIZE, SIZE, gop=GOP, crf=30) as writer:
        for frame in read_frames(scene[1]):
            writer.write(frame)
        writer.close()
    layout = read_layout(other, like=first)
    assert layout == read_layout(other) and layout.extradata != first.extradata
    assert layout.info.pix_fmt == "yuv420p" and layout.crf == 30
