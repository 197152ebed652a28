"""Deliverables (PRD-39/40/83/96): browser proxies, poster frames, and checksummed packages.

A package folder holds the scene video, a poster PNG, `sidecar.json`, `segments.csv`, the
review report (its notes, and each drawn note's PNG under `notes/`), the take's edit decision
lists (`edit.otio`, `edit.edl`) when its layout is given, and `manifest.json` (sha256 and
size of every other file), so a recipient can verify it offline.
"""

import csv
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

from trulience.delivery.edl import EditLists, TakeLayout, write_edit_lists
from trulience.delivery.review_report import REPORT_JSON, ReportedNote, write_review_report
from trulience.errors import FileProblem
from trulience.media.encode import AAC_RATES, H264Writer
from trulience.media.frames import frame_at
from trulience.media.probe import InvalidVideo, VideoInfo, open_video, probe

MANIFEST = "manifest.json"
SIDECAR = "sidecar.json"
SEGMENTS_CSV = "segments.csv"
POSTER = "poster.png"
# Frames scored for the poster at most: spread evenly, one decode pass.
POSTER_CANDIDATES = 48


class PackageProblem(FileProblem):
    """A package that cannot be built from what was given; says which file and why."""


@dataclass(frozen=True)
class Package:
    """A written delivery package and where its parts are."""

    directory: Path
    video: Path
    poster: Path
    poster_frame: int
    sidecar: Path
    segments_csv: Path
    manifest: Path
    edit_lists: EditLists | None = None


def make_proxy(
    src: str | Path, dst: str | Path, *, max_height: int = 720, gop_frames: int = 12
) -> VideoInfo:
    """A browser-playable H.264 MP4 of any video PyAV decodes: yuv420p, even size at most
    `max_height` tall, constant rate, a keyframe every `gop_frames` so stepping is cheap,
    and the source's first audio track as AAC when it has one.
    Every decoded frame is kept, timed at the source's average rate."""
    info = probe(src)
    scale = min(1.0, max_height / info.height)
    width = max(2, round(info.width * scale / 2) * 2)
    height = max(2, round(info.height * scale / 2) * 2)
    with open_video(src) as (container, stream):
        audio = container.streams.audio[0] if container.streams.audio else None
        rate, layout = _proxy_audio(audio)
        with H264Writer(
            dst, info.fps, width, height, gop=gop_frames, audio_rate=rate, audio_layout=layout
        ) as writer:
            stream.thread_type = "AUTO"
            try:
                for packet in container.demux(*[s for s in (stream, audio) if s is not None]):
                    for frame in packet.decode():
                        if isinstance(frame, av.AudioFrame):
                            writer.write_audio(frame)
                            continue
                        if (frame.width, frame.height) != (width, height):
                            frame = frame.reformat(width=width, height=height, interpolation="AREA")
                        writer.write(frame)
            except av.FFmpegError as error:
                raise InvalidVideo(src, f"damaged video data ({error})") from error
            return writer.close()


def _proxy_audio(audio: "av.audio.stream.AudioStream | None") -> tuple[int | None, str]:
    """The proxy's AAC rate and layout for a source audio stream (None: no audio)."""
    if audio is None:
        return None, "stereo"
    rate = audio.rate if audio.rate in AAC_RATES else 48000
    return rate, "mono" if audio.channels == 1 else "stereo"


def sharpness(frame: np.ndarray) -> float:
    """Variance of the Laplacian of the grey picture: higher is sharper."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def choose_poster(
    video: str | Path,
    *,
    face_score: Callable[[np.ndarray], float] | None = None,
    candidates: int = POSTER_CANDIDATES,
) -> tuple[int, np.ndarray]:
    """The best poster frame (index, RGB): sharpness relative to the sharpest candidate
    (0-1) plus `face_score` (expected 0-1, e.g. a detector's confidence) when given."""
    info = probe(video)
    step = max(1, info.frames // candidates)
    scored: list[tuple[int, float, np.ndarray]] = []
    with open_video(video) as (container, stream):
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % step == 0:
                    rgb = frame.to_ndarray(format="rgb24")
                    scored.append((index, sharpness(rgb), rgb))
        except av.FFmpegError as error:
            raise InvalidVideo(video, f"damaged video data ({error})") from error
    top = max(s for _, s, _ in scored) or 1.0
    best = max(
        scored, key=lambda item: item[1] / top + (face_score(item[2]) if face_score else 0.0)
    )
    return best[0], best[2]


def build_package(
    scene_video: str | Path,
    out_dir: str | Path,
    *,
    segments_info: list[dict[str, Any]],
    provenance: dict[str, Any],
    poster_frame: int | None = None,
    face_score: Callable[[np.ndarray], float] | None = None,
    review_notes: list[ReportedNote] | None = None,
    layout: TakeLayout | None = None,
) -> Package:
    """Write a delivery package into the new or empty folder `out_dir`: the video, a poster
    (best frame, or `poster_frame`), sidecar.json, segments.csv, the review report of
    `review_notes` when given, the edit decision lists of the take's `layout` when given,
    and manifest.json.
    Each `segments_info` entry needs "frames"; its other fields go to the CSV as provenance."""
    scene_video, out_dir = Path(scene_video), Path(out_dir)
    info = probe(scene_video)
    rows = _segment_rows(scene_video, info, segments_info)
    if layout is not None:
        _check_layout(scene_video, info, layout)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PackageProblem(out_dir, "the package folder is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"scene{scene_video.suffix or '.mp4'}"
    shutil.copyfile(scene_video, video)
    poster_index, picture = _poster(scene_video, info, poster_frame, face_score)
    poster = out_dir / POSTER
    Image.fromarray(picture).save(poster)
    if review_notes is not None:
        write_review_report(out_dir, f"Review notes: {provenance.get('take', '')}", review_notes)
    edit_lists = None
    if layout is not None:
        edit_lists = write_edit_lists(out_dir, _title(provenance), layout)
    sidecar = out_dir / SIDECAR
    _write_json(
        sidecar,
        {
            "video": video.name,
            "codec": info.codec,
            "width": info.width,
            "height": info.height,
            "pix_fmt": info.pix_fmt,
            "fps": str(info.fps),
            "frames": info.frames,
            "duration_s": info.duration_s,
            "poster": {"file": poster.name, "frame": poster_index},
            "seams": [row["start_frame"] for row in rows[1:]],
            "segments": rows,
            "provenance": provenance,
            "review_report": None if review_notes is None else REPORT_JSON,
            "edit_decision_list": _edit_entry(edit_lists),
        },
    )
    segments_csv = out_dir / SEGMENTS_CSV
    _write_csv(segments_csv, rows)
    manifest = out_dir / MANIFEST
    files = sorted(p for p in out_dir.rglob("*") if p.is_file() and p != manifest)
    _write_json(
        manifest,
        {
            "files": [
                {
                    "path": p.relative_to(out_dir).as_posix(),
                    "size": p.stat().st_size,
                    "sha256": _sha256(p),
                }
                for p in files
            ]
        },
        serialise=None,
    )
    return Package(
        out_dir, video, poster, poster_index, sidecar, segments_csv, manifest, edit_lists
    )


def _check_layout(video: Path, info: VideoInfo, layout: TakeLayout) -> None:
    """Refuse a layout that is not the video's: another rate or frame count."""
    if layout.fps != info.fps or layout.frames != info.frames:
        raise PackageProblem(
            video,
            f"has {info.frames} frames at {info.fps} fps but its layout "
            f"{layout.frames} at {layout.fps}",
        )


def _title(provenance: dict[str, Any]) -> str:
    """The edit decision lists' title: the take's folder, else its number."""
    return str(provenance.get("folder") or f"take {provenance.get('take', '')}")


def _edit_entry(edit_lists: EditLists | None) -> dict[str, Any] | None:
    """The sidecar's note of the edit decision lists."""
    if edit_lists is None:
        return None
    return {
        "otio": edit_lists.otio.name,
        "cmx_3600": None if edit_lists.edl is None else edit_lists.edl.name,
        "why_no_cmx_3600": edit_lists.edl_reason,
    }


def _poster(
    scene_video: Path,
    info: VideoInfo,
    poster_frame: int | None,
    face_score: Callable[[np.ndarray], float] | None,
) -> tuple[int, np.ndarray]:
    """The poster's frame and picture: the one asked for, else the best one."""
    if poster_frame is None:
        return choose_poster(scene_video, face_score=face_score)
    if not 0 <= poster_frame < info.frames:
        raise PackageProblem(
            scene_video, f"has {info.frames} frames, there is no poster frame {poster_frame}"
        )
    return poster_frame, frame_at(scene_video, poster_frame)


def _write_json(path: Path, data: dict[str, Any], serialise: Callable | None = str) -> None:
    path.write_text(json.dumps(data, indent=2, default=serialise) + "\n")


def verify_package(directory: str | Path) -> list[str]:
    """Every way the folder differs from its manifest (missing, changed or unlisted files);
    empty when it matches."""
    directory = Path(directory)
    manifest = directory / MANIFEST
    try:
        listed = json.loads(manifest.read_text())["files"]
    except FileNotFoundError:
        return [f"{manifest}: no manifest"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{manifest}: unreadable manifest ({error})"]
    problems = []
    names = set()
    for entry in listed:
        name = entry.get("path", "")
        names.add(name)
        path = directory / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"{name}: listed path leaves the package")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != entry.get("size"):
            problems.append(
                f"{name}: size {path.stat().st_size}, manifest says {entry.get('size')}"
            )
        elif _sha256(path) != entry.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (file changed)")
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_file() and relative != MANIFEST and relative not in names:
            problems.append(f"{relative}: not listed in the manifest")
    return problems


def _segment_rows(
    video: Path, info: VideoInfo, segments_info: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per segment with its start frame and seam position; checks the frame total."""
    rows = []
    start = 0
    for index, segment in enumerate(segments_info):
        frames = segment.get("frames")
        if not isinstance(frames, int) or frames < 1:
            raise PackageProblem(
                video, f"segment {index} needs a positive 'frames', got {frames!r}"
            )
        extra = {k: v for k, v in segment.items() if k not in ("index", "frames", "start_frame")}
        rows.append(
            {
                "index": index,
                "start_frame": start,
                "frames": frames,
                "seam_before": start if index else None,
                **extra,
            }
        )
        start += frames
    if start != info.frames:
        raise PackageProblem(
            video, f"the segments list {start} frames but the video has {info.frames}"
        )
    return rows


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v) if isinstance(v, dict | list) else ("" if v is None else v)
                    for k, v in row.items()
                }
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
