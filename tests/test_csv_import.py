"""CSV onboarding (PRD-67): per-row report with line, column and reason; dry run; all-or-nothing."""

import os

import pytest
from click.testing import CliRunner

from tests.ingest_files import ASTRONAUT, TOM, unblock_if_stuck
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


def rows_described(report):
    return {r.line: r.describe() for r in report.rows}


def test_a_cell_of_thousands_of_digits_is_refused_and_the_other_rows_import(
    conn, storage, project, tmp_path
):
    digits = "4" * 5000
    text = (
        f"slug,name,images,age,rating\n"
        f"eileen,Eileen,{ASTRONAUT},{digits},general\n"
        f"{digits},Digits,{TOM},30,general\n"
        f"tom,Tom,{TOM},55,general\n"
    )
    report = import_characters(conn, storage, write_csv(tmp_path / "c.csv", text), project)
    described = rows_described(report)
    assert "line 2, column age: '44444" in described[2]
    assert "is 5,000 characters long; a number has at most 40" in described[2]
    assert "line 3, column slug:" in described[3] and "longer than 63" in described[3]
    assert all(len(line) < 400 for line in described.values())
    assert report.written == 1 and [c.slug for c in characters.list_characters(conn)] == ["tom"]


def test_values_the_catalog_cannot_store_are_refused_per_row(conn, storage, tmp_path):
    projects.create_project(
        conn,
        "moonbase",
        "Moonbase",
        settings={
            "metadata_schema": {"type": "object", "properties": {"height": {"type": "number"}}}
        },
    )
    text = (
        "slug,name,images,height,notes\n"
        f"ann,Ann,{TOM},nan,\n"
        f"bea,Bea,{TOM},1e999,\n"
        f"cat,Cat,{TOM},1.8,has a \x00 inside\n"
        f"dan,Dan\x00,{TOM},1.7,\n"
        f"eve,Eve,{TOM},1.6,{'x' * 100_000}\n"
    )
    report = import_characters(conn, storage, write_csv(tmp_path / "c.csv", text), "moonbase")
    described = rows_described(report)
    assert "line 2, column height: 'nan' is not of type 'number'" in described[2]
    assert "line 3, column height: '1e999' is not of type 'number'" in described[3]
    assert "line 4, column notes:" in described[4] and "NUL character" in described[4]
    assert "line 5, column name:" in described[5] and "NUL character" in described[5]
    assert described[6].startswith("line 6: eve created")
    assert [c.slug for c in characters.list_characters(conn)] == ["eve"]
    assert len(characters.get_character(conn, "eve").metadata["notes"]) == 100_000


def test_a_named_pipe_or_a_link_is_never_read_as_an_image(conn, storage, project, tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "link.png").symlink_to(TOM)
    text = f"slug,name,images\nann,Ann,pipe.png\nbea,Bea,link.png\ncat,Cat,{TOM}\n"
    csv_path = write_csv(tmp_path / "c.csv", text)
    report = unblock_if_stuck(
        tmp_path / "pipe.png", lambda: import_characters(conn, storage, csv_path, project)
    )
    assert report is not None
    described = rows_described(report)
    assert "pipe.png: is a named pipe (FIFO); only regular files are imported" in described[2]
    assert "link.png: is a symbolic link; only regular files are imported" in described[3]
    assert report.written == 1


@pytest.mark.parametrize("kind", ["named pipe", "long name", "folder"])
def test_a_csv_that_is_not_a_readable_file_is_refused_in_a_sentence(
    conn, storage, project, tmp_path, kind
):
    path = tmp_path / "c.csv"
    if kind == "named pipe":
        os.mkfifo(path)
        expected = "is a named pipe"
    elif kind == "long name":
        path = tmp_path / ("9" * 5000 + ".csv")
        expected = "File name too long"
    else:
        path.mkdir()
        expected = "is a folder"

    def attempt():
        with pytest.raises(InvalidCsv, match=expected):
            import_characters(conn, storage, path, project)
        return True

    assert unblock_if_stuck(path, attempt) if kind == "named pipe" else attempt()


def test_cli_shows_progress_row_by_row(db_url, project, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    csv_path = write_csv(tmp_path / "c.csv", GOOD)
    result = CliRunner().invoke(
        main, ["import", "characters", str(csv_path), "--project", "moonbase"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "row 1 of 2, line 2 checked" in result.output
    assert "row 2 of 2, tom created" in result.output and "elapsed" in result.output
    assert "2 character(s) created" in result.output


def test_a_column_name_the_catalog_cannot_store_refuses_the_rows_using_it(
    conn, storage, project, tmp_path
):
    text = f"slug,name,images,mo\x00od\neileen,Eileen,{ASTRONAUT},calm\ntom,Tom,{TOM},\n"
    report = import_characters(conn, storage, write_csv(tmp_path / "c.csv", text), project)
    described = rows_described(report)
    assert "line 2, column mo\\x00od: the column name holds a NUL character" in described[2]
    assert report.written == 1 and [c.slug for c in characters.list_characters(conn)] == ["tom"]
