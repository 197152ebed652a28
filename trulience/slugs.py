"""Slugs: the names catalog rows, storage keys and Dagster partition keys share."""

import re
import unicodedata

from trulience.errors import TrulienceError

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class InvalidSlug(TrulienceError):
    """A name cannot serve as a slug."""


def check_slug(value: str, what: str = "slug") -> str:
    """Return `value` if it is a valid slug, else raise InvalidSlug saying why."""
    if not isinstance(value, str) or not SLUG.match(value):
        raise InvalidSlug(
            f"{what} {value!r} must be 1-63 lowercase letters, digits, '-' or '_', starting "
            "with a letter or digit (no '|', '/', '.', spaces or control characters)"
        )
    return value


def slugify(text: str) -> str:
    """A slug made from free text: 'Ava Chen (v2)' -> 'ava-chen-v2'; raises if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].rstrip("-")
    return check_slug(slug, f"name {text!r} gives slug")
