"""Property-based: metadata.json, folder names and CSV rows nobody here would think of go
through the real import path (real Postgres, real images) and always end in a report:
never a traceback, never a partial write."""

import csv
import json
import os
import uuid
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest_files import make_folder, png_bytes
from trulience.catalog import projects
from trulience.ingest.csv_import import InvalidCsv, import_characters
from trulience.ingest.inbox import REJECTED_DIR, import_drop, quarantine, scan_inbox
from trulience.slugs import SLUG

IMAGE = png_bytes(np.full((64, 64, 3), 128, dtype=np.uint8))
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    # each example runs in a transaction that is rolled back, and in its own folders
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(codec=None), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def metadata_texts(draw) -> bytes:
    """metadata.json contents: JSON with NaN, huge and tiny numbers, NUL and surrogates;
    deep nesting; repeated keys; or any bytes at all."""
    kind = draw(st.sampled_from(["json", "number", "nesting", "repeat", "bytes"]))
    if kind == "json":
        value = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4) | json_values)
        return json.dumps(value).encode("utf-8", "surrogatepass")
    if kind == "number":
        digits = draw(st.integers(1, 6000))
        number = draw(st.sampled_from(["", "-", "0.", "1e"])) + "7" * digits
        return f'{{"age": {number}}}'.encode()
    if kind == "nesting":
        depth = draw(st.integers(1, 5000))
        return b'{"tags": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "repeat":
        key = json.dumps(draw(st.text(max_size=4)))
        return f'{{{key}: 1, {key}: "two"}}'.encode()
    return draw(st.binary(max_size=64))


def as_decimals(value):
    """Numbers as decimals: jsonb keeps a number's decimal value, not Python's float or int."""
    if isinstance(value, dict):
        return {k: as_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_decimals(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return Decimal(str(value))


def printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def count(conn, table) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def moonbase(conn):
    projects.create_project(conn, "moonbase", "Moonbase")


def check_drop_outcome(conn, storage, inbox, drop):
    """The invariants every drop must keep, whatever it held."""
    report = import_drop(conn, storage, drop)
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert printable(text.replace("\n", " "))
    if report.outcome == "rejected":
        assert report.problems and all(p.message for p in report.problems)
        assert count(conn, "characters") == 0 and count(conn, "source_images") == 0
        recorded = conn.execute("SELECT report FROM inbox_drops WHERE outcome = 'rejected'")
        assert [r[0]["problems"] for r in recorded] == [report.to_dict()["problems"]]
        where = quarantine(drop, report, inbox)
        assert where.parent == inbox / REJECTED_DIR
        assert json.loads((where / "report.json").read_text())["outcome"] == "rejected"
        assert scan_inbox(inbox) == []
    else:
        assert report.outcome == "imported"
        assert count(conn, "characters") == 1 and count(conn, "source_images") == 1
    return report


@EXAMPLES
@given(text=metadata_texts())
def test_any_metadata_json_ends_in_an_import_or_a_report(conn, storage, tmp_path, moonbase, text):
    inbox = tmp_path / uuid.uuid4().hex
    make_folder(inbox, "moonbase", "eileen", {"p.png": IMAGE, "metadata.json": text})
    with conn.transaction(force_rollback=True):
        (drop,) = scan_inbox(inbox)
        report = check_drop_outcome(conn, storage, inbox, drop)
        if report.outcome == "imported":
            stored = conn.execute("SELECT metadata FROM characters").fetchone()[0]
            assert as_decimals(stored) == json.loads(text, parse_float=Decimal, parse_int=Decimal)


folder_names = st.text(min_size=1, max_size=60).filter(
    lambda n: "/" not in n and "\x00" not in n and n not in (".", "..", REJECTED_DIR)
) | st.binary(min_size=1, max_size=60).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
).map(os.fsdecode)  # undecodable bytes become surrogates, as in a real file name


@EXAMPLES
@given(name=folder_names)
def test_any_folder_name_ends_in_an_import_or_a_report(conn, storage, tmp_path, moonbase, name):
    if len(os.fsencode(name)) > 255:
        return
    inbox = tmp_path / uuid.uuid4().hex
    make_folder(inbox, "moonbase", name, {"p.png": IMAGE})
    with conn.transaction(force_rollback=True):
        (drop,) = scan_inbox(inbox)
        report = check_drop_outcome(conn, storage, inbox, drop)
        assert (report.outcome == "imported") == bool(SLUG.match(name))


cells = st.text(st.characters(codec="utf-8"), max_size=20)
slugs = st.sampled_from(["ann", "bea", "ann"]) | cells
image_cells = (
    st.sampled_from(["good.png", "missing.png", "good.png;good.png", "", "pipe", "."]) | cells
)
age_cells = (
    st.integers(-(10**50), 10**50).map(str)
    | st.integers(1, 6000).map(lambda n: "9" * n)
    | st.sampled_from(["nan", "inf", "-1e999", "4.5"])
    | cells
)
rows = st.lists(st.tuples(slugs, cells, image_cells, age_cells, cells), min_size=1, max_size=4)


@EXAMPLES
@given(rows=rows, all_or_nothing=st.booleans())
def test_any_csv_rows_end_in_a_report_and_whole_characters_only(
    conn, storage, tmp_path, moonbase, rows, all_or_nothing
):
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    (folder / "good.png").write_bytes(IMAGE)
    os.mkfifo(folder / "pipe")
    path = folder / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["slug", "name", "images", "age", "notes"])
        writer.writerows(rows)
    with conn.transaction(force_rollback=True):
        try:
            report = import_characters(
                conn, storage, path, "moonbase", all_or_nothing=all_or_nothing
            )
        except InvalidCsv as exc:  # the file as a whole: one clear sentence
            assert printable(str(exc))
            assert count(conn, "characters") == 0
            return
        written = {r.slug for r in report.rows if r.status == "written"}
        in_catalog = {r[0] for r in conn.execute("SELECT slug FROM characters")}
        assert in_catalog == written and report.written == len(written)
        for slug in written:  # each character whole: with its images
            images = conn.execute(
                "SELECT count(*) FROM source_images s JOIN characters c ON c.id = s.character_id"
                " WHERE c.slug = %s",
                (slug,),
            ).fetchone()[0]
            assert images >= 1
        for row in report.rows:
            assert printable(row.describe())
            assert (row.status == "invalid") == bool(row.problems)
