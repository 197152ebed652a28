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
    """Where the thumbnail of the take whose video is `video_key` is stored: `thumb.jpg`
    beside an assembled take's `scene.mp4`, else `<video name>.thumb.jpg` beside the video."""
    folder, _, name = video_key.rpartition("/")
    if name == "scene.mp4":
        return f"{folder}/{THUMB_NAME}" if folder else THUMB_NAME
    return f"{video_key.rpartition('.')[0] or video_key}.{THUMB_NAME}"


def take_thumbnail(storage: Storage, video_key: str) -> str | None:
    """The key of the take's thumbnail, made from its first frame the first time it is
    asked for; None when the take has neither proxy nor video stored."""
    key = thumbnail_key(video_key)
    if storage.exists(key):
        return key
    folder, _, name = video_key.rpartition("/")
    # an assembled take's proxy is `proxy.mp4` beside its `scene.mp4`
    proxy = (f"{folder}/proxy.mp4" if folder else "proxy.mp4") if name == "scene.mp4" else None
    sources = [s for s in (proxy, video_key) if s is not None]
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
