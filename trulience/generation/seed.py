"""The frame each segment starts from: segment 0 from the character's primary image (its
face-centred variant at the scene's resolution), segment n from segment n-1's lossless last
frame, and past the chain-depth limit a seed pulled back to the take's colour anchor."""

import hashlib
import logging
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import psycopg

from trulience.catalog.scenes import crop_variant
from trulience.catalog.source_images import list_source_images
from trulience.errors import TrulienceError
from trulience.faces.crops import face_crop
from trulience.generation.backend import PermanentBackendError
from trulience.generation.continuity import LabStats, normalise_to_anchor
from trulience.generation.scene_config import SceneConfig
from trulience.generation.stops import NotReady
from trulience.media.frames import last_frame
from trulience.media.image_decode import load_image
from trulience.storage import Storage

log = logging.getLogger(__name__)

# Stored, not deflated: on the loop's hot path a 720p frame takes ~5 ms this way against
# ~49 ms at zlib level 1, for 2.7 MB instead of 1.2 MB (benchmarks/loop.py). These frames
# exist to chain segments; time matters more than their size.
_PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


class SeedFrame(NamedTuple):
    """A segment's first frame (RGB), its sha256, and where it came from (provenance)."""

    pixels: np.ndarray
    sha256: str
    source: str


def first_seed_frame(
    conn: psycopg.Connection, storage: Storage, character: str, config: SceneConfig
) -> SeedFrame:
    """Segment 0's seed: the face-centred variant of the primary image at the scene's
    resolution (made on the fly when no stored variant has that size)."""
    primary = next(
        (
            i
            for i in list_source_images(conn, character)
            if i.is_primary and i.qa_status == "passed"
        ),
        None,
    )
    if primary is None:
        raise NotReady(
            f"character {character!r} has no primary image that passed QA; run its "
            "source_images asset or choose one with `trulience characters set-primary`"
        )
    stored = crop_variant(conn, primary.id, config.width, config.height)
    if stored is not None:
        data = storage.read_bytes(storage.key_of(stored.uri))
        return SeedFrame(_png_pixels(data), stored.sha256, "variant")
    face = (primary.qa or {}).get("face")
    if not face:
        raise NotReady(f"character {character!r}: the primary image has no face box from QA")
    variant = face_crop(
        load_image(storage, primary).pixels, tuple(face["box"]), config.width, config.height
    )
    return SeedFrame(
        variant.pixels, sha256_of(variant.pixels), "primary image (cropped on the fly)"
    )


def chained_seed(storage: Storage, previous: Any, work_dir: Path) -> SeedFrame:
    """Seed of segment n from committed segment n-1: its lossless last frame, or (only when
    that is missing) its video's last frame, found by seeking near the end."""
    uri = previous.provenance.get("last_frame_uri")
    if uri:
        try:
            data = storage.read_bytes(storage.key_of(uri))
            return SeedFrame(
                _png_pixels(data), previous.provenance["last_frame_sha256"], "lossless"
            )
        except TrulienceError:
            log.warning(
                "lossless last frame of segment %s missing; seeking the video", previous.index
            )
    local = storage.local_file(storage.key_of(previous.uri), work_dir)
    pixels = last_frame(local)
    return SeedFrame(pixels, sha256_of(pixels), "seek")


def reanchored(seed: SeedFrame, anchor: LabStats) -> SeedFrame:
    """The seed with its colour pulled back to the take's anchor (past the chain-depth
    limit), so drift cannot compound through the chain; its sha256 stays the original's."""
    return seed._replace(
        pixels=normalise_to_anchor(seed.pixels, anchor, 1.0), source=seed.source + ", re-anchored"
    )


def sha256_of(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def png_bytes(pixels: np.ndarray) -> bytes:
    """Lossless PNG of an RGB frame, written for speed."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), _PNG_FAST)
    if not ok:
        raise PermanentBackendError("could not encode the last frame as PNG")
    return data.tobytes()


def _png_pixels(data: bytes) -> np.ndarray:
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
