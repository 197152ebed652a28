"""Data maintenance (PRD-18, PRD-86): search/replace in metadata, storage repath, legacy import."""

import json
import re
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest_files import ASTRONAUT, TOM
from trulience.catalog import characters, projects, source_images
from trulience.catalog.audit import audit_trail
from trulience.catalog.repath import URI_COLUMNS, schema_uri_columns
from trulience.cli import main
from trulience.ingest.legacy import InvalidMapping, import_legacy, read_mapping
from trulience.library import add_image_file
from trulience.maintenance.repath import RepathRefused, repath
from trulience.maintenance.replace import InvalidReplace, plan_replace, replace_in_metadata
from trulience.storage import Storage


@pytest.fixture
def cast(conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(
        conn, "ada", "Ada", {"role": "pilot", "bio": "A pilot of Moonbase", "age": 30}, ["moonbase"]
    )
    characters.create_character(
        conn, "bob", "Bob", {"role": "co-pilot", "rating": "teen"}, ["moonbase"]
    )
    characters.create_character(conn, "cy", "Cy", {"role": "cook"}, ["moonbase"])
    return conn


def test_replace_dry_run_reports_before_and_after_and_writes_nothing(cast):
    report = replace_in_metadata(cast, "pilot", "captain", "cli:ana", "role", dry_run=True)
    assert [c.describe() for c in report.changes] == [
        "ada.role: 'pilot' → 'captain'",
        "bob.role: 'co-pilot' → 'co-captain'",
    ]
    assert report.examined == 3 and not report.applied
    assert characters.get_character(cast, "ada").metadata["role"] == "pilot"


def test_replace_applies_in_one_audited_transaction(cast):
    report = replace_in_metadata(cast, "pilot", "captain", "cli:ana")  # every field
    assert report.applied and report.characters == ["ada", "bob"]
    ada = characters.get_character(cast, "ada")
    assert ada.metadata == {"role": "captain", "bio": "A captain of Moonbase", "age": 30}
    entries = audit_trail(cast, table="characters", actor="cli:ana")
    assert len(entries) == 2
    assert {e.after["metadata"]["role"] for e in entries} == {"captain", "co-captain"}
    # one undoable group (PRD-51): `trulience undo` takes the whole replace back
    from trulience import edits
    from trulience.auth.acting import Operator

    undone = edits.undo(cast, Operator("cli:ana"))
    assert undone.label == "replace 'pilot' by 'captain' in 2 character(s)"
    assert characters.get_character(cast, "ada").metadata["role"] == "pilot"
    assert characters.get_character(cast, "bob").metadata["role"] != "co-captain"


def test_a_replacement_that_breaks_the_schema_is_refused_naming_character_and_field(cast):
    report = replace_in_metadata(cast, "teen", "adult", "cli:ana", "rating")
    assert [r.describe()[:27] for r in report.refused] == ["bob, field rating: refused:"]
    assert report.changes == []
    assert characters.get_character(cast, "bob").metadata["rating"] == "teen"


def test_regex_replacement_with_groups_and_filters(cast):
    report = replace_in_metadata(
        cast, r"^(co-)?(\w+)$", r"\2 (\1)", "cli:ana", "role", regex=True, slugs=["bob"]
    )
    assert [c.after for c in report.changes] == ["pilot (co-)"]
    assert characters.get_character(cast, "ada").metadata["role"] == "pilot"
    with pytest.raises(InvalidReplace, match="not a valid regular expression"):
        plan_replace(cast, "(", "x", regex=True)
    with pytest.raises(InvalidReplace, match="replacement"):
        plan_replace(cast, "a", r"\3", regex=True)
    with pytest.raises(InvalidReplace, match="empty"):
        plan_replace(cast, "", "x")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    find=st.text(alphabet="ab.*+?()[]{}\\^$|-", min_size=1, max_size=6),
    replace=st.text(alphabet="ab.*\\$|", max_size=6),
)
def test_literal_find_and_replace_matches_python_for_any_text(cast, find, replace):
    """Regex specials in a literal search are plain text; the dry run is str.replace."""
    text = f"x{find}y{find}"
    characters.update_metadata(cast, "cy", {"role": "cook", "voice": text})
    report, _ = plan_replace(cast, find, replace, "voice", slugs=["cy"])
    expected = text.replace(find, replace)
    if expected == text:
        assert report.changes == []
    else:
        assert [c.after for c in report.changes] == [expected]
    # the same search as a regular expression of the escaped text gives the same answer
    escaped, _ = plan_replace(
        cast, re.escape(find), replace.replace("\\", "\\\\"), "voice", True, slugs=["cy"]
    )
    assert escaped.changes == report.changes


def test_library_replace_cli_dry_run(cast, db_url, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(
        main, ["library", "replace", "pilot", "ace", "--field", "role", "--dry-run"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "ada.role: 'pilot' → 'ace'" in result.output and "nothing written" in result.output


# --- repath ---------------------------------------------------------------------------


def test_repath_knows_every_uri_column_of_the_schema(conn):
    """A new uri column in a migration must be added to URI_COLUMNS (with its sha256)."""
    assert schema_uri_columns(conn) == set(URI_COLUMNS)


@pytest.fixture
def moved(cast, tmp_path):
    """Two images stored at an old root, then the root copied to a new place."""
    old = Storage((tmp_path / "old").as_uri())
    add_image_file(cast, old, "ada", ASTRONAUT)
    add_image_file(cast, old, "bob", TOM)
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    return old.url, (tmp_path / "new").as_uri(), tmp_path


def test_repath_dry_run_counts_rows_and_checks_files_by_sha256(cast, moved):
    old, new, _ = moved
    report = repath(cast, old, new, "cli:ana", dry_run=True)
    assert report.counts[("source_images", "uri")] == 2
    assert report.checked >= 2 and report.hashed == report.checked and report.missing == []
    assert all(i.uri.startswith(old) for i in source_images.list_source_images(cast, "ada"))


def test_repath_refuses_while_files_are_missing_then_applies(cast, moved):
    old, new, tmp_path = moved
    gone = source_images.list_source_images(cast, "bob")[0].uri
    (tmp_path / "new" / gone[len(old) + 1 :]).unlink()
    with pytest.raises(RepathRefused, match="missing"):
        repath(cast, old, new, "cli:ana")
    assert source_images.list_source_images(cast, "ada")[0].uri.startswith(old)
    report = repath(cast, old, new, "cli:ana", allow_missing=True)
    assert report.applied and report.counts[("source_images", "uri")] == 2
    for slug in ("ada", "bob"):
        assert all(
            i.uri.startswith(new + "/") for i in source_images.list_source_images(cast, slug)
        )
    assert audit_trail(cast, table="source_images", actor="cli:ana")


def test_repath_refuses_a_changed_file_and_bad_prefixes(cast, moved):
    old, new, tmp_path = moved
    changed = source_images.list_source_images(cast, "ada")[0].uri
    (tmp_path / "new" / changed[len(old) + 1 :]).write_bytes(b"other bytes")
    report = repath(cast, old, new, "cli:ana", dry_run=True)
    assert [m.reason[:20] for m in report.missing] == ["its sha256 differs f"]
    with pytest.raises(RepathRefused, match="same prefix"):
        repath(cast, old, old, "cli:ana")
    with pytest.raises(RepathRefused, match="not a URI"):
        repath(cast, old, "/plain/path", "cli:ana")


def test_storage_repath_cli_dry_run(cast, moved, db_url):
    old, new, tmp_path = moved
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(main, ["storage", "repath", old, new, "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "source_images.uri: 2 row(s)" in result.output


# --- legacy import -------------------------------------------------------------------


@pytest.fixture
def legacy(tmp_path):
    folder = tmp_path / "legacy"
    (folder / "photos" / "ada").mkdir(parents=True)
    shutil.copy(ASTRONAUT, folder / "photos" / "ada" / "front.png")
    (folder / "people.csv").write_text(
        "Code;Full Name;Job;Years\nada;Ada L;pilot;30\nBad Code;Bee;cook;40\ncy;Cy;cook;old\n"
        "dee;Dee;medic;50\n"
    )
    # cy's and dee's folders hold no photos: refused with the images field
    return folder


def write_mapping(folder, **changes):
    mapping = {
        "csv": "people.csv",
        "delimiter": ";",
        "slug": "Code",
        "name": "Full Name",
        "images": {"glob": "photos/{Code}/*.png"},
        "metadata": {"role": "Job", "age": "Years"},
    }
    mapping.update(changes)
    path = folder / "mapping.json"
    path.write_text(json.dumps(mapping))
    return path


def test_legacy_import_reports_then_applies_through_the_csv_service(conn, storage, legacy):
    projects.create_project(conn, "moonbase", "Moonbase")
    mapping = write_mapping(legacy)
    report = import_legacy(conn, storage, legacy, mapping, "moonbase", dry_run=True)
    described = {r.line: r.describe() for r in report.rows}
    assert "ada would be created (1 image(s))" in described[2]
    assert "line 3, column slug:" in described[3]
    assert "line 4, column age: 'old' is not of type 'integer'" in described[4]
    assert "line 5, column images: no image given" in described[5]
    assert characters.list_characters(conn) == []
    applied = import_legacy(conn, storage, legacy, mapping, "moonbase")
    assert applied.written == 1
    assert characters.get_character(conn, "ada").metadata == {"role": "pilot", "age": 30}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Kode"}, "key 'slug': no column 'Kode' in people.csv"),
        ({"metadata": {"role": "Jobb"}}, "key 'metadata.role': no column 'Jobb'"),
        ({"images": {"glob": "photos/{Id}/*.png"}}, "key 'images.glob {Id}'"),
        ({"images": {"column": "Job", "glob": "x"}}, "exactly one of 'column' and 'glob'"),
        ({"csv": "nope.csv"}, "key 'csv':"),
        ({"colour": "red"}, "unknown key(s) 'colour'"),
        ({"delimiter": ";;"}, "key 'delimiter' must be one character"),
        ({"metadata": {"slug": "Job"}}, "key 'metadata.slug'"),
    ],
)
def test_mapping_errors_name_the_key_and_why(legacy, changes, message):
    with pytest.raises(InvalidMapping) as caught:
        read_mapping(write_mapping(legacy, **changes), legacy)
    assert message in str(caught.value)


def test_mapping_may_be_yaml_and_missing_keys_are_named(legacy):
    path = legacy / "mapping.yaml"
    path.write_text("csv: people.csv\ndelimiter: ';'\nslug: Code\nname: Full Name\n")
    with pytest.raises(InvalidMapping, match="key 'images' is missing"):
        read_mapping(path, legacy)
    path.write_text(path.read_text() + "images: {glob: 'photos/{Code}/*.png'}\n")
    assert read_mapping(path, legacy).image_glob == "photos/{Code}/*.png"


def test_import_legacy_cli_dry_run(conn, legacy, db_url, tmp_path):
    projects.create_project(conn, "moonbase", "Moonbase")
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    args = ["import", "legacy", str(legacy), "--mapping", str(write_mapping(legacy))]
    result = CliRunner().invoke(main, [*args, "--project", "moonbase", "--dry-run"], env=env)
    assert result.exit_code == 1  # invalid rows
    assert "line 3, column slug:" in result.output and "dry run:" in result.output
