"""Signed media URLs for the browser player: `panel serve ... --plugins apps.media_routes`.

`media_url(key)` signs a stored object's key into a same-origin URL `/media/<token>/<name>`;
`MediaHandler` verifies the token and serves the object with tornado's StaticFileHandler,
so HTTP Range (206), ETag and If-None-Match work as for any static file and a browser
<video> seeks natively. A local storage is served in place; an object store's object is
copied once into a cache folder under the home. A token scoped to a share link is refused
as soon as the link is revoked or expires, though the token itself has not: the link is
asked on every request, and the answer is never cached by the browser (`no-cache`).
"""

import asyncio
import functools
import os
from pathlib import Path

from tornado.web import HTTPError, StaticFileHandler

from trulience.auth.media_links import MEDIA_PREFIX, media_path
from trulience.auth.signed import LinkExpired, LinkInvalid, verify
from trulience.catalog.database import connect, database_url
from trulience.config import Settings
from trulience.errors import InvalidStorageKey, StorageError
from trulience.review.share import link_refusal, record_media_refusal
from trulience.storage import Storage


@functools.cache
def _media_storage() -> tuple[Storage, Path]:
    """The process's storage (as every app builds it) and its cache folder for remote media."""
    settings = Settings.from_env()
    return Storage(settings.storage_url, settings.storage_options), settings.home / "media-cache"


@functools.cache
def _catalog_url() -> str:
    return database_url(Settings.from_env())


def media_url(key: str, *, ttl_s: int = 3600, share: int | None = None) -> str:
    """A same-origin URL serving stored object `key` for `ttl_s` seconds (with `share`:
    only while that share link stands)."""
    return media_path(key, ttl_s=ttl_s, share=share)


def _share_refusal(link_id: int, remote: str) -> str | None:
    """Why a share-scoped request is refused now (recorded as a refused use), or None."""
    with connect(_catalog_url(), actor=f"share:{link_id}") as conn:
        reason = link_refusal(conn, link_id)
        if reason is not None and reason != "the share link is not known":
            record_media_refusal(conn, link_id, reason, remote)
        return reason


class MediaHandler(StaticFileHandler):
    """Serves `/media/<token>/<name>`: the stored object the token names, or 403 with one
    line saying why (never a byte of media)."""

    def initialize(self) -> None:  # the root is the object's own folder, set per request
        self.root = ""
        self.default_filename = None

    def head(self, token: str) -> "asyncio.Future[None]":
        return self.get(token, include_body=False)

    async def get(self, token: str, include_body: bool = True) -> None:
        try:
            payload = verify(token)
        except (LinkInvalid, LinkExpired) as refusal:
            return self._refuse(str(refusal))
        share = payload.get("share")
        if share is not None:
            reason = await asyncio.to_thread(_share_refusal, int(share), self.request.remote_ip)
            if reason is not None:
                return self._refuse("")  # the link's page says why; the media says nothing
        try:
            path = await asyncio.to_thread(self._local_path, str(payload.get("key", "")))
        except (InvalidStorageKey, StorageError):
            raise HTTPError(404) from None
        self.root = str(path.parent)
        await super().get(path.name, include_body)

    @staticmethod
    def _local_path(key: str) -> Path:
        storage, cache = _media_storage()
        return storage.local_file(key, cache)

    def _refuse(self, reason: str) -> None:
        self.clear()
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(f"{reason}\n" if reason else "")

    def compute_etag(self) -> str | None:
        # By size and modification time: tornado's default hashes the whole file once and
        # keeps it for the process, stale after a take's proxy is made anew.
        stat = os.stat(self.absolute_path)
        return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'

    def set_extra_headers(self, path: str) -> None:
        # Revalidate every time, so a revoked link's media stop at once.
        self.set_header("Cache-Control", "private, no-cache")

    def get_cache_time(self, path: str, modified: object, mime_type: str) -> int:
        return 0

    def write_error(self, status_code: int, **kwargs: object) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{self._reason}\n")


ROUTES = [(MEDIA_PREFIX + r"/([^/]+)/[^/]*", MediaHandler)]
