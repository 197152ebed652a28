"""Image files for ingest tests: real photos shipped by installed packages, and broken ones."""

import io
import os
import time
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
    """Date a folder and its files `seconds` in the past."""
    stamp = time.time() - seconds
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (stamp, stamp))
