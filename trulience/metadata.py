"""Character metadata validation against a declared schema (PRD-14).

The studio-wide default schema can be replaced per project (`settings.metadata_schema`).
Declared fields are checked for presence, type and allowed values; undeclared fields are
kept as they are, so a studio can carry its own fields without asking us first.
"""

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from trulience.errors import TrulienceError
from trulience.local_files import NotARegularFile, open_regular
from trulience.quoting import EXCERPT_LIMIT, excerpt, quote_name

# Bounds on a metadata.json before it is parsed: a character's metadata is a few kB.
MAX_METADATA_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 40

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")

DEFAULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Character metadata",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "role": {"type": "string", "maxLength": 200},
        "bio": {"type": "string", "maxLength": 5000},
        "age": {"type": "integer", "minimum": 0, "maximum": 200},
        "pronouns": {"type": "string", "maxLength": 40},
        "rating": {"enum": ["general", "teen", "mature"]},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "voice": {"type": "string"},
    },
    "additionalProperties": True,
}


# A message is a sentence, not a payload: whatever a caller quotes, a report.json or a log
# line never carries more than this per problem.
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: which file (if any), where in it (a field or JSON
    path) and why. Texts are escaped and bounded, so a problem is always safe to log and
    to store."""

    field: str
    message: str
    file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", quote_name(self.field, MESSAGE_LIMIT))
        object.__setattr__(self, "message", quote_name(self.message, MESSAGE_LIMIT))
        if self.file is not None:
            object.__setattr__(self, "file", quote_name(self.file, MESSAGE_LIMIT))

    def __str__(self) -> str:
        where = self.field if self.file in (None, self.field) else f"{self.file} {self.field}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, str | None]:
        """The problem as report.json and inbox_drops record it."""
        return {"file": self.file, "field": self.field, "message": self.message}


class InvalidMetadata(TrulienceError):
    """Metadata that does not satisfy the declared schema; lists every problem."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def schema_for(project_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata schema a project declares, or the studio default."""
    schema = project_settings.get("metadata_schema") or DEFAULT_SCHEMA
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidMetadata(
            "project metadata_schema", [Problem(_path(exc.path), exc.message)]
        ) from exc
    return schema


def metadata_problems(data: Any, schema: Mapping[str, Any]) -> list[Problem]:
    """Every way `data` breaks `schema`, as field paths and reasons (empty when valid); the
    offending value is quoted as a short excerpt, never whole."""
    validator = Draft202012Validator(schema)
    problems = [
        Problem(_path(e.absolute_path), _bounded_message(e)) for e in validator.iter_errors(data)
    ]
    return sorted(problems, key=lambda p: p.field)


def _bounded_message(error: ValidationError) -> str:
    """jsonschema's message with the offending value cut to an excerpt: it writes the whole
    instance into its messages ("'<50 MB of text>' is too long")."""
    message = error.message
    if len(message) <= EXCERPT_LIMIT * 2:
        return message
    whole = repr(error.instance)  # as long as what jsonschema already built
    return message.replace(whole, excerpt(error.instance)) if whole in message else message


def validate_metadata(data: Any, schema: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Return `data` if it satisfies `schema`, else raise InvalidMetadata naming `source`."""
    problems = metadata_problems(data, schema)
    if problems:
        raise InvalidMetadata(source, problems)
    return dict(data)


def read_metadata_file(
    path: Path, schema: Mapping[str, Any], label: str | None = None
) -> dict[str, Any]:
    """Read and validate a metadata.json file (a regular file, bounded in size, depth and
    number length, strict JSON); every problem names the file (`label`, else its path)."""
    source = label if label is not None else quote_name(str(path))
    try:
        with open_regular(path, source) as handle:
            raw = handle.read(MAX_METADATA_BYTES + 1)
    except NotARegularFile as exc:
        raise InvalidMetadata(source, [Problem("$", exc.reason, source)]) from exc
    except OSError as exc:
        problem = Problem("$", f"cannot be read ({exc.strerror or exc})", source)
        raise InvalidMetadata(source, [problem]) from exc
    if len(raw) > MAX_METADATA_BYTES:
        problem = Problem("$", f"is larger than {MAX_METADATA_BYTES // 1024} kB", source)
        raise InvalidMetadata(source, [problem])
    try:
        text = raw.decode("utf-8-sig")  # Windows editors start UTF-8 files with a BOM
    except UnicodeDecodeError as exc:
        problem = Problem("$", f"not UTF-8 text (byte {exc.start})", source)
        raise InvalidMetadata(source, [problem]) from exc
    data, problems = parse_strict_json(text)
    if problems:
        raise InvalidMetadata(source, [Problem(p.field, p.message, source) for p in problems])
    problems = metadata_problems(data, schema)
    if problems:
        raise InvalidMetadata(source, [Problem(p.field, p.message, source) for p in problems])
    return dict(data)


class _Refused:
    """Stands in for a JSON value the strict reader refuses; the walk reports it by path."""

    def __init__(self, reason: str):
        self.reason = reason


class _Object(dict):
    """A JSON object that remembers the keys it held more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = _Object(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        result.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return result


def _integer(text: str) -> Any:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        return _Refused(f"a number of {len(text):,} digits; at most {MAX_NUMBER_DIGITS}")
    return int(text)


def _float(text: str) -> Any:
    if len(text) > MAX_NUMBER_DIGITS:
        return _Refused(f"a number of {len(text):,} characters; at most {MAX_NUMBER_DIGITS}")
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity, which JSON cannot hold
        return _Refused(f"{excerpt(text)} is out of range for a number")
    return value


def _constant(name: str) -> Any:
    return _Refused(f"{name} is not a JSON number (NaN and Infinity are refused)")


def _nesting_depth(text: str, limit: int) -> int:
    """How deep arrays/objects nest, counted before parsing (the parser would recurse):
    stops counting once past `limit`."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def parse_strict_json(text: str) -> tuple[Any, list[Problem]]:
    """Parse JSON text as the catalog can store it: (value, problems by JSON path). Refuses
    nesting deeper than MAX_DEPTH, numbers longer than MAX_NUMBER_DIGITS, NaN and Infinity,
    NUL characters, unpaired surrogates and keys given twice."""
    if _nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        return None, [Problem("$", f"nests deeper than {MAX_DEPTH} levels")]
    try:
        data = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        return None, [Problem("$", reason)]
    except (ValueError, RecursionError) as exc:  # anything the bounds above did not foresee
        return None, [Problem("$", f"not readable as JSON ({excerpt(str(exc))})")]
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("$", data)]
    while stack:  # iterative: no recursion over user-chosen structure
        path, value = stack.pop()
        if isinstance(value, _Refused):
            problems.append(Problem(path, value.reason))
        elif isinstance(value, str):
            if reason := unstorable(value):
                problems.append(Problem(path, f"{excerpt(value)} {reason}"))
        elif isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                problems.append(Problem(_child(path, key), "key is given more than once"))
            for key, item in value.items():
                if reason := unstorable(key):
                    problems.append(Problem(path, f"key {excerpt(key)} {reason}"))
                else:
                    stack.append((_child(path, key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return _plain(data), sorted(set(problems), key=lambda p: p.field)


def unstorable(text: str) -> str | None:
    """Why the catalog cannot store this text (a NUL, an unpaired surrogate), or None."""
    # Postgres text and jsonb cannot hold NUL, and UTF-8 cannot encode a lone surrogate.
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which cannot be stored"
    if _SURROGATE.search(text):
        return "holds an unpaired surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _PLAIN_KEY.match(key) else f"{path}[{excerpt(key)}]"


def _plain(value: Any) -> Any:
    """The parsed value with our dict subclass turned back into plain dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
