"""Signed, expiring tokens for links that work without a login (media URLs, share links).

A token is `base64url(JSON payload).base64url(HMAC-SHA256 of that text)`, unpadded; the
payload carries its own expiry `exp` (Unix seconds). The key is `Settings.signing_secret()`:
TRULIENCE_SECRET, or one generated once under the home, so links survive a restart.
"""

import base64
import hashlib
import hmac
import json
import time

from trulience.auth.errors import AuthError
from trulience.config import Settings

MAX_TTL_S = 366 * 24 * 3600


class LinkInvalid(AuthError):
    """A token that was not signed by us, or was altered since."""


class LinkExpired(AuthError):
    """A token signed by us whose expiry has passed."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, refusing any text that is not the one encoding of its bytes
    (stray characters, or unused low bits changed, would otherwise decode the same)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise LinkInvalid("the link is damaged (not base64url)") from error
    if _b64(raw) != text:
        raise LinkInvalid("the link is damaged (not base64url)")
    return raw


def _mac(body: str, secret: bytes) -> bytes:
    return hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()


def sign(payload: dict, ttl_s: int, *, secret: bytes | None = None) -> str:
    """A token carrying `payload` (JSON-serialisable, without `exp`) valid for `ttl_s` s."""
    if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s must be whole seconds from 1 to {MAX_TTL_S}, got {ttl_s!r}")
    if "exp" in payload:
        raise ValueError("the payload must not carry its own 'exp'; give ttl_s")
    body = _b64(
        json.dumps(
            payload | {"exp": int(time.time()) + ttl_s}, separators=(",", ":"), sort_keys=True
        ).encode()
    )
    key = secret if secret is not None else Settings.from_env().signing_secret()
    return f"{body}.{_b64(_mac(body, key))}"


def verify(token: str, *, secret: bytes | None = None, now: float | None = None) -> dict:
    """The payload of a token we signed (with its `exp`); LinkInvalid when it is not ours
    or was altered, LinkExpired when its time is up."""
    if not isinstance(token, str) or token.count(".") != 1 or not token.isascii():
        raise LinkInvalid("the link is not one of ours (malformed)")
    body, signature = token.split(".")
    key = secret if secret is not None else Settings.from_env().signing_secret()
    if not hmac.compare_digest(_unb64(signature), _mac(body, key)):
        raise LinkInvalid("the link's signature does not match (altered or not ours)")
    try:
        payload = json.loads(_unb64(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LinkInvalid("the link's payload is not readable") from error
    exp = payload.get("exp") if isinstance(payload, dict) else None
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise LinkInvalid("the link carries no expiry")
    if exp <= (time.time() if now is None else now):
        raise LinkExpired("the link has expired")
    return payload
