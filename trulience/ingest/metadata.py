"""Character metadata validation against a declared schema (PRD-14).

The studio-wide default schema can be replaced per project (`settings.metadata_schema`).
Declared fields are checked for presence, type and allowed values; undeclared fields are
kept as they are, so a studio can carry its own fields without asking us first.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from trulience.errors import TrulienceError

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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: where (a field path) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


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
    """Every way `data` breaks `schema`, as field paths and reasons (empty when valid)."""
    validator = Draft202012Validator(schema)
    problems = [Problem(_path(e.absolute_path), e.message) for e in validator.iter_errors(data)]
    return sorted(problems, key=lambda p: p.field)


def validate_metadata(data: Any, schema: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Return `data` if it satisfies `schema`, else raise InvalidMetadata naming `source`."""
    problems = metadata_problems(data, schema)
    if problems:
        raise InvalidMetadata(source, problems)
    return dict(data)


def read_metadata_file(path: Path, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Read and validate a metadata.json file; every problem names the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMetadata(str(path), [Problem("$", "not UTF-8 text")]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = Problem("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        raise InvalidMetadata(str(path), [problem]) from exc
    return validate_metadata(data, schema, str(path))


def _path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
