"""A finished prompt's files: the video slot's file downloaded, the lossless last frame
(or one seeked from the video), and the files as the segment's metadata lists them."""

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.answers import HistoryEntry, OutputFile
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import SlotError
from trulience.generation.comfyui.slots import Slots
from trulience.media.frames import last_frame


def fetch_video(
    client: ComfyUIClient,
    entry: HistoryEntry,
    slots: Slots,
    graph: Mapping[str, Any],
    request: SegmentRequest,
    work_dir: Path,
    where: str,
) -> tuple[Path, OutputFile]:
    """Download the video slot's file (videos are listed under `images`, `animated`)."""
    files = entry.files(slots.video)
    if not files:
        raise SlotError(
            f"{where}: the video slot names node {slots.video} "
            f"({graph[slots.video].get('class_type')}), which listed no file in history"
        )
    chosen = next((f for f in files if f.animated), files[0])
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    suffix = PurePosixPath(chosen.filename).suffix or ".mp4"
    path = client.download(
        chosen.filename,
        chosen.subfolder,
        chosen.type,
        work_dir / f"segment-{request.index:03d}{suffix}",
    )
    return path, chosen


def fetch_last_frame(
    client: ComfyUIClient, entry: HistoryEntry, slots: Slots, video_path: Path, where: str
) -> tuple[np.ndarray, str, OutputFile | None]:
    """The lossless last frame from the last_frame slot's PNG, else (no slot) by seeking
    the video; returns the frame, its source and the file it came from."""
    if slots.last_frame is None:
        return last_frame(video_path), "seek", None
    files = entry.files(slots.last_frame)
    if not files:
        raise SlotError(
            f"{where}: the last_frame slot names node {slots.last_frame}, which listed "
            "no file in history"
        )
    chosen = files[-1]  # a batch saves one file per image: the last one is the last frame
    data = client.view(chosen.filename, chosen.subfolder, chosen.type)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise SlotError(
            f"{where}: the last_frame node {slots.last_frame} wrote {chosen.filename!r}, "
            "which is not an image we can decode"
        )
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), "lossless", chosen


def outputs_metadata(
    entry: HistoryEntry,
    video_file: OutputFile,
    last_file: OutputFile | None,
    last_source: str,
) -> dict[str, Any]:
    """The files a prompt wrote and the ones the segment took, for its metadata."""
    return {
        "cached_nodes": list(entry.cached_nodes),
        "outputs": {node: [file_json(f) for f in entry.files(node)] for node in entry.outputs},
        "video_file": file_json(video_file),
        "last_frame_file": file_json(last_file) if last_file else None,
        "last_frame_source": last_source,
    }


def file_json(file: OutputFile) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "subfolder": file.subfolder,
        "type": file.type,
        "animated": file.animated,
    }
