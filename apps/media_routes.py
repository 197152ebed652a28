"""Stored media served to the browser with HTTP Range requests, for the player's <video>:
`panel serve ... --plugins apps.media_routes` adds the `/media/` route.

Minimal, unsigned version in the player branch: it serves the local storage root as
static files. The media task's version (signed, expiring tokens) replaces it with the same
`ROUTES` and `media_url` interface.
"""

from urllib.parse import quote

from tornado.web import StaticFileHandler

from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.storage import Storage, check_key


def _storage_root() -> str:
    settings = Settings.from_env()
    storage = Storage(settings.storage_url, settings.storage_options)
    if not storage.url.startswith("file://"):
        raise TrulienceError(f"media routes serve local storage only, not {storage.shown}")
    return storage.root


def media_url(key: str, *, ttl_s: int = 3600, share: int | None = None) -> str:
    """A same-origin URL the browser fetches stored object `key` from."""
    return "/media/" + quote(check_key(key))


def __getattr__(name: str) -> list:
    # Read by `panel serve --plugins` only: importing the module for `media_url` touches
    # no storage.
    if name == "ROUTES":
        return [(r"/media/(.*)", StaticFileHandler, {"path": _storage_root()})]
    raise AttributeError(name)
