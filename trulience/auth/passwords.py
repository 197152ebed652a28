"""Password hashing with scrypt: `scrypt$n$r$p$salt$hash`, salts random per password."""

import base64
import hashlib
import hmac
import secrets

from trulience.auth.errors import WeakPassword

MIN_LENGTH = 8
# Cost parameters (RFC 7914's interactive-login recommendation): ~50 ms and 32 MiB per hash.
N, R, P = 2**15, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
# A stored hash names its own parameters; cap them so a tampered row cannot exhaust memory.
_MAX_N = 2**20


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # hashlib's default maxmem (32 MiB) is exactly 128*n*r for our N, R: leave headroom
    maxmem = 256 * n * r * p
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def check_strength(password: str) -> None:
    """Refuse an empty or short password with a reason the user can act on."""
    if not password or not password.strip():
        raise WeakPassword("the password must not be empty")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"the password is {len(password)} characters; it needs at least {MIN_LENGTH}"
        )


def hash_password(password: str) -> str:
    """The encoded scrypt hash of `password` with a fresh random salt."""
    check_strength(password)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, N, R, P, HASH_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """Whether `password` matches `encoded` (constant-time; False for a malformed hash)."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = (encoded or "").split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except ValueError:
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_N and 0 < r <= 32 and 0 < p <= 16) or not expected:
        return False
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)
