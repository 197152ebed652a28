"""Where a stored object is served over HTTP: `/media/<token>/<name>`, the route
apps.media_routes serves on every app server (the review server at TRULIENCE_PUBLIC_URL
among them). The token is signed (trulience.auth.signed) and names the object's key; with
`share` it is good only while that share link stands."""

from urllib.parse import quote

from trulience.auth.signed import sign
from trulience.storage import check_key

MEDIA_PREFIX = "/media"


def media_path(
    key: str, *, ttl_s: int = 3600, share: int | None = None, secret: bytes | None = None
) -> str:
    """The server-relative path serving stored object `key` for `ttl_s` seconds (signed
    with `secret`, default the settings' signing secret)."""
    payload: dict = {"key": check_key(key)}
    if share is not None:
        payload["share"] = int(share)
    name = quote(key.rsplit("/", 1)[-1], safe="")
    return f"{MEDIA_PREFIX}/{sign(payload, ttl_s, secret=secret)}/{name}"
