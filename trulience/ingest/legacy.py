"""Importing a legacy folder/CSV layout through a declared mapping (PRD-86).

The mapping (JSON, or YAML) says which legacy column holds the slug, the name and each
metadata field, and where the images are (a column of paths, or a glob per row). The rows are
rewritten as the onboarding CSV and imported by the same service (csv_import), so what is
created, skipped or refused, and why, is exactly what `trulience import characters` says.
"""

import csv
import glob
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from trulience.errors import TrulienceError
from trulience.ingest.csv_import import REQUIRED_COLUMNS, ImportReport, import_characters
from trulience.progress import Progress
from trulience.quoting import excerpt, quote_name
from trulience.storage import Storage

MAX_MAPPING_BYTES = 64 * 1024
_KEYS = {"csv", "delimiter", "slug", "name", "images", "metadata"}
_IMAGE_KEYS = {"column", "folder", "separator", "glob"}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class InvalidMapping(TrulienceError):
    """A mapping file that cannot be used; the message names the key and why."""


@dataclass(frozen=True)
class Mapping:
    """Where a legacy layout keeps what the onboarding CSV needs."""

    csv: Path
    slug: str
    name: str
    metadata: dict[str, str] = field(default_factory=dict)
    image_column: str | None = None
    image_folder: Path | None = None
    separator: str = ";"
    image_glob: str | None = None
    delimiter: str = ","


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMapping(f"{where}: key {key!r} must be a non-empty text, not {value!r}")
    return value


def read_mapping(path: Path, folder: Path) -> Mapping:
    """The mapping in `path` (JSON or YAML), checked key by key against the legacy `folder`."""
    where = quote_name(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidMapping(f"{where}: cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_MAPPING_BYTES:
        raise InvalidMapping(
            f"{where}: {len(raw):,} bytes; a mapping has at most {MAX_MAPPING_BYTES:,}"
        )
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(raw.decode("utf-8"))
        else:
            data = json.loads(raw.decode("utf-8"))
    except Exception as exc:  # JSON, YAML or UTF-8: the file is not a mapping
        raise InvalidMapping(f"{where}: not readable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise InvalidMapping(f"{where}: expected an object with keys {', '.join(sorted(_KEYS))}")
    if unknown := sorted(set(data) - _KEYS):
        raise InvalidMapping(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    for key in ("csv", "slug", "name", "images"):
        if key not in data:
            raise InvalidMapping(f"{where}: key {key!r} is missing")
    table = folder / _text(data["csv"], "csv", where)
    if not table.is_file():
        raise InvalidMapping(f"{where}: key 'csv': {quote_name(str(table))} is not a file")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise InvalidMapping(f"{where}: key 'delimiter' must be one character, not {delimiter!r}")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InvalidMapping(f"{where}: key 'metadata' must map field names to columns")
    for name, column in metadata.items():
        _text(column, f"metadata.{name}", where)
        if name in REQUIRED_COLUMNS:
            raise InvalidMapping(
                f"{where}: key 'metadata.{name}': {name!r} is not a metadata field"
            )
    images = data["images"]
    if isinstance(images, str):
        images = {"column": images}
    if not isinstance(images, dict) or unknown_images(images):
        raise InvalidMapping(
            f"{where}: key 'images' must be a column name or an object with "
            f"{', '.join(sorted(_IMAGE_KEYS))} (not {excerpt(str(images))})"
        )
    if ("column" in images) == ("glob" in images):
        raise InvalidMapping(f"{where}: key 'images' needs exactly one of 'column' and 'glob'")
    mapping = Mapping(
        csv=table,
        slug=_text(data["slug"], "slug", where),
        name=_text(data["name"], "name", where),
        metadata={str(k): v for k, v in metadata.items()},
        image_column=images.get("column"),
        image_folder=folder / images["folder"] if "folder" in images else folder,
        separator=images.get("separator", ";"),
        image_glob=images.get("glob"),
        delimiter=delimiter,
    )
    _check_columns(mapping, where)
    return mapping


def unknown_images(images: dict) -> list[str]:
    """Keys of the 'images' object the mapping does not know."""
    return sorted(set(images) - _IMAGE_KEYS)


def _header(mapping: Mapping) -> list[str]:
    with mapping.csv.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle, delimiter=mapping.delimiter), [])


def _check_columns(mapping: Mapping, where: str) -> None:
    """Every column the mapping names is in the legacy CSV's header."""
    try:
        header = set(_header(mapping))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidMapping(f"{where}: key 'csv': not readable as CSV ({exc})") from exc
    wanted = {"slug": mapping.slug, "name": mapping.name}
    wanted |= {f"metadata.{k}": v for k, v in mapping.metadata.items()}
    if mapping.image_column:
        wanted["images.column"] = mapping.image_column
    if mapping.image_glob:
        wanted |= {f"images.glob {{{c}}}": c for c in _PLACEHOLDER.findall(mapping.image_glob)}
    for key, column in wanted.items():
        if column not in header:
            known = ", ".join(sorted(header)) or "none"
            raise InvalidMapping(
                f"{where}: key {key!r}: no column {column!r} in {mapping.csv.name} "
                f"(its columns: {known})"
            )


def _images(mapping: Mapping, row: dict[str, str]) -> list[str]:
    """The row's images as absolute paths (a glob finds them sorted)."""
    if mapping.image_glob:
        pattern = _PLACEHOLDER.sub(lambda m: glob.escape(row.get(m[1]) or ""), mapping.image_glob)
        base = mapping.image_folder or mapping.csv.parent
        return sorted(str(Path(p).resolve()) for p in glob.glob(str(base / pattern)))
    cell = row.get(mapping.image_column or "") or ""
    base = mapping.image_folder or mapping.csv.parent
    return [
        part.strip() if "://" in part else str((base / part.strip()).resolve())
        for part in cell.split(mapping.separator)
        if part.strip()
    ]


def onboarding_csv(mapping: Mapping, target: Path) -> list[int]:
    """Write the legacy rows as the onboarding CSV at `target`; each row's legacy line."""
    columns = ["slug", "name", "images", *mapping.metadata]
    lines = []
    with (
        mapping.csv.open(encoding="utf-8-sig", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.DictReader(source, delimiter=mapping.delimiter)
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in reader:
            lines.append(reader.line_num)
            writer.writerow(
                [
                    row.get(mapping.slug) or "",
                    row.get(mapping.name) or "",
                    ";".join(_images(mapping, row)),
                    *(row.get(column) or "" for column in mapping.metadata.values()),
                ]
            )
    return lines


def import_legacy(
    conn: psycopg.Connection,
    storage: Storage,
    folder: Path,
    mapping_path: Path,
    project: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a legacy layout through its mapping (the CSV import's rules: each valid row
    whole, a bad row refused with its field and reason); line numbers are the legacy CSV's."""
    mapping = read_mapping(mapping_path, folder)
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / "onboarding.csv"
        lines = onboarding_csv(mapping, converted)
        report = import_characters(conn, storage, converted, project, dry_run, False, progress)
    for plan, line in zip(report.rows, lines, strict=False):
        plan.line = line
    return report
