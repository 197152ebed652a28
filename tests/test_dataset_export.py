"""Dataset export of chosen takes (PRD-40) with real video: every Nth frame as an image and
one Parquet row per frame, read back with DuckDB and polars, its values those of the catalog
(a trimmed segment's frames placed by its trim); unknown or unassembled takes, a folder in
use or one that cannot be written, and a take that fails half-way leave nothing behind."""

import math
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.numbered_takes import MODEL, make_numbered_take
from tests.review_takes import make_take
from trulience.auth.acting import Operator
from trulience.catalog.errors import InvalidValue
from trulience.catalog.scenes import current_segments, get_take
from trulience.cli import main
from trulience.delivery.trims import trim_segment
from trulience.errors import StorageError
from trulience.lake.datasets import FRAMES_PARQUET, DatasetProblem, export_dataset
from trulience.media.frames import read_frames

EVERY = 5
HEAD, TAIL = 4, 3  # trimmed from segment 1 of the first take


@pytest.fixture
def takes(conn, tmp_path):
    """Two assembled takes of real numbered frames, the first with a trimmed segment."""
    first = make_numbered_take(conn, tmp_path)
    trim_segment(conn, Operator("cli:ana"), first.storage, first.scene_id, 1, head=HEAD, tail=TAIL)
    second = make_numbered_take(conn, tmp_path, (12, 18), take=2)
    return first, second


def video_frames(made, tmp_path: Path) -> list[np.ndarray]:
    local = made.storage.local_file(f"{made.folder}/scene.mp4", tmp_path / f"v{made.scene_id}")
    return list(read_frames(local))


def rows_of(out: Path) -> list[dict]:
    return (
        duckdb.connect()
        .sql(f"SELECT * FROM read_parquet('{out / FRAMES_PARQUET}') ORDER BY scene_id, frame")
        .to_arrow_table()
        .to_pylist()
    )


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name)


def test_a_dataset_reads_back_with_duckdb_and_holds_the_catalogs_values(conn, takes, tmp_path):
    out = tmp_path / "dataset"
    done = export_dataset(conn, takes[0].storage, [t.scene_id for t in takes], out, every=EVERY)
    rows = rows_of(out)
    images = sorted(out.rglob("*.png"))
    assert done.frames == len(rows) == len(images)
    assert done.takes == 2
    assert pl.read_parquet(out / FRAMES_PARQUET).height == len(rows)

    for made in takes:
        video = video_frames(made, tmp_path)
        take = get_take(conn, made.scene_id)
        segments = current_segments(conn, made.scene_id)
        mine = [r for r in rows if r["scene_id"] == made.scene_id]
        assert [r["frame"] for r in mine] == list(range(0, len(video), EVERY))
        assert len(mine) == math.ceil(take.frames / EVERY)
        trimmed = {1: (HEAD, TAIL)} if made is takes[0] else {}
        kept = [s.frames - sum(trimmed.get(i, (0, 0))) for i, s in sorted(segments.items())]
        starts = [sum(kept[:i]) for i in range(len(kept))]
        for row in mine:
            index = max(i for i, start in enumerate(starts) if start <= row["frame"])
            segment = segments[index]
            head = trimmed.get(index, (0, 0))[0]
            assert row["segment"] == index
            assert row["segment_frame"] == head + row["frame"] - starts[index]
            assert row["segment_id"] == segment.id and row["attempt"] == segment.attempt
            assert row["time_s"] == pytest.approx(row["frame"] / made.fps)
            gates = {g["name"]: g["value"] for g in segment.qa["gates"]}
            assert row["identity"] == gates["identity"]
            assert dict(row["qa_values"]) == gates
            assert row["qa_passed"] is segment.qa["passed"]
            assert row["seed"] == segment.provenance["seed"]
            assert row["workflow"] == segment.provenance["workflow"]
            assert row["workflow_version"] == segment.provenance["workflow_version"]
            assert row["models"] == ["/".join(MODEL)]
            assert (row["project"], row["character"], row["scene_type"]) == ("demo", "ada", "walk")
            assert row["take"] == take.take and row["video_sha256"] == take.sha256
            picture = np.asarray(Image.open(out / row["image"]))
            assert np.array_equal(picture, video[row["frame"]])  # PNG: the decoded frame


def test_bad_takes_and_folders_are_refused_with_nothing_written(conn, takes, tmp_path):
    storage, good = takes[0].storage, takes[0].scene_id
    out = tmp_path / "dataset"
    with pytest.raises(InvalidValue, match="no take has this scene id"):
        export_dataset(conn, storage, [good, 999_999], out)
    waiting = make_take(conn, take=3, status="generated")
    with pytest.raises(InvalidValue, match="has no assembled video yet"):
        export_dataset(conn, storage, [good, waiting], out)
    with pytest.raises(InvalidValue, match="every 0"):
        export_dataset(conn, storage, [good], out, every=0)
    assert not out.exists()
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(DatasetProblem, match="not an empty folder"):
        export_dataset(conn, storage, [good], used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    with pytest.raises(DatasetProblem, match="cannot be written"):
        export_dataset(conn, storage, [good], Path("/proc/trulience-dataset"))
    assert leftovers(tmp_path) == []


def test_a_take_failing_half_way_leaves_no_folder(conn, takes, tmp_path):
    first, second = takes
    first.storage.delete(f"{second.folder}/scene.mp4")
    out = tmp_path / "dataset"
    with pytest.raises(StorageError, match="no object"):
        export_dataset(conn, first.storage, [first.scene_id, second.scene_id], out)
    assert not out.exists() and leftovers(tmp_path) == []


def test_the_cli_exports_a_dataset_and_names_a_refusal(takes, db_url, tmp_path):
    made = takes[1]
    env = {
        "DATABASE_URL": db_url,
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "STORAGE_URL": made.storage.url,
    }
    run = CliRunner().invoke
    out = tmp_path / "cli-dataset"
    args = ["lake", "dataset", "--takes", str(made.scene_id), "--out", str(out)]
    done = run(main, [*args, "--every", "4", "--format", "jpeg"], env=env)
    assert done.exit_code == 0, done.output
    assert f"dataset: 8 frame(s) of 1 take(s) -> {out}" in done.output
    assert len(rows_of(out)) == len(list(out.rglob("*.jpeg"))) == 8
    refused = run(main, args, env=env)
    assert refused.exit_code == 1 and "not an empty folder" in refused.output, refused.output
    unknown = run(
        main, ["lake", "dataset", "--takes", "5,x", "--out", str(tmp_path / "n")], env=env
    )
    assert unknown.exit_code == 2 and "'x'" in unknown.output, unknown.output
