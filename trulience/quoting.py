"""User-given text made safe to show: names escaped for logs, values cut to a short excerpt.

Folder and file names come from whoever dropped them, and metadata values can be megabytes
long. A log line or a report quotes them through here, so a newline or an ESC in a name
cannot forge a log line or drive a terminal, and one huge value cannot flood a log or a
report.json.
"""

import math
import reprlib

NAME_LIMIT = 120
EXCERPT_LIMIT = 60


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """`text` with every character that is unsafe to print written as a backslash escape;
    other characters unchanged. Unsafe is what Python deems unprintable: controls (newline,
    ESC, NUL), format characters (bidi overrides, zero-width), separators other than the
    ASCII space (no-break space, line separator), lone surrogates (undecodable bytes in a
    file name), unassigned code points."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = max(limit - 1, 1)
    return f"{text[:head]}… ({len(text):,} characters)"


def quote_name(text: object, limit: int = NAME_LIMIT) -> str:
    """A user-given name (folder, file, slug) as it can safely appear in a log line or a
    message: unsafe characters escaped, cut to `limit` characters with its length said."""
    name = text if isinstance(text, str) else str(text)
    # Cut before escaping so a name of a million control characters costs nothing.
    return escape(_cut(name, limit))


class _ExcerptRepr(reprlib.Repr):
    """reprlib's bounded repr, which never builds the whole representation of a big value."""

    def repr_str(self, x: str, level: int) -> str:
        return "'" + quote_name(x, self.maxstring) + "'"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 64:
            return repr(x)
        # str() of a huge integer is refused by Python (and slow): say how long it is.
        digits = int(x.bit_length() * math.log10(2)) + 1
        return f"{'-' if x < 0 else ''}<an integer of about {digits:,} digits>"


def excerpt(value: object, limit: int = EXCERPT_LIMIT) -> str:
    """A short, printable representation of a user value for a message: strings quoted and
    escaped, long ones cut with their length said, containers shown in part."""
    shown = _ExcerptRepr()
    shown.maxstring = limit
    shown.maxother = limit
    shown.maxlevel = 3
    shown.maxlist = shown.maxtuple = shown.maxdict = shown.maxset = 6
    text = shown.repr(value)
    return text if len(text) <= 4 * limit else text[: 4 * limit] + "…"
