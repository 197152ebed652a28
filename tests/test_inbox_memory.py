"""Memory stays flat with folder size (issue 12): the inbox checks a folder's photos one at a
time and keeps only their description, so a folder of many large photos imports in the
memory of one. Measured in a subprocess by its peak resident set (VmHWM)."""

import io
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.ingest_files import age
from trulience.catalog import characters, projects, source_images

PHOTOS = 20
SIDE = 3000
# One decoded 3000x3000 photo is 27 MB of RGB; keeping all twenty (as the inbox did) grew
# the peak by ~510 MB here. Checking one at a time grew it by ~20 MB beyond a one-photo
# warm-up. The bound sits far from both.
GROWTH_BOUND_MB = 150

MEASURE = """
import json, sys
from pathlib import Path
from trulience.catalog.database import connect
from trulience.ingest.inbox import import_drop, scan_inbox
from trulience.storage import Storage

db_url, storage_url, inbox = sys.argv[1], sys.argv[2], Path(sys.argv[3])
storage = Storage(storage_url)

def peak_mb():
    # VmHWM: this process's own peak (getrusage's ru_maxrss keeps the parent's across exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
drops = {d.name: d for d in scan_inbox(inbox)}
with connect(db_url, actor="tester") as conn:
    # Warm-up: a one-photo folder of the same size loads every library and decodes once.
    warm = import_drop(conn, storage, drops["warm-up"])
    before = peak_mb()
    report = import_drop(conn, storage, drops["studio-shoot"])
    after = peak_mb()
print(json.dumps({"warm": warm.outcome, "outcome": report.outcome,
                  "added": len(report.images_added), "before_mb": before, "after_mb": after}))
"""


def photo(seed: int) -> bytes:
    """A 3000x3000 JPEG of smooth colour fields, different for each seed."""
    fields = np.random.default_rng(seed).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    image = Image.fromarray(fields).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_folder_of_many_large_photos_imports_in_the_memory_of_one(conn, db_url, tmp_path):
    projects.create_project(conn, "moonbase", "Moonbase")
    inbox = tmp_path / "inbox"
    for name, count in (("warm-up", 1), ("studio-shoot", PHOTOS)):
        folder = inbox / "moonbase" / name
        folder.mkdir(parents=True)
        for index in range(count):
            (folder / f"photo-{index:02d}.jpg").write_bytes(
                photo(index + (100 if count == 1 else 0))
            )
        age(folder, 60)
    storage_url = (tmp_path / "storage").as_uri()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, db_url, storage_url, str(inbox)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    growth = figures["after_mb"] - figures["before_mb"]
    print(
        f"\n{PHOTOS} photos of {SIDE}x{SIDE}: peak RSS {figures['before_mb']:.0f} MB after the "
        f"warm-up, {figures['after_mb']:.0f} MB after the import: grew {growth:.0f} MB "
        f"(bound {GROWTH_BOUND_MB} MB)"
    )
    assert (figures["warm"], figures["outcome"], figures["added"]) == (
        "imported",
        "imported",
        PHOTOS,
    )
    assert len(source_images.list_source_images(conn, "studio-shoot")) == PHOTOS
    assert characters.get_character(conn, "studio-shoot")
    assert growth < GROWTH_BOUND_MB
