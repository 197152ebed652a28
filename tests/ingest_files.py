"""Image files for ingest tests: real photos shipped by installed packages, and broken ones."""

import io
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from trulience.samples import package_file

ASTRONAUT = package_file("skimage", "data/astronaut.png")
CAMERAMAN = package_file("skimage", "data/camera.png")
CAT = package_file("skimage", "data/chelsea.png")
COFFEE = package_file("skimage", "data/coffee.png")
GROUP = package_file("insightface", "data/images/t1.jpg")
TOM = package_file("insightface", "data/images/Tom_Hanks_54745.png")


def png_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def astronaut_variant(brightness: float = 1.0) -> bytes:
    """The astronaut, slightly changed, as new PNG bytes (a new version of the same photo)."""
    pixels = np.asarray(Image.open(ASTRONAUT).convert("RGB"), dtype=np.float32) * brightness
    return png_bytes(np.clip(pixels, 0, 255).astype(np.uint8))


def make_folder(
    inbox: Path, project: str, name: str, files: dict[str, bytes | Path], age_s: float = 60.0
) -> Path:
    """Drop a folder into the inbox, dated `age_s` seconds ago (settled)."""
    folder = inbox / project / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        (folder / filename).write_bytes(data)
    age(folder, age_s)
    return folder


def age(folder: Path, seconds: float) -> None:
    """Date a folder and its entries `seconds` in the past (links themselves, not their
    targets)."""
    stamp = time.time() - seconds
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def png_chunks(width: int, height: int, bit_depth: int, colour_type: int, raw: bytes) -> bytes:
    """A PNG written chunk by chunk, for what Pillow will not write (16-bit RGB, bombs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def bomb_png() -> bytes:
    """A 20000x20000 PNG of under 1 kB: refused from its header, never decoded."""
    return png_chunks(20_000, 20_000, 8, 2, b"\x00" * 60_001)


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.open(ASTRONAUT).convert("RGB").save(out, format="JPEG", quality=90)
    data = out.getvalue()
    return data[: len(data) // 2]


def unblock_if_stuck(fifo: Path, work: Callable[[], object]) -> object:
    """Run `work` in a thread; if it is still blocked on the pipe after a while, open the
    pipe's other end so the test fails instead of hanging the suite."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()), daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        with open(fifo, "wb"):
            pass
        thread.join(60)
    return result.get("value")
