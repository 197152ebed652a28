"""A take's thumbnail for the review queue (PRD-92): the first frame of its browser proxy
(or of the scene video, for a take assembled before proxies), made once and stored beside
the take as `thumb.jpg`."""

import io
import tempfile

from PIL import Image

from trulience.media.frames import first_frame
from trulience.storage import Storage

THUMB_WIDTH = 240
THUMB_NAME = "thumb.jpg"


def thumbnail_key(video_key: str) -> str:
    """Where the thumbnail of the take whose video is `video_key` is stored: beside it."""
    folder, _, _ = video_key.rpartition("/")
    return f"{folder}/{THUMB_NAME}" if folder else THUMB_NAME


def take_thumbnail(storage: Storage, video_key: str) -> str | None:
    """The key of the take's thumbnail, made from its first frame the first time it is
    asked for; None when the take has neither proxy nor video stored."""
    key = thumbnail_key(video_key)
    if storage.exists(key):
        return key
    folder = video_key.rpartition("/")[0]
    sources = [f"{folder}/proxy.mp4" if folder else "proxy.mp4", video_key]
    source = next((s for s in sources if storage.exists(s)), None)
    if source is None:
        return None
    with tempfile.TemporaryDirectory() as work:
        frame = first_frame(storage.local_file(source, work))
    picture = Image.fromarray(frame)
    height = max(1, round(picture.height * THUMB_WIDTH / picture.width))
    out = io.BytesIO()
    picture.resize((THUMB_WIDTH, height)).save(out, format="JPEG", quality=85)
    storage.put_bytes(key, out.getvalue())
    return key
