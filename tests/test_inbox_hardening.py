"""The inbox is never blocked and never used to escape (issue 12, section 1): each folder is
judged on its own, only real folders and regular files are read, metadata.json is read
strictly, names are escaped and values cut to excerpts in every message."""

import io
import json
import os
from pathlib import Path

import pytest
from dagster import build_sensor_context, instance_for_test
from PIL import Image

from tests.ingest_files import ASTRONAUT, TOM, age, make_folder, truncated_jpeg, unblock_if_stuck
from trulience.catalog import characters, projects, source_images
from trulience.config import Settings
from trulience.ingest import inbox as inbox_module
from trulience.ingest.inbox import REJECTED_DIR, import_drop, quarantine, scan_inbox
from trulience_assets.definitions import build_definitions


@pytest.fixture
def inbox(tmp_path, conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    return tmp_path / "inbox"


def count(conn, table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def rejected_rows(conn):
    return conn.execute(
        "SELECT project_slug, folder, report FROM inbox_drops WHERE outcome = 'rejected'"
    ).fetchall()


def drop_named(inbox, name):
    return next(d for d in scan_inbox(inbox) if d.name == name)


def said(report):
    """Every problem of a report as the studio reads it."""
    return "; ".join(str(p) for p in report.problems)


def assert_printable(text):
    """No raw control, bidi or surrogate character reaches a log line or a report."""
    assert all(ch.isprintable() for ch in text), repr(text)


def deep_json(levels):
    return ("[" * levels + "]" * levels).encode()


# -- one bad folder never blocks the others ----------------------------------------------

UNFORESEEN = {
    # what was seen escaping the sensor, each of a kind nobody had planned for
    "huge number": {"p.png": TOM, "metadata.json": b'{"age": ' + b"9" * 5000 + b"}"},
    "deep nesting": {"p.png": TOM, "metadata.json": b'{"tags": ' + deep_json(100_000) + b"}"},
}


def run_sensor(settings, cursor=None):
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with instance_for_test() as instance:
        return sensor(
            build_sensor_context(instance=instance, resources=defs.resources, cursor=cursor)
        )


@pytest.fixture
def settings(conn, db_url, tmp_path):
    projects.create_project(conn, "moonbase", "Moonbase")
    return Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})


@pytest.mark.parametrize("case", sorted(UNFORESEEN))
def test_a_folder_that_fails_is_quarantined_and_the_folders_after_it_import(conn, settings, case):
    files = UNFORESEEN[case]
    make_folder(settings.inbox_dir, "moonbase", "broken", files)
    make_folder(settings.inbox_dir, "moonbase", "zed", {"portrait.png": ASTRONAUT})
    result = run_sensor(settings)
    assert [r.partition_key for r in result.run_requests] == ["zed"]
    assert characters.get_character(conn, "zed")
    assert [c.slug for c in characters.list_characters(conn)] == ["zed"]
    (where,) = (settings.inbox_dir / REJECTED_DIR).iterdir()
    report = json.loads((where / "report.json").read_text())
    (problem,) = report["problems"]
    assert problem["file"] in files and problem["field"] and problem["message"]
    (row,) = rejected_rows(conn)
    assert row[:2] == ("moonbase", "broken") and row[2]["problems"] == report["problems"]


def test_an_error_nobody_planned_for_refuses_only_its_folder(conn, settings, monkeypatch):
    real = inbox_module.check_image

    def check_image(path, **kwargs):
        if Path(path).name == "boom.png":
            raise ZeroDivisionError("a defect deep inside a decoder")
        return real(path, **kwargs)

    monkeypatch.setattr(inbox_module, "check_image", check_image)
    make_folder(settings.inbox_dir, "moonbase", "alpha", {"boom.png": TOM, "ok.png": ASTRONAUT})
    make_folder(settings.inbox_dir, "moonbase", "beta", {"portrait.png": ASTRONAUT})
    result = run_sensor(settings)
    assert [r.partition_key for r in result.run_requests] == ["beta"]
    (where,) = (settings.inbox_dir / REJECTED_DIR).iterdir()
    (problem,) = json.loads((where / "report.json").read_text())["problems"]
    assert problem["file"] == "boom.png"
    assert "ZeroDivisionError: a defect deep inside a decoder" in problem["message"]
    assert (where / "alpha" / "ok.png").is_file()  # the folder as dropped, beside its report


def test_a_failure_while_writing_rolls_the_folder_back_and_is_recorded(
    conn, storage, inbox, monkeypatch
):
    real = inbox_module.add_image_file

    def add_image_file(conn, storage, character, path, info):
        if path.name == "second.png":
            raise MemoryError("storage gave up")
        return real(conn, storage, character, path, info)

    monkeypatch.setattr(inbox_module, "add_image_file", add_image_file)
    make_folder(inbox, "moonbase", "eileen", {"first.png": TOM, "second.png": ASTRONAUT})
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert report.outcome == "rejected"
    assert (
        str(report.problems[0]) == "second.png: could not be stored: MemoryError: storage gave up"
    )
    assert count(conn, "characters") == 0 and count(conn, "source_images") == 0
    assert len(rejected_rows(conn)) == 1


# -- only regular files and real folders ---------------------------------------------------


def test_a_symlinked_image_is_refused_and_never_read(conn, storage, inbox, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(ASTRONAUT.read_bytes())
    folder = make_folder(inbox, "moonbase", "eileen", {"real.png": TOM})
    (folder / "a.png").symlink_to(outside)
    age(folder, 60)
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert report.outcome == "rejected"
    assert [str(p) for p in report.problems] == [
        "a.png: is a symbolic link; only regular files are imported"
    ]
    assert count(conn, "source_images") == 0


def test_a_symlinked_folder_is_quarantined_without_writing_into_its_target(
    conn, storage, inbox, tmp_path
):
    target = make_folder(tmp_path / "elsewhere", "x", "eileen", {"portrait.png": ASTRONAUT})
    before = sorted(p.name for p in target.iterdir())
    (inbox / "moonbase").mkdir(parents=True)
    (inbox / "moonbase" / "eileen").symlink_to(target, target_is_directory=True)
    os.utime(inbox / "moonbase" / "eileen", (1, 1), follow_symlinks=False)
    drop = drop_named(inbox, "eileen")
    report = import_drop(conn, storage, drop)
    assert report.outcome == "rejected" and count(conn, "characters") == 0
    assert "is a symbolic link; only real folders are imported" in str(report.problems[0])
    where = quarantine(drop, report, inbox)
    assert where.parent == inbox / REJECTED_DIR and (where / "report.json").is_file()
    assert (where / "eileen").is_symlink()  # the link itself moved, not what it points at
    assert sorted(p.name for p in target.iterdir()) == before  # nothing written outside


def test_a_report_json_link_in_a_refused_folder_is_not_written_through(
    conn, storage, inbox, tmp_path
):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = make_folder(inbox, "moonbase", "eileen", {"notes.docx": b"PK"})
    (folder / "report.json").symlink_to(victim)
    age(folder, 60)
    drop = drop_named(inbox, "eileen")
    where = quarantine(drop, import_drop(conn, storage, drop), inbox)
    assert victim.read_text() == "keep me"
    assert json.loads((where / "report.json").read_text())["outcome"] == "rejected"


def test_a_rejected_folder_that_is_a_link_is_never_written_through(conn, storage, inbox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    inbox.mkdir()
    (inbox / REJECTED_DIR).symlink_to(outside, target_is_directory=True)
    make_folder(inbox, "moonbase", "eileen", {"notes.docx": b"PK"})
    drop = drop_named(inbox, "eileen")
    with pytest.raises(inbox_module.QuarantineFailed, match="is a symbolic link"):
        quarantine(drop, import_drop(conn, storage, drop), inbox)
    assert list(outside.iterdir()) == []
    assert (inbox / "moonbase" / "eileen").is_dir()  # left where it was


def test_a_named_pipe_in_a_folder_is_refused_without_opening_it(conn, storage, inbox):
    folder = make_folder(inbox, "moonbase", "eileen", {"real.png": TOM})
    os.mkfifo(folder / "b.png")
    age(folder, 60)
    drop = drop_named(inbox, "eileen")
    report = unblock_if_stuck(folder / "b.png", lambda: import_drop(conn, storage, drop))
    assert report is not None and report.outcome == "rejected"
    assert [str(p) for p in report.problems] == [
        "b.png: is a named pipe (FIFO); only regular files are imported"
    ]


def test_what_sits_where_a_folder_belongs_is_reported(conn, storage, inbox):
    (inbox / "moonbase").mkdir(parents=True)
    os.mkfifo(inbox / "moonbase" / "pipe")
    (inbox / "moonbase" / "loose.png").write_bytes(TOM.read_bytes())
    (inbox / "moonbase" / ".DS_Store").write_bytes(b"\0")  # a file manager's clutter
    os.mkfifo(inbox / "stray-pipe")
    for path in (
        inbox / "moonbase" / "pipe",
        inbox / "moonbase" / "loose.png",
        inbox / "stray-pipe",
    ):
        os.utime(path, (1, 1))
    drops = scan_inbox(inbox)
    assert sorted(d.key for d in drops) == ["moonbase/loose.png", "moonbase/pipe", "stray-pipe"]
    reports = {d.key: import_drop(conn, storage, d) for d in drops}
    assert "pipe is a named pipe (FIFO); only real folders" in str(
        reports["moonbase/pipe"].problems
    )
    assert "is a regular file; only real folders" in said(reports["moonbase/loose.png"])
    for drop in drops:
        quarantine(drop, reports[drop.key], inbox)
    assert sorted(d.key for d in scan_inbox(inbox)) == []
    assert (inbox / "moonbase" / ".DS_Store").exists()
    assert len(rejected_rows(conn)) == 3


# -- metadata.json read strictly -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (b'{"age": NaN}', "$.age", "NaN is not a JSON number"),
        (b'{"x": [1, Infinity]}', "$.x[1]", "Infinity is not a JSON number"),
        (b'{"x": -Infinity}', "$.x", "Infinity is not a JSON number"),
        (b'{"x": 1e999}', "$.x", "out of range"),
        (b'{"role": "pi\\u0000lot"}', "$.role", "NUL character"),
        (b'{"a\\u0000b": 1}', "$", "NUL character"),
        (b'{"role": "\\ud800"}', "$.role", "unpaired surrogate"),
        (b'{"role": "a", "role": "b"}', "$.role", "key is given more than once"),
        (b'{"age": ' + b"1" * 5000 + b"}", "$.age", "a number of 5,000 digits"),
        (b'{"x": 0.' + b"1" * 5000 + b"}", "$.x", "5,002 characters"),
        (b'{"x": ' + deep_json(40) + b"}", "$", "nests deeper than 32 levels"),
        (b'{"bio": "' + b"x" * 300_000 + b'"}', "$", "larger than 256 kB"),
        (b'{"x": 1, }', "$", "not valid JSON"),
        (b"\xff\xfe{}", "$", "not UTF-8"),
    ],
)
def test_metadata_json_is_read_strictly_with_file_path_and_reason(
    conn, storage, inbox, text, field, reason
):
    make_folder(inbox, "moonbase", "eileen", {"p.png": TOM, "metadata.json": text})
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert report.outcome == "rejected"
    (problem,) = [p for p in report.problems if p.file == "metadata.json"]
    assert (problem.field, reason in problem.message) == (field, True), str(problem)
    assert count(conn, "characters") == 0
    (row,) = rejected_rows(conn)  # recorded, not a raw database error
    assert row[2]["problems"][0]["file"] == "metadata.json"


def test_metadata_json_that_is_a_link_or_a_pipe_is_not_read(conn, storage, inbox, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"name": "Somebody Else"}')
    folder = make_folder(inbox, "moonbase", "eileen", {"p.png": TOM})
    (folder / "metadata.json").symlink_to(secret)
    age(folder, 60)
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert "metadata.json: is a symbolic link; only regular files" in said(report)


# -- names, dots, escaping, excerpts --------------------------------------------------------


def test_a_folder_whose_name_starts_with_a_dot_is_reported(conn, storage, inbox):
    make_folder(inbox, "moonbase", ".eileen", {"p.png": TOM})
    make_folder(inbox, ".hidden-project", "tom", {"p.png": TOM})
    drops = scan_inbox(inbox)
    assert sorted(d.key for d in drops) == [".hidden-project/tom", "moonbase/.eileen"]
    for drop in drops:
        report = import_drop(conn, storage, drop)
        assert report.outcome == "rejected"
        assert "starts with '.', so it is hidden" in said(report)
        quarantine(drop, report, inbox)
    assert scan_inbox(inbox) == []


EVIL = "eve\nINFO inbox: all good\x1b[31m\u202e"


def test_names_in_logs_reports_and_the_catalog_are_escaped(conn, settings, capsys):
    make_folder(settings.inbox_dir, "moonbase", EVIL, {"a\x1b.png": TOM})
    make_folder(settings.inbox_dir, "moonbase", "tom", {"bad\n.jpg": truncated_jpeg()})
    capsys.readouterr()
    run_sensor(settings)
    # Dagster's log handler writes one line per message to stderr
    lines = [line for line in capsys.readouterr().err.splitlines() if "inbox" in line]
    assert len(lines) == 4  # refused + progress, for each folder
    assert "inbox folder 1 of 2, moonbase/eve\\x0aINFO" in lines[1] and "elapsed" in lines[1]
    assert "inbox folder 2 of 2, moonbase/tom refused" in lines[3]
    for line in lines:
        assert_printable(line)
    assert any("eve\\x0aINFO inbox: all good\\x1b[31m\\u202e" in line for line in lines)
    for where in (settings.inbox_dir / REJECTED_DIR).iterdir():
        assert_printable((where / "report.json").read_text().replace("\n", " "))
    for project, folder, report in rejected_rows(conn):
        assert_printable(project + folder + json.dumps(report, ensure_ascii=False))


def test_messages_name_the_file_once(conn, storage, inbox):
    make_folder(inbox, "moonbase", "eileen", {"a.jpg": truncated_jpeg()})
    problem = import_drop(conn, storage, drop_named(inbox, "eileen")).problems[0]
    assert str(problem) == "a.jpg: image is truncated"
    assert problem.to_dict() == {"file": "a.jpg", "field": "a.jpg", "message": "image is truncated"}


def test_a_huge_value_is_quoted_as_a_short_excerpt(conn, storage, inbox):
    bio = "x" * 200_000  # under the file-size bound, far over the schema's 5000
    make_folder(
        inbox,
        "moonbase",
        "eileen",
        {"p.png": TOM, "metadata.json": json.dumps({"bio": bio}).encode()},
    )
    drop = drop_named(inbox, "eileen")
    report = import_drop(conn, storage, drop)
    (problem,) = report.problems
    assert problem.field == "$.bio" and "200,000 characters" in problem.message
    assert "is too long" in problem.message and len(problem.message) < 200
    where = quarantine(drop, report, inbox)
    assert (where / "report.json").stat().st_size < 2_000
    (row,) = rejected_rows(conn)
    assert len(json.dumps(row[2])) < 2_000


def test_an_image_name_at_the_length_limit_is_stored(conn, storage, inbox):
    name = "p" * 251 + ".png"  # 255 bytes: the longest a file system allows
    make_folder(inbox, "moonbase", "eileen", {name: TOM})
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert report.outcome == "imported", report.problems
    (image,) = source_images.list_source_images(conn, "eileen")
    assert image.original_name == name and storage.sha256(storage.key_of(image.uri)) == image.sha256


def test_one_large_photo_at_a_time_each_described_not_kept(conn, storage, inbox):
    big = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 120, 150)).save(big, format="JPEG")
    make_folder(inbox, "moonbase", "eileen", {f"{i}.jpg": big.getvalue() for i in range(3)})
    _, _, images = inbox_module.inspect_drop(conn, drop_named(inbox, "eileen"))
    assert [(p.name, i.width, i.height) for p, i in images] == [
        ("0.jpg", 1200, 900),
        ("1.jpg", 1200, 900),
        ("2.jpg", 1200, 900),
    ]
    assert not any(hasattr(i, "pixels") for _, i in images)


def test_a_folder_of_many_stray_files_gets_a_report_of_bounded_size(conn, storage, inbox):
    files = {f"stray-{i:04d}.txt": b"x" for i in range(400)}
    make_folder(inbox, "moonbase", "eileen", {"p.png": TOM, **files})
    drop = drop_named(inbox, "eileen")
    report = import_drop(conn, storage, drop)
    assert len(report.problems) == 50
    assert str(report.problems[-1]) == "folder: and 351 more"
    where = quarantine(drop, report, inbox)
    assert (where / "report.json").stat().st_size < 20_000


def test_metadata_json_written_by_a_windows_editor_is_read(conn, storage, inbox):
    text = b'\xef\xbb\xbf{"name": "Eileen Collins"}'  # UTF-8 with a byte-order mark
    make_folder(inbox, "moonbase", "eileen", {"p.png": TOM, "metadata.json": text})
    report = import_drop(conn, storage, drop_named(inbox, "eileen"))
    assert report.outcome == "imported", said(report)
    assert characters.get_character(conn, "eileen").name == "Eileen Collins"


def test_a_dangling_link_in_one_folder_does_not_stop_the_scan(conn, settings):
    folder = make_folder(settings.inbox_dir, "moonbase", "broken", {"p.png": TOM})
    (folder / "gone.png").symlink_to(settings.inbox_dir / "nowhere.png")
    age(folder, 60)
    make_folder(settings.inbox_dir, "moonbase", "zed", {"portrait.png": ASTRONAUT})
    result = run_sensor(settings)
    assert [r.partition_key for r in result.run_requests] == ["zed"]
    (where,) = (settings.inbox_dir / REJECTED_DIR).iterdir()
    (problem,) = json.loads((where / "report.json").read_text())["problems"]
    assert problem == {
        "file": "gone.png",
        "field": "gone.png",
        "message": "is a symbolic link; only regular files are imported",
    }


def test_when_the_rejected_folder_is_a_link_the_sensor_writes_nothing_outside_and_goes_on(
    conn, settings, tmp_path, capsys
):
    outside = tmp_path / "outside"
    outside.mkdir()
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / REJECTED_DIR).symlink_to(outside, target_is_directory=True)
    make_folder(settings.inbox_dir, "moonbase", "broken", {"notes.docx": b"PK"})
    make_folder(settings.inbox_dir, "moonbase", "zed", {"portrait.png": ASTRONAUT})
    first = run_sensor(settings)
    assert [r.partition_key for r in first.run_requests] == ["zed"]
    assert list(outside.iterdir()) == []
    assert (settings.inbox_dir / "moonbase" / "broken").is_dir()
    assert "moonbase/broken refused but not moved" in capsys.readouterr().err
    # remembered: not refused again on every tick until it changes
    assert "no new or changed folders" in run_sensor(settings, first.cursor).skip_message


def test_a_tick_past_its_time_budget_leaves_the_rest_for_the_next_tick(conn, settings):
    from resources.inbox import InboxResource

    for name in ("ann", "bea", "cat"):
        make_folder(settings.inbox_dir, "moonbase", name, {"p.png": TOM})
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    # a budget of nothing: each tick imports one folder, then stops
    resources = defs.resources | {
        "inbox": InboxResource(path=str(settings.inbox_dir), tick_budget_seconds=0)
    }
    imported, cursor = [], None
    with instance_for_test() as instance:
        for _ in range(3):
            result = sensor(
                build_sensor_context(instance=instance, resources=resources, cursor=cursor)
            )
            imported += [r.partition_key for r in result.run_requests]
            cursor = result.cursor
        last = sensor(build_sensor_context(instance=instance, resources=resources, cursor=cursor))
    assert imported == ["ann", "bea", "cat"]
    assert "no new or changed folders" in last.skip_message
