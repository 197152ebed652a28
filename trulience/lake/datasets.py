"""Datasets of chosen takes for training and analysis (PRD-40): every Nth frame of each
take's assembled video as an image file, and one Parquet row per frame written with what the
catalog knows of it (take, segment, frame index, time, identity and QA, and provenance:
workflow and its version, seed, the models the workflow loads).

The folder is written whole or not at all: every take is checked first, then the dataset is
made in a hidden folder beside the one asked for and renamed to it at the end.

    OUT/frames.parquet
    OUT/frames/<project>-<character>-<scene type>-take<N>/<frame>.png
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from trulience.catalog import scenes as scene_repo
from trulience.catalog.branches import cell_of
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.catalog.records import Segment, Take
from trulience.catalog.reviews import newest_revision
from trulience.catalog.trims import current_trims
from trulience.catalog.workflows import get_workflow, workflow_models
from trulience.delivery.edl import EditClip, TakeLayout, take_layout
from trulience.errors import FileProblem
from trulience.media.frames import read_frames
from trulience.storage import Storage

FRAMES_PARQUET = "frames.parquet"
FRAMES_DIR = "frames"
IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG"}
JPEG_QUALITY = 95

SCHEMA = pa.schema(
    [
        ("scene_id", pa.int64()),
        ("project", pa.string()),
        ("character", pa.string()),
        ("scene_type", pa.string()),
        ("take", pa.int32()),
        ("revision", pa.int32()),
        ("video_sha256", pa.string()),
        ("frame", pa.int64()),  # in the take, from 0
        ("time_s", pa.float64()),
        ("image", pa.string()),  # relative to the dataset folder
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("segment", pa.int32()),
        ("attempt", pa.int32()),
        ("segment_id", pa.int64()),
        ("segment_frame", pa.int64()),  # in the segment's own file (after its trimmed head)
        ("identity", pa.float64()),  # the segment's identity score (its QA gate)
        ("identity_sample", pa.float64()),  # similarity measured at this frame, if sampled
        ("qa_passed", pa.bool_()),
        ("failed_gates", pa.list_(pa.string())),
        ("qa_values", pa.map_(pa.string(), pa.float64())),  # numeric gate values by gate
        ("workflow", pa.string()),
        ("workflow_version", pa.int32()),
        ("workflow_sha256", pa.string()),
        ("seed", pa.int64()),
        ("models", pa.list_(pa.string())),  # "folder/filename" the workflow loads
        ("backend", pa.string()),
        ("worker", pa.string()),
    ]
)


class DatasetProblem(FileProblem):
    """A dataset that cannot be written as asked; names the folder or take and why."""


@dataclass(frozen=True)
class DatasetExport:
    directory: Path
    takes: int
    frames: int


@dataclass(frozen=True)
class _Chosen:
    """A take checked for export, with what every frame row repeats."""

    take: Take
    folder: str
    layout: TakeLayout
    common: dict[str, Any]  # the take's fields of every row
    by_segment: dict[int, dict[str, Any]]  # each segment's fields of its rows


def export_dataset(
    conn: psycopg.Connection,
    storage: Storage,
    scene_ids: list[int],
    out: str | Path,
    *,
    every: int = 1,
    image_format: str = "png",
) -> DatasetExport:
    """Write every `every`th frame of each take in `scene_ids` and its metadata into the new
    (or empty) folder `out`; refused, with nothing written, for an unknown or unassembled
    take, a bad stride or format, or a folder that exists with files or cannot be made."""
    out = Path(out)
    _check_request(scene_ids, every, image_format)
    _check_out(out)
    chosen = [_choose(conn, storage, scene_id) for scene_id in dict.fromkeys(scene_ids)]
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as error:
        raise DatasetProblem(out, f"cannot be written ({error.strerror})") from error
    scratch.chmod(0o755)  # mkdtemp's folder is its owner's alone; a dataset is to be shared
    try:
        rows = []
        for take in chosen:
            rows += _write_frames(storage, take, scratch, every, image_format)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), scratch / FRAMES_PARQUET)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(scratch, out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return DatasetExport(out, len(chosen), len(rows))


def _check_request(scene_ids: list[int], every: int, image_format: str) -> None:
    if not scene_ids:
        raise InvalidValue("dataset", "takes", None, "name at least one take (scene id)")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidValue("dataset", "every", every, "must be a whole number of frames, 1 or more")
    if image_format not in IMAGE_FORMATS:
        raise InvalidValue(
            "dataset", "format", image_format, f"must be one of {', '.join(IMAGE_FORMATS)}"
        )


def _check_out(out: Path) -> None:
    """Refuse a folder that holds files already, or whose parent cannot take a new one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetProblem(out, "exists and is not an empty folder; choose a new one")
    parent = out.parent
    if not parent.is_dir():
        raise DatasetProblem(out, f"its parent {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DatasetProblem(out, f"cannot be written: no permission to write in {parent}")


def _choose(conn: psycopg.Connection, storage: Storage, scene_id: int) -> _Chosen:
    """The take and what its rows share; InvalidValue when it has no assembled video."""
    try:
        take = scene_repo.get_take(conn, scene_id)
    except NotFound as error:
        raise InvalidValue("dataset", "take", scene_id, "no take has this scene id") from error
    if take.uri is None:
        raise InvalidValue(
            "dataset", "take", scene_id, f"is {take.status} and has no assembled video yet"
        )
    cell = cell_of(conn, scene_id)
    segments = scene_repo.current_segments(conn, scene_id)
    folder = f"{cell.project}-{cell.character}-{cell.scene_type}-take{take.take}"
    common = {
        "scene_id": scene_id,
        "project": cell.project,
        "character": cell.character,
        "scene_type": cell.scene_type,
        "take": take.take,
        "revision": newest_revision(conn, scene_id),
        "video_sha256": take.sha256,
    }
    by_segment = {i: _provenance(conn, s) for i, s in segments.items()}
    layout = take_layout(storage, take, segments, current_trims(conn, scene_id))
    return _Chosen(take, folder, layout, common, by_segment)


def _provenance(conn: psycopg.Connection, segment: Segment) -> dict[str, Any]:
    """What a segment's rows say of how it was made and how it scored."""
    made = segment.provenance
    name, version = made.get("workflow"), made.get("workflow_version")
    models: list[str] = []
    if name and version is not None:
        try:
            workflow = get_workflow(conn, name, int(version))
            models = [f"{folder}/{file}" for folder, file in workflow_models(conn, workflow.id)]
        except NotFound:
            models = []  # the workflow was never registered (a backend's own graph)
    gates = segment.qa.get("gates") or []
    values = {
        g["name"]: float(g["value"])
        for g in gates
        if isinstance(g.get("value"), int | float) and not isinstance(g.get("value"), bool)
    }
    samples = (segment.qa.get("metrics") or {}).get("identity_samples") or []
    return {
        "segment_id": segment.id,
        "attempt": segment.attempt,
        "identity": values.get("identity"),
        "samples": {s["frame"]: s.get("similarity") for s in samples if "frame" in s},
        "qa_passed": segment.qa.get("passed"),
        "failed_gates": list(segment.qa.get("failed") or []),
        "qa_values": values,
        "workflow": name,
        "workflow_version": None if version is None else int(version),
        "workflow_sha256": made.get("workflow_sha256"),
        "seed": made.get("seed"),
        "models": models,
        "backend": made.get("backend"),
        "worker": made.get("worker"),
    }


def _write_frames(
    storage: Storage, chosen: _Chosen, scratch: Path, every: int, image_format: str
) -> list[dict[str, Any]]:
    """Write the take's chosen frames as images under `scratch`; their rows."""
    folder = scratch / FRAMES_DIR / chosen.folder
    folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="trulience-dataset-") as work:
        video = storage.local_file(storage.key_of(chosen.take.uri or ""), work)
        rows = []
        for frame, picture, clip, segment_frame in _frames(video, chosen, every):
            name = f"{frame:06d}.{image_format}"
            image = Image.fromarray(picture)
            options = {"quality": JPEG_QUALITY} if image_format == "jpeg" else {}
            image.save(folder / name, IMAGE_FORMATS[image_format], **options)
            made = dict(chosen.by_segment[clip.index])
            sample = made.pop("samples").get(segment_frame)
            rows.append(
                chosen.common
                | made
                | {
                    "frame": frame,
                    "time_s": float(frame / chosen.layout.fps),
                    "image": f"{FRAMES_DIR}/{chosen.folder}/{name}",
                    "width": picture.shape[1],
                    "height": picture.shape[0],
                    "segment": clip.index,
                    "segment_frame": segment_frame,
                    "identity_sample": sample,
                    "qa_values": list(made["qa_values"].items()),
                }
            )
    if len(rows) != -(-chosen.layout.frames // every):
        raise DatasetProblem(
            chosen.take.uri or "",
            f"gave {len(rows)} frames at stride {every}, its layout has {chosen.layout.frames}",
        )
    return rows


def _frames(
    video: Path, chosen: _Chosen, every: int
) -> Iterator[tuple[int, np.ndarray, EditClip, int]]:
    """Every `every`th frame of the take: its index, picture, segment and index there."""
    layout = chosen.layout
    placed = list(zip(layout.clips, layout.starts(), strict=True))
    at = 0
    for frame, picture in enumerate(read_frames(video)):
        if frame >= layout.frames:
            raise DatasetProblem(
                chosen.take.uri or "", f"holds more frames than its layout's {layout.frames}"
            )
        while frame >= placed[at][1] + placed[at][0].frames:
            at += 1
        clip, start = placed[at]
        if frame % every == 0:
            yield frame, picture, clip, clip.head + frame - start
