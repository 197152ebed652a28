"""A take's segments assembled into its scene video (PRD-39, PRD-25), with a browser proxy
(PRD-83) and a storyboard strip of segment keyframes (PRD-62), stored beside the take."""

import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
from PIL import Image

from trulience.catalog import deliveries
from trulience.catalog import scenes as scene_repo
from trulience.catalog import trims as trim_repo
from trulience.catalog.records import Segment
from trulience.catalog.reviews import newest_revision
from trulience.catalog.trims import Trim
from trulience.delivery.assemble import AssemblyResult, assemble, reassemble
from trulience.delivery.package import make_proxy
from trulience.delivery.packets import read_layout
from trulience.errors import TrulienceError
from trulience.generation.backend import DEFAULT_CROSSFADE_FRAMES
from trulience.media.blur import blurred_png
from trulience.media.encode import DEFAULT_CRF
from trulience.media.frame_times import frames_key, proxy_frames, store_frames
from trulience.media.frames import first_frame
from trulience.media.trim import cut_frames
from trulience.storage import Storage, StoredObject

THUMB_HEIGHT = 96
BLURRED_STORYBOARD = "storyboard.blur.png"  # beside storyboard.png, for sensitive takes


class SceneNotReady(TrulienceError):
    """The take cannot be assembled yet: says what is missing."""


@dataclass(frozen=True)
class AssembledScene:
    scene_id: int
    uri: str
    sha256: str
    proxy_uri: str
    storyboard_uri: str
    frames: int
    reencoded_frames: int
    copied_frames: int
    method: str
    replaced_segment: int | None = None  # set when only this segment's seams were redone
    revision: int = 1  # the take's revision this file is (catalog trigger, 0014)
    new_revision: bool = True  # False: the same file as before, decisions on it stand


def storyboard(frames: list[np.ndarray], height: int = THUMB_HEIGHT) -> bytes:
    """One PNG strip of thumbnails, one per segment, in order."""
    thumbs = [
        Image.fromarray(f).resize((max(1, round(f.shape[1] * height / f.shape[0])), height))
        for f in frames
    ]
    strip = Image.new("RGB", (sum(t.width for t in thumbs) + 2 * (len(thumbs) - 1), height))
    x = 0
    for thumb in thumbs:
        strip.paste(thumb, (x, 0))
        x += thumb.width + 2
    out = io.BytesIO()
    strip.save(out, format="PNG")
    return out.getvalue()


def assemble_take(
    conn: psycopg.Connection, storage: Storage, scene_id: int, work_dir: Path
) -> AssembledScene:
    """Join the take's current segments (seams smoothed over the scene type's
    `crossfade_frames`, only the seam GOPs re-encoded), store video, proxy and storyboard,
    and mark the take assembled."""
    scene = scene_repo.get_take(conn, scene_id)
    segments = scene_repo.current_segments(conn, scene_id)
    planned = scene.planned_segments or 0
    if scene.status not in ("generated", "assembled") or sorted(segments) != list(range(planned)):
        raise SceneNotReady(
            f"take {scene.take} (scene {scene_id}) is {scene.status} with "
            f"{len(segments)}/{planned} segments; generate it first"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    crossfade = int(
        scene.effective_config.get("params", {}).get("crossfade_frames", DEFAULT_CROSSFADE_FRAMES)
    )
    prefix = segments[0].uri.rsplit("/", 1)[0]
    base = storage.key_of(prefix)
    trims = trim_repo.current_trims(conn, scene_id)
    local, sources, applied = _inputs(storage, base, segments, trims, work_dir, crossfade)
    earlier = _stored_assembly(storage, base, sources, crossfade)
    if earlier is not None and not earlier.changed:
        # The same segments again: the stored file stands (x264 does not always give the
        # same bytes twice), so a re-run makes no new revision and costs no encode.
        result, stored, stored_proxy, strip = _reuse(storage, base, earlier, local, work_dir)
        replaced = None
    else:
        replaced = earlier.changed[0] if earlier and len(earlier.changed) == 1 else None
        result = _assemble(storage, base, earlier, replaced, local, crossfade, work_dir)
        stored = storage.put_file(f"{base}/scene.mp4", result.path)
        stored_proxy = _put_proxy(storage, base, result.path, work_dir)
        strip = _put_storyboard(storage, base, local)
        manifest = result.to_dict() | {
            "sources": sources,
            "trims": applied,
            "output_sha256": stored.sha256,
        }
        storage.put_bytes(
            f"{base}/assembly.json", json.dumps(manifest, indent=2, default=str).encode()
        )
    before = newest_revision(conn, scene_id)
    deliveries.record_assembly(conn, scene_id, stored.uri, stored.sha256, result.frames)
    revision = newest_revision(conn, scene_id)
    return AssembledScene(
        scene_id,
        stored.uri,
        stored.sha256,
        stored_proxy.uri,
        strip.uri,
        result.frames,
        result.reencoded_frames,
        result.copied_frames,
        result.method,
        replaced,
        revision,
        revision != before,
    )


@dataclass(frozen=True)
class _Stored:
    """The take's stored assembly, intact, and the segments that changed since."""

    result: AssemblyResult
    sha256: str
    changed: tuple[int, ...]


def _stored_assembly(
    storage: Storage, base: str, sources: list[dict], crossfade: int
) -> _Stored | None:
    """The take's stored assembly when its manifest is readable, was made with the same
    seams from as many segments, and the stored video is the one it made; otherwise None
    (assemble anew)."""
    manifest_key, video_key = f"{base}/assembly.json", f"{base}/scene.mp4"
    if not storage.exists(manifest_key) or not storage.exists(video_key):
        return None
    try:
        data = json.loads(storage.read_bytes(manifest_key))
        earlier = AssemblyResult.from_dict(data)
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable manifest only costs a full assembly
    before = data.get("sources") or []
    if len(before) != len(sources) or earlier.crossfade_frames != crossfade:
        return None
    sha256 = storage.sha256(video_key)
    if sha256 != data.get("output_sha256"):
        return None
    changed = tuple(i for i, (a, b) in enumerate(zip(before, sources, strict=True)) if a != b)
    return _Stored(earlier, sha256, changed)


def _assemble(
    storage: Storage,
    base: str,
    earlier: "_Stored | None",
    replaced: int | None,
    local: list[Path],
    crossfade: int,
    work_dir: Path,
) -> AssemblyResult:
    """The take's video in `work_dir`: only the replaced segment's seams redone when one
    segment was retaken since the stored assembly, otherwise assembled anew."""
    video = work_dir / "scene.mp4"
    if earlier is None or replaced is None:
        return assemble(local, video, crossfade_frames=crossfade)
    previous = dataclasses.replace(
        earlier.result,
        path=storage.local_file(f"{base}/scene.mp4", work_dir / "previous"),
        segments=tuple(local),
    )
    return reassemble(previous, replaced, local[replaced], video)


def _reuse(
    storage: Storage, base: str, stored: _Stored, local: list[Path], work_dir: Path
) -> tuple[AssemblyResult, StoredObject, StoredObject, StoredObject]:
    """The stored assembly as it is; its proxy and storyboard remade only if missing."""
    video_key, proxy_key = f"{base}/scene.mp4", f"{base}/proxy.mp4"
    video = storage.stored(video_key)
    if storage.exists(proxy_key):
        proxy = storage.stored(proxy_key)
        if not storage.exists(frames_key(proxy_key)):  # a take assembled before frame times
            proxy_frames(storage, proxy_key)
    else:
        local_video = storage.local_file(video_key, work_dir / "stored")
        proxy = _put_proxy(storage, base, local_video, work_dir)
    strip_key = f"{base}/storyboard.png"
    if storage.exists(strip_key):
        strip = storage.stored(strip_key)
        if not storage.exists(f"{base}/{BLURRED_STORYBOARD}"):
            storage.put_bytes(
                f"{base}/{BLURRED_STORYBOARD}", blurred_png(storage.read_bytes(strip_key))
            )
    else:
        strip = _put_storyboard(storage, base, local)
    return stored.result, video, proxy, strip


def _put_proxy(storage: Storage, base: str, video: Path, work_dir: Path) -> StoredObject:
    """Make and store the take's browser proxy and, beside it, its frames' times."""
    local = work_dir / "proxy.mp4"
    make_proxy(video, local)
    proxy = storage.put_file(f"{base}/proxy.mp4", local)
    store_frames(storage, proxy.key, local)
    return proxy


def _put_storyboard(storage: Storage, base: str, local: list[Path]) -> StoredObject:
    """The storyboard strip, and its blurred copy for sensitive takes (PRD-82)."""
    strip = storyboard([first_frame(p) for p in local])
    storage.put_bytes(f"{base}/{BLURRED_STORYBOARD}", blurred_png(strip))
    return storage.put_bytes(f"{base}/storyboard.png", strip)


def _inputs(
    storage: Storage,
    base: str,
    segments: dict[int, Segment],
    trims: dict[int, Trim],
    work_dir: Path,
    crossfade: int,
) -> tuple[list[Path], list[dict], list[dict]]:
    """Each current segment's file as assembly reads it (a trimmed segment: its frames
    without the trimmed head and tail), what the manifest compares to find changed
    segments, and the trims applied (the take's provenance of them)."""
    local, sources, applied = [], [], []
    for index in range(len(segments)):
        segment = segments[index]
        path = storage.local_file(storage.key_of(segment.uri), work_dir)  # in place if local
        source = {"uri": segment.uri, "sha256": segment.sha256}
        trim = trims.get(index)
        if trim is not None and (trim.head or trim.tail):
            path, sha256 = _trimmed(storage, base, segment, trim, path, work_dir, crossfade)
            source |= {"head": trim.head, "tail": trim.tail, "trimmed_sha256": sha256}
            applied.append(
                {
                    "segment": index,
                    "segment_id": segment.id,
                    "attempt": segment.attempt,
                    "head": trim.head,
                    "tail": trim.tail,
                    "frames": (segment.frames or 0) - trim.head - trim.tail,
                    "by": trim.by_user,
                    "at": trim.at.isoformat(),
                    "reason": trim.reason,
                }
            )
        local.append(path)
        sources.append(source)
    return local, sources, applied


def _trimmed(
    storage: Storage,
    base: str,
    segment: Segment,
    trim: Trim,
    path: Path,
    work_dir: Path,
    crossfade: int,
) -> tuple[Path, str]:
    """The segment's frames without its trimmed head and tail, stored once beside the take
    and encoded like the segment (its CRF and GOP) so its GOPs splice in by packet copy,
    with GOPs opened right after the seam window at its start and at the one at its end
    (as the preview does, `seam_keyframes`)."""
    name = f"{segment.index}-{segment.attempt}-h{trim.head}-t{trim.tail}.mp4"
    key = f"{base}/trims/{name}"
    if storage.exists(key):
        return storage.local_file(key, work_dir / "trims"), storage.sha256(key)
    layout = read_layout(path)
    kept = layout.info.frames - trim.head - trim.tail
    made = work_dir / "trims" / name
    made.parent.mkdir(parents=True, exist_ok=True)
    cut_frames(
        path,
        made,
        head=trim.head,
        tail=trim.tail,
        crf=layout.crf if layout.crf is not None else DEFAULT_CRF,
        gop=layout.info.keyframe_interval or None,
        keyframes=(crossfade, kept - crossfade) if 0 < crossfade < kept - crossfade else (),
    )
    return made, storage.put_file(key, made).sha256
