"""Frame times from the stream's real timestamps, and proxies that keep the source's audio."""

from fractions import Fraction

import av
import numpy as np
import pytest

from trulience.delivery.package import make_proxy
from trulience.media.frame_times import FrameTimes, frame_times, frames_key, proxy_frames
from trulience.media.probe import InvalidVideo, probe
from trulience.storage import Storage

W, H = 64, 48


def numbered(index: int) -> np.ndarray:
    """A frame whose grey level is its own number (x 8), readable after compression."""
    return np.full((H, W, 3), (index * 8) % 256, dtype=np.uint8)


def write_clip(path, pts_list, *, fps=24, tone_hz=None, fmt="mp4", time_base=None):
    """A clip made with PyAV: one frame per pts (in units of 1/fps) and, when asked, a
    sine tone at 48 kHz lasting as long as the video."""
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = time_base or Fraction(1, fps)
        audio = None
        if tone_hz:
            audio = out.add_stream("aac", rate=48000)
            audio.layout = "mono"
        for index, pts in enumerate(pts_list):
            frame = av.VideoFrame.from_ndarray(numbered(index), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            seconds = (pts_list[-1] + 1) / fps
            samples = np.arange(int(48000 * seconds))
            tone = (0.4 * np.sin(2 * np.pi * tone_hz * samples / 48000)).astype(np.float32)
            for start in range(0, len(tone), 1024):
                chunk = tone[start : start + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 48000, start
                frame.time_base = Fraction(1, 48000)
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
    return path


def audio_peak_hz(path) -> tuple[float, float]:
    """The loudest frequency of a file's audio, and its length in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        samples = np.concatenate(
            [f.to_ndarray()[0] for f in container.decode(stream)]  # first channel
        )
        rate = stream.rate
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples)), len(samples) / rate


def test_frame_times_follow_the_streams_own_timestamps(tmp_path):
    # Starts at frame 10 (not 0) and skips frame 13: times come from pts, not index / fps.
    pts = [10, 11, 12, 14, 15, 16]
    clip = write_clip(tmp_path / "vfr.mkv", pts, fmt="matroska")
    times = frame_times(clip)
    assert len(times.times) == len(pts)
    assert times.times == pytest.approx([p / 24 for p in pts], abs=1e-3)  # Matroska: 1 ms
    assert (times.width, times.height, times.has_audio) == (W, H, False)


def test_a_proxy_keeps_the_sources_tone_as_aac_and_every_frame(tmp_path):
    clip = write_clip(tmp_path / "tone.mp4", list(range(48)), tone_hz=440)
    proxy = make_proxy(clip, tmp_path / "proxy.mp4", max_height=32)
    assert proxy.has_audio and proxy.frames == 48 and proxy.codec == "h264"
    peak, seconds = audio_peak_hz(tmp_path / "proxy.mp4")
    assert peak == pytest.approx(440, abs=5)
    assert seconds == pytest.approx(2.0, abs=0.1)
    times = frame_times(tmp_path / "proxy.mp4")
    assert times.has_audio and (times.width, times.height) == (42, 32)
    assert times.times == pytest.approx([i / 24 for i in range(48)], abs=1e-6)


def test_a_silent_source_makes_a_silent_proxy(tmp_path):
    clip = write_clip(tmp_path / "silent.mp4", list(range(12)))
    assert not make_proxy(clip, tmp_path / "proxy.mp4").has_audio
    assert not probe(tmp_path / "proxy.mp4").has_audio


def test_frame_times_round_trip_and_refuse_a_bad_sidecar():
    times = FrameTimes(fps=23.976, times=(0.0, 0.0417, 0.0834), width=8, height=6, has_audio=True)
    assert FrameTimes.from_json(times.to_json()) == times
    with pytest.raises(ValueError, match="backwards"):
        FrameTimes.from_json(times.to_json().replace("0.0834", "0.01"))
    with pytest.raises(ValueError, match="version"):
        FrameTimes.from_json('{"times": []}')


def test_proxy_frames_computes_and_stores_a_missing_sidecar(tmp_path):
    storage = Storage((tmp_path / "store").as_uri())
    clip = write_clip(tmp_path / "p.mp4", list(range(6)))
    storage.put_file("takes/1/proxy.mp4", clip)
    assert frames_key("takes/1/proxy.mp4") == "takes/1/proxy.frames.json"
    assert not storage.exists("takes/1/proxy.frames.json")
    times = proxy_frames(storage, "takes/1/proxy.mp4")
    assert len(times.times) == 6
    assert FrameTimes.from_json(storage.read_bytes("takes/1/proxy.frames.json")) == times
    storage.put_bytes("takes/1/proxy.frames.json", b"not json")  # damaged: recomputed
    assert proxy_frames(storage, "takes/1/proxy.mp4") == times
    older = FrameTimes(times.fps, times.times, times.width, times.height, times.has_audio)
    old_text = older.to_json().replace('"version":2', '"version":1')
    assert FrameTimes.from_json(old_text) == older  # a version 1 sidecar still reads
    storage.put_bytes("takes/1/proxy.frames.json", old_text.encode())
    again = proxy_frames(storage, "takes/1/proxy.mp4")  # but is remade with its packets
    assert again == times and again.packets is not None


def test_a_file_that_is_not_video_is_refused_by_name(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"hello")
    with pytest.raises(InvalidVideo, match=r"notes\.mp4"):
        frame_times(bad)


def decode_gop(path, times: FrameTimes, gop: int) -> dict[int, int]:
    """What the page does with the packet index: GOP `gop`'s packets read by byte range
    from the file and decoded by a fresh H.264 decoder given only the index's description;
    {frame index by its timestamp: the frame's grey level}."""
    packets = times.packets.packets
    keys = [n for n, (_, _, key, _) in enumerate(packets) if key]
    first, end = keys[gop], [*keys, len(packets)][gop + 1]
    decoder = av.CodecContext.create("h264", "r")
    decoder.extradata = times.packets.description
    data = path.read_bytes()
    shown: dict[int, int] = {}

    def keep(frames) -> None:
        for frame in frames:
            index = times.times.index(pytest.approx(frame.pts / 1e6, abs=1e-6))
            shown[index] = int(frame.to_ndarray(format="rgb24")[H // 2, W // 2, 0])

    for pos, size, _, pts in packets[first:end]:
        packet = av.Packet(data[pos : pos + size])
        packet.pts, packet.time_base = round(pts * 1e6), Fraction(1, 1_000_000)
        keep(decoder.decode(packet))
    keep(decoder.decode(None))
    return shown


def test_a_proxys_packet_index_decodes_each_gop_to_its_own_frames(tmp_path):
    clip = write_clip(tmp_path / "src.mp4", list(range(30)))
    make_proxy(clip, tmp_path / "proxy.mp4", max_height=48, gop_frames=12)
    times = frame_times(tmp_path / "proxy.mp4")
    assert times.packets is not None and times.packets.codec.startswith("avc1.")
    assert sorted(pts for *_, pts in times.packets.packets) == list(times.times)
    shown: dict[int, int] = {}
    for gop in range(3):  # 30 frames, a keyframe every 12: GOPs of 12, 12 and 6
        shown |= decode_gop(tmp_path / "proxy.mp4", times, gop)
    assert sorted(shown) == list(range(30))
    assert all(abs(grey - int(numbered(i)[0, 0, 0])) <= 6 for i, grey in shown.items())
    assert FrameTimes.from_json(times.to_json()) == times


def test_no_packet_index_for_a_codec_the_page_cannot_decode_and_a_bad_one_is_refused(tmp_path):
    with av.open(str(tmp_path / "mpeg4.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for index in range(6):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(numbered(index), format="rgb24")))
        out.mux(stream.encode(None))
    times = frame_times(tmp_path / "mpeg4.mp4")
    assert len(times.times) == 6 and times.packets is None
    proxy = make_proxy(write_clip(tmp_path / "s.mp4", list(range(6))), tmp_path / "p.mp4")
    text = frame_times(tmp_path / "p.mp4").to_json()
    assert proxy.frames == 6 and '"packets"' in text
    with pytest.raises(ValueError, match="keyframe"):
        FrameTimes.from_json(text.replace('"packets":[[', '"packets":[[0,0,0,0],['))
    with pytest.raises(ValueError, match="packets"):
        FrameTimes.from_json(text.replace('"packets":{', '"packets":[],"x":{'))
