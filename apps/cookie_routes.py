"""The Studio's session cookie, HttpOnly: `panel serve ... --plugins apps.cookie_routes`.

Script in the page never sees the session token. After a login the Studio's server side
puts the token under a one-time nonce (`hand_over`), sends the browser only the nonce, and
the browser POSTs it to `/studio-cookie/<nonce>`; this route answers with
`Set-Cookie: trulience_studio=<token>; HttpOnly; SameSite=Strict; Path=/` (or, for a logout's
nonce, a cookie cleared). A nonce works once, for `NONCE_TTL_S` seconds, in the process that
made it (the one serving the Studio); any other answers 403 and sets nothing.
"""

import secrets
import threading
import time

from tornado.web import RequestHandler

COOKIE = "trulience_studio"
NONCE_TTL_S = 60.0
PATH = "/studio-cookie"

_nonces: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def hand_over(token: str | None) -> str:
    """A one-time nonce the browser exchanges for the cookie holding `token` (None or '':
    a nonce clearing it)."""
    nonce = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for stale in [key for key, (_, made) in _nonces.items() if now - made > NONCE_TTL_S]:
            del _nonces[stale]
        _nonces[nonce] = (token or "", now)
    return nonce


def redeem(nonce: str) -> str | None:
    """The token `nonce` was made for ('' to clear), once; None if unknown, used or stale."""
    with _lock:
        entry = _nonces.pop(nonce, None)
    if entry is None or time.monotonic() - entry[1] > NONCE_TTL_S:
        return None
    return entry[0]


class CookieHandler(RequestHandler):
    """POST `/studio-cookie/<nonce>`: sets (or clears) the Studio's HttpOnly cookie."""

    def post(self, nonce: str) -> None:
        token = redeem(nonce)
        self.set_header("Cache-Control", "no-store")
        if token is None:
            self.set_status(403)
            self.finish("unknown or used nonce\n")
            return
        if token:
            self.set_cookie(COOKIE, token, path="/", httponly=True, samesite="Strict")
        else:
            self.clear_cookie(COOKIE, path="/")
        self.set_status(204)
        self.finish()

    def check_xsrf_cookie(self) -> None:  # the nonce is the proof: it is made per session
        return None


ROUTES = [(PATH + r"/([A-Za-z0-9_-]+)", CookieHandler)]
