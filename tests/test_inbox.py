"""Inbox folder drops (PRD-16, PRD-14): whole folders in, bad ones quarantined with a report."""

import json
import os
import time

import pytest
from dagster import build_sensor_context, instance_for_test

from tests.ingest_files import ASTRONAUT, TOM, age, astronaut_variant, make_folder
from trulience.catalog import characters, projects, source_images
from trulience.config import Settings
from trulience.ingest.inbox import REJECTED_DIR, import_drop, quarantine, scan_inbox
from trulience_assets.definitions import build_definitions

METADATA = json.dumps({"name": "Eileen Collins", "role": "astronaut", "age": 42}).encode()


@pytest.fixture
def inbox(tmp_path, conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    return tmp_path / "inbox"


def only_drop(inbox):
    (drop,) = scan_inbox(inbox)
    return drop


def count(conn, table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_new_folder_becomes_a_character_with_its_images(conn, storage, inbox):
    make_folder(inbox, "moonbase", "eileen", {"portrait.png": ASTRONAUT, "metadata.json": METADATA})
    report = import_drop(conn, storage, only_drop(inbox))
    assert report.outcome == "imported" and report.created
    eileen = characters.get_character(conn, "eileen")
    assert eileen.name == "Eileen Collins"
    assert eileen.metadata == {"name": "Eileen Collins", "role": "astronaut", "age": 42}
    (image,) = source_images.list_source_images(conn, "eileen")
    assert (image.width, image.height, image.original_name) == (512, 512, "portrait.png")
    assert storage.sha256(storage.key_of(image.uri)) == image.sha256
    assert [p.slug for p in characters.projects_of(conn, "eileen")] == ["moonbase"]


def test_unchanged_redrop_does_nothing_and_a_changed_image_adds_a_version(conn, storage, inbox):
    folder = make_folder(inbox, "moonbase", "eileen", {"portrait.png": ASTRONAUT})
    import_drop(conn, storage, only_drop(inbox))
    before = count(conn, "audit_log")
    assert import_drop(conn, storage, only_drop(inbox)).outcome == "unchanged"
    assert count(conn, "audit_log") == before

    (folder / "portrait.png").write_bytes(astronaut_variant(1.1))
    age(folder, 30)
    report = import_drop(conn, storage, only_drop(inbox))
    assert report.outcome == "imported"
    assert report.images_added == ["portrait.png v2"]
    versions = source_images.list_source_images(conn, "eileen")
    assert [v.version for v in versions] == [1, 2]
    assert len({v.uri for v in versions}) == 2  # the old file was not overwritten
    assert all(storage.exists(storage.key_of(v.uri)) for v in versions)


def test_same_folder_in_a_second_project_joins_it(conn, storage, inbox):
    projects.create_project(conn, "film-two", "Film Two")
    make_folder(inbox, "moonbase", "eileen", {"portrait.png": ASTRONAUT})
    make_folder(inbox, "film-two", "eileen", {"portrait.png": ASTRONAUT})
    for drop in scan_inbox(inbox):
        import_drop(conn, storage, drop)
    assert [p.slug for p in characters.projects_of(conn, "eileen")] == ["film-two", "moonbase"]
    assert count(conn, "source_images") == 1


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"portrait.png": ASTRONAUT, "metadata.json": b"{not json"}, "not valid JSON"),
        ({"portrait.png": ASTRONAUT, "metadata.json": b'{"age": "old"}'}, "'old' is not of type"),
        ({"portrait.png": ASTRONAUT, "metadata.json": b'{"rating": "x"}'}, "is not one of"),
        ({"portrait.png": b"this is text, not a picture"}, "portrait.png"),
        ({"notes.docx": b"PK..."}, "not an image"),
        ({}, "holds no usable image"),
    ],
)
def test_bad_folder_is_refused_whole_and_nothing_reaches_the_catalog(
    conn, storage, inbox, files, problem
):
    make_folder(
        inbox, "moonbase", "eileen", {"good.png": TOM, **files} if files else {"readme.txt": b"hi"}
    )
    drop = only_drop(inbox)
    report = import_drop(conn, storage, drop)
    assert report.outcome == "rejected"
    assert problem in json.dumps(report.to_dict())
    assert count(conn, "characters") == 0 and count(conn, "source_images") == 0
    where = quarantine(drop, report, inbox)
    assert where.parent == inbox / REJECTED_DIR
    assert json.loads((where / "report.json").read_text())["outcome"] == "rejected"
    assert scan_inbox(inbox) == []  # the quarantined folder is never scanned again


@pytest.mark.parametrize("name", ["Eileen Collins", "eileen..v2", "eil\x07een", "-eileen"])
def test_folder_names_that_are_not_slugs_are_refused(conn, storage, inbox, name):
    make_folder(inbox, "moonbase", name, {"portrait.png": ASTRONAUT})
    report = import_drop(conn, storage, only_drop(inbox))
    assert report.outcome == "rejected"
    assert "character folder" in report.problems[0].field
    assert count(conn, "characters") == 0


def test_unknown_project_and_sub_folders_are_refused(conn, storage, inbox):
    make_folder(inbox, "no-such-project", "eileen", {"portrait.png": ASTRONAUT})
    report = import_drop(conn, storage, only_drop(inbox))
    assert "project 'no-such-project' does not exist" in str(report.problems)
    folder = make_folder(inbox, "moonbase", "tom", {"tom.png": TOM})
    (folder / "more").mkdir()
    age(folder, 60)
    report = import_drop(conn, storage, next(d for d in scan_inbox(inbox) if d.name == "tom"))
    assert "sub-folders" in str(report.problems)


def test_a_folder_still_being_copied_waits_for_the_next_scan(inbox):
    make_folder(inbox, "moonbase", "eileen", {"portrait.png": ASTRONAUT}, age_s=0)
    assert scan_inbox(inbox, settle_s=5) == []
    assert len(scan_inbox(inbox, settle_s=5, now=time.time() + 10)) == 1


def test_catalog_edit_since_the_last_drop_is_kept_not_overwritten(conn, storage, inbox):
    folder = make_folder(
        inbox, "moonbase", "eileen", {"p.png": ASTRONAUT, "metadata.json": METADATA}
    )
    import_drop(conn, storage, only_drop(inbox))
    characters.update_metadata(conn, "eileen", {"name": "Eileen", "role": "commander"})
    (folder / "metadata.json").write_bytes(b'{"name": "Eileen", "role": "pilot"}')
    age(folder, 30)
    report = import_drop(conn, storage, only_drop(inbox))
    assert "metadata.json not applied" in report.warnings[0]
    assert characters.get_character(conn, "eileen").metadata["role"] == "commander"


def test_sensor_imports_once_and_quarantines_only_the_bad_folder(conn, db_url, tmp_path):
    projects.create_project(conn, "moonbase", "Moonbase")
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})
    make_folder(settings.inbox_dir, "moonbase", "eileen", {"portrait.png": ASTRONAUT})
    make_folder(
        settings.inbox_dir, "moonbase", "broken", {"tom.png": TOM, "metadata.json": b"{oops"}
    )
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with instance_for_test() as instance:
        first = sensor(build_sensor_context(instance=instance, resources=defs.resources))
        assert [r.partition_key for r in first.run_requests] == ["eileen"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["eileen"]
        assert characters.get_character(conn, "eileen")
        rejected = list((settings.inbox_dir / REJECTED_DIR).iterdir())
        assert len(rejected) == 1 and rejected[0].name.startswith("moonbase_broken-")
        assert "metadata.json" in (rejected[0] / "report.json").read_text()

        second = sensor(
            build_sensor_context(instance=instance, resources=defs.resources, cursor=first.cursor)
        )
        assert "no new or changed folders" in second.skip_message
    assert not os.path.exists(settings.inbox_dir / "moonbase" / "broken")
