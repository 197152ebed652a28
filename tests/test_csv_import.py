"""CSV onboarding (PRD-67): per-row report with line, column and reason; dry run; all-or-nothing."""

import pytest
from click.testing import CliRunner

from tests.ingest_files import ASTRONAUT, TOM
from trulience.catalog import characters, projects, source_images
from trulience.cli import main
from trulience.ingest.csv_import import InvalidCsv, import_characters


@pytest.fixture
def project(conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    return "moonbase"


def write_csv(path, text):
    path.write_text(text)
    return path


GOOD = f"""slug,name,images,role,age,rating
eileen,Eileen Collins,{ASTRONAUT},astronaut,42,general
tom,Tom,{TOM},captain,55,teen
"""


def test_valid_csv_imports_every_row_with_typed_metadata(conn, storage, project, tmp_path):
    report = import_characters(conn, storage, write_csv(tmp_path / "c.csv", GOOD), project)
    assert report.written == 2 and report.invalid == []
    eileen = characters.get_character(conn, "eileen")
    assert eileen.metadata == {"role": "astronaut", "age": 42, "rating": "general"}
    assert len(source_images.list_source_images(conn, "tom")) == 1
    again = import_characters(conn, storage, tmp_path / "c.csv", project)  # a re-run is a no-op
    assert again.written == 0 and {r.status for r in again.rows} == {"exists"}


BAD = f"""slug,name,images,age,rating
eileen,Eileen,{ASTRONAUT},42,general
Bad Slug,X,{TOM},1,general
tom,,{TOM},55,general
zed,Zed,missing.png,30,general
kim,Kim,{TOM},old,general
lee,Lee,{TOM},30,adult
eileen,Again,{TOM},30,general
"""


def test_invalid_rows_are_reported_with_line_column_and_reason(conn, storage, project, tmp_path):
    report = import_characters(
        conn, storage, write_csv(tmp_path / "c.csv", BAD), project, dry_run=True
    )
    described = {r.line: r.describe() for r in report.rows}
    assert "would be created" in described[2]
    assert "line 3, column slug:" in described[3]
    assert "line 4, column name: is empty" in described[4]
    assert "line 5, column images:" in described[5] and "missing.png" in described[5]
    assert "line 6, column age: 'old' is not of type 'integer'" in described[6]
    assert "line 7, column rating:" in described[7]
    assert "line 8, column slug: 'eileen' is also on line 2" in described[8]
    assert characters.list_characters(conn) == []  # dry run wrote nothing

    partial = import_characters(conn, storage, tmp_path / "c.csv", project)
    assert partial.written == 1
    assert [c.slug for c in characters.list_characters(conn)] == ["eileen"]


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(conn, storage, project, tmp_path):
    report = import_characters(
        conn, storage, write_csv(tmp_path / "c.csv", BAD), project, all_or_nothing=True
    )
    assert report.written == 0 and len(report.invalid) == 6
    assert characters.list_characters(conn) == []
    ok = import_characters(
        conn, storage, write_csv(tmp_path / "ok.csv", GOOD), project, all_or_nothing=True
    )
    assert ok.written == 2


def test_images_on_storage_and_relative_paths(conn, storage, project, tmp_path):
    stored = storage.put_bytes("uploads/eileen.png", ASTRONAUT.read_bytes())
    (tmp_path / "tom.png").write_bytes(TOM.read_bytes())
    text = f"slug,name,images\neileen,Eileen,{stored.uri}\ntom,Tom,tom.png\n"
    report = import_characters(conn, storage, write_csv(tmp_path / "c.csv", text), project)
    assert report.written == 2, [r.describe() for r in report.rows]
    outside = "slug,name,images\nzed,Zed,s3://someone-else/x.png\n"
    report = import_characters(conn, storage, write_csv(tmp_path / "o.csv", outside), project)
    assert "not under storage root" in report.rows[0].describe()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,images\nx,y\n", r"missing column\(s\) slug"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)
def test_unreadable_csv_is_refused_whole(conn, storage, project, tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidCsv, match=message):
        import_characters(conn, storage, path, project)


def test_cli_dry_run_and_exit_status(db_url, project, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    csv_path = write_csv(tmp_path / "c.csv", BAD)
    result = CliRunner().invoke(
        main, ["import", "characters", str(csv_path), "--project", "moonbase", "--dry-run"], env=env
    )
    assert result.exit_code == 1
    assert "dry run: 1 row(s) valid, 6 invalid; nothing written" in result.output
    assert "line 6, column age" in result.output
    missing = CliRunner().invoke(
        main, ["import", "characters", str(tmp_path / "nope.csv"), "--project", "moonbase"], env=env
    )
    assert missing.exit_code == 1 and "nope.csv: no such file" in missing.output
