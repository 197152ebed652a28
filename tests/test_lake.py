"""The reporting lake (PRD-73): catalog and run facts as Parquet, DuckDB reports over them."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from tests.review_takes import make_project, make_take
from trulience.catalog.database import connect
from trulience.cli import main
from trulience.lake.catalog_export import DATASETS, export_catalog
from trulience.lake.files import LakeError, day_partitions
from trulience.lake.reports import open_lake, report_names, run_report
from trulience.lake.run_facts import write_run_facts

REPO = Path(__file__).resolve().parents[1]
DAY1 = datetime(2026, 11, 20, 10, tzinfo=UTC)
DAY2 = datetime(2026, 11, 21, 10, tzinfo=UTC)


def _rows(table) -> dict:
    """The report's project x scene type rows (not the project and studio totals)."""
    return {
        (r["project"], r["scene_type"]): r for r in table.to_pylist() if r["level"] == "scene type"
    }


# -- reports agree with the catalog ------------------------------------------------------


@pytest.mark.slow
def test_production_report_agrees_with_direct_sql_on_the_demo(demo_production):
    report = _rows(run_report(demo_production.lake, "production"))
    with connect(demo_production.database_url) as conn:
        direct = conn.execute(
            """WITH latest AS (
                   SELECT DISTINCT ON (s.project_id, s.character_id, s.scene_type_id) s.*
                     FROM scenes s
                    ORDER BY s.project_id, s.character_id, s.scene_type_id, s.take DESC),
               decided AS (
                   SELECT l.*, (SELECT decision FROM reviews r WHERE r.scene_id = l.id
                                 ORDER BY created_at DESC, id DESC LIMIT 1) AS decision,
                          EXISTS (SELECT 1 FROM deliverables d WHERE d.scene_id = l.id
                                     AND d.status IN ('packaged', 'delivered')) AS delivered,
                          l.frames / (l.effective_config ->> 'fps')::float8 AS seconds
                     FROM latest l)
               SELECT p.slug, t.slug, count(*),
                      (SELECT count(*) FROM scenes s
                        WHERE s.project_id = p.id AND s.scene_type_id = t.id),
                      count(*) FILTER (WHERE decision = 'approved' AND NOT delivered),
                      count(*) FILTER (WHERE decision = 'rejected'),
                      count(*) FILTER (WHERE delivered),
                      count(*) FILTER (WHERE decision IS NULL AND d.status = 'assembled'),
                      coalesce(sum(seconds) FILTER (WHERE decision = 'approved'), 0) / 60,
                      (SELECT sum((g.provenance ->> 'compute_s')::float8) FROM segments g
                         JOIN scenes s ON s.id = g.scene_id
                        WHERE s.project_id = p.id AND s.scene_type_id = t.id)
                 FROM decided d JOIN projects p ON p.id = d.project_id
                 JOIN scene_types t ON t.id = d.scene_type_id
                GROUP BY p.id, p.slug, t.id, t.slug"""
        ).fetchall()
    assert len(direct) == len(report) == 2
    for row_sql in direct:
        project, scene_type, newest, made, approved, rejected, delivered = row_sql[:7]
        waiting, minutes, gpu = row_sql[7:]
        row = report[(project, scene_type)]
        assert row["takes"] == newest
        assert row["takes_made"] == made
        assert row["approved"] == approved
        assert row["rejected"] == rejected
        assert row["delivered"] == delivered
        assert row["awaiting_review"] == waiting
        assert row["approved_min"] == pytest.approx(minutes, abs=1e-3)
        assert row["gpu_s"] == pytest.approx(gpu, abs=1e-3)
    # the demo session approved two takes and both were delivered through the sensor (a
    # delivered take is in the stage delivered, not also approved)
    assert sum(r["approved"] for r in report.values()) == 0
    assert sum(r["delivered"] for r in report.values()) == 2
    assert sum(r["rejected"] for r in report.values()) == 1


@pytest.mark.slow
def test_throughput_and_failures_agree_with_direct_sql_on_the_demo(demo_production):
    throughput = run_report(demo_production.lake, "throughput").to_pylist()
    with connect(demo_production.database_url) as conn:
        attempts, video_s, gpu_s, passed = conn.execute(
            """SELECT count(*), sum(frames / (provenance ->> 'fps')::float8),
                      sum((provenance ->> 'compute_s')::float8),
                      count(*) FILTER (WHERE (qa ->> 'passed')::boolean)
                 FROM segments"""
        ).fetchone()
        gate_failures = conn.execute(
            """SELECT count(*) FROM segments g, jsonb_array_elements(g.qa -> 'gates') x
                WHERE NOT (x ->> 'passed')::boolean"""
        ).fetchone()[0]
    assert sum(r["attempts"] for r in throughput) == attempts
    assert sum(r["passed"] for r in throughput) == passed
    assert sum(r["video_s"] for r in throughput) == pytest.approx(video_s, abs=1e-2)
    assert sum(r["gpu_s"] for r in throughput) == pytest.approx(gpu_s, abs=1e-2)
    failures = run_report(demo_production.lake, "failures").to_pylist()
    assert sum(r["failures"] for r in failures if r["kind"] == "qa gate") == gate_failures


@pytest.mark.slow
def test_run_facts_hold_the_demo_runs_and_their_steps(demo_production):
    con = open_lake(demo_production.lake)
    jobs = dict(con.sql("SELECT job, count(*) FROM dagster_runs GROUP BY job").fetchall())
    with connect(demo_production.database_url) as conn:
        takes = conn.execute("SELECT count(*) FROM scenes").fetchone()[0]
        characters = conn.execute("SELECT count(*) FROM characters").fetchone()[0]
    # a scenes run per take, a delivery run per approval, two characters runs per
    # character (inbox sensor, then the demo's fresh run), and the lake runs
    assert jobs["scenes"] == takes and jobs["delivery"] == 2
    assert jobs["characters"] == 2 * characters and jobs["lake"] >= 1
    steps = con.sql(
        "SELECT count(*) FROM dagster_steps s JOIN dagster_runs r USING (run_id) "
        "WHERE r.job = 'scenes' AND s.step_key = 'segments' AND s.status = 'SUCCESS'"
    ).fetchall()[0][0]
    assert steps == takes
    partitions = con.sql(
        "SELECT DISTINCT character || '|' || scene_type FROM dagster_runs WHERE job = 'scenes'"
    ).fetchall()
    assert len(partitions) == takes


@pytest.mark.slow
def test_report_command_writes_table_csv_and_parquet(demo_production, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trulience.cli", "report", *args],
            cwd=REPO,
            env=demo_production.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    table = run("production")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].startswith("as of ")
    assert table.stdout.splitlines()[1].split()[:4] == ["level", "project", "scene_type", "takes"]
    assert "look-around-wide" in table.stdout
    csv_out = run("throughput", "--format", "csv")
    assert csv_out.stdout.startswith("day,worker,workflow,attempts,")
    target = tmp_path / "failures.parquet"
    parquet = run("failures", "--format", "parquet", "--output", str(target))
    assert parquet.returncode == 0, parquet.stderr
    assert pq.read_table(target).column_names[:2] == ["kind", "cause"]
    assert b"as_of" in pq.read_schema(target).metadata
    refused = run("production", "--format", "parquet")
    assert refused.returncode != 0 and "--output" in refused.stderr


# -- incremental export --------------------------------------------------------------------


def _segment(conn, scene_id: int, index: int, at: datetime, *, compute_s: float, passed=True):
    gates = [
        {"name": "identity", "value": 0.9, "passed": True, "threshold": 0.8},
        {"name": "frozen", "value": 2.0 if not passed else 0.1, "passed": passed, "threshold": 1.5},
    ]
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                 provenance, qa, created_at, updated_at)
           VALUES (%s, %s, 1, %s, 'file:///x.mp4', repeat('a', 64), 48, %s, %s, %s, %s)""",
        (
            scene_id,
            index,
            "qa_passed" if passed else "qa_failed",
            Jsonb(
                {
                    "fps": "24",
                    "width": 512,
                    "height": 512,
                    "compute_s": compute_s,
                    "worker": "gpu-1",
                    "workflow": "wan",
                    "backend": "comfyui",
                }
            ),
            Jsonb({"passed": passed, "failed": [] if passed else ["frozen"], "gates": gates}),
            at,
            at,
        ),
    )


def _seed(conn) -> int:
    make_project(conn)
    scene = make_take(conn)
    conn.execute(
        "UPDATE scenes SET created_at = %s, effective_config = %s WHERE id = %s",
        (DAY1, Jsonb({"fps": "24", "width": 512, "height": 512}), scene),
    )
    _segment(conn, scene, 0, DAY1, compute_s=10.0)
    _segment(conn, scene, 1, DAY2, compute_s=12.0, passed=False)
    return scene


def test_export_rewrites_only_the_days_that_changed(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed(conn)
    first = {r.dataset: r for r in export_catalog(conn, lake)}
    assert first["segments"].partitions == ("2026-11-20", "2026-11-21")
    assert [d.isoformat() for d in day_partitions(lake, "segments")] == [
        "2026-11-20",
        "2026-11-21",
    ]
    day1 = lake / "segments" / "date=2026-11-20" / "part-0.parquet"
    day2 = lake / "segments" / "date=2026-11-21" / "part-0.parquet"
    stamps = (day1.stat().st_mtime_ns, day2.stat().st_mtime_ns)

    second = {r.dataset: r for r in export_catalog(conn, lake)}
    assert second["segments"].partitions == ()  # nothing changed: nothing rewritten
    assert (day1.stat().st_mtime_ns, day2.stat().st_mtime_ns) == stamps

    conn.execute("UPDATE segments SET status = 'superseded' WHERE index = 1")
    third = {r.dataset: r for r in export_catalog(conn, lake)}
    assert third["segments"].partitions == ("2026-11-21",)
    assert day1.stat().st_mtime_ns == stamps[0]
    assert pq.read_table(day2).column("status").to_pylist() == ["superseded"]
    # still one row per segment across the lake
    con = open_lake(lake)
    assert con.sql("SELECT count(*), count(DISTINCT segment_id) FROM segments").fetchall() == [
        (2, 2)
    ]


def test_a_new_review_re_exports_its_scene(conn, tmp_path):
    lake = tmp_path / "lake"
    scene = _seed(conn)
    export_catalog(conn, lake)
    user = conn.execute(
        "INSERT INTO users (username, display_name, role) VALUES ('rae', 'Rae', 'reviewer') "
        "RETURNING id"
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO reviews (scene_id, reviewer_id, decision) VALUES (%s, %s, 'approved')",
        (scene, user),
    )
    reports = {r.dataset: r for r in export_catalog(conn, lake)}
    assert reports["scenes"].partitions == ("2026-11-20",)
    con = open_lake(lake)
    assert con.sql("SELECT review_decision, reviewer FROM scenes").fetchall() == [
        ("approved", "rae")
    ]
    assert con.sql("SELECT decision FROM reviews").fetchall() == [("approved",)]


def test_reports_on_seeded_facts(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed(conn)
    export_catalog(conn, lake)
    throughput = run_report(lake, "throughput").to_pylist()
    assert [(r["day"].isoformat(), r["attempts"], r["gpu_s"]) for r in throughput] == [
        ("2026-11-20", 1, 10.0),
        ("2026-11-21", 1, 12.0),
    ]
    assert throughput[0]["gpu_s_per_video_s"] == pytest.approx(10.0 / 2.0)
    failures = run_report(lake, "failures").to_pylist()
    assert [(r["kind"], r["cause"], r["failures"], r["attempts"]) for r in failures] == [
        ("qa gate", "frozen", 1, 2)
    ]
    assert failures[0]["worker"] == "gpu-1" and failures[0]["workflow"] == "wan"


def test_run_facts_merge_by_run_id(tmp_path):
    lake = tmp_path / "lake"
    created = datetime(2026, 11, 22, 9, tzinfo=UTC)
    queued = {"run_id": "r1", "job": "scenes", "status": "QUEUED", "created_at": created}
    write_run_facts(lake, [queued], [], created)
    done = queued | {
        "status": "SUCCESS",
        "started_at": created,
        "ended_at": created + timedelta(seconds=30),
        "duration_s": 30.0,
    }
    other = {"run_id": "r2", "job": "delivery", "status": "FAILURE", "created_at": created}
    step = {
        "run_id": "r1",
        "job": "scenes",
        "step_key": "segments",
        "status": "SUCCESS",
        "run_created_at": created,
    }
    write_run_facts(lake, [done, other], [step], created)
    con = open_lake(lake)
    assert con.sql("SELECT run_id, status FROM dagster_runs ORDER BY run_id").fetchall() == [
        ("r1", "SUCCESS"),
        ("r2", "FAILURE"),
    ]
    assert con.sql("SELECT count(*) FROM dagster_steps").fetchall() == [(1,)]
    failures = run_report(lake, "failures").to_pylist()
    assert [(r["kind"], r["cause"], r["failures"]) for r in failures] == [("run", "delivery", 1)]
    with pytest.raises(ValueError, match="unknown column"):
        write_run_facts(lake, [done | {"colour": "red"}], [], created)


# -- bad input -----------------------------------------------------------------------------


def test_reading_a_folder_that_is_not_a_lake_says_how_to_make_one(tmp_path):
    with pytest.raises(LakeError, match=r"no lake here yet.*trulience lake export"):
        open_lake(tmp_path / "nowhere")
    with pytest.raises(LakeError, match="unknown report 'nope'"):
        run_report(tmp_path, "nope")
    assert report_names() == ["failures", "production", "throughput"]


def test_a_corrupt_export_state_is_named_and_nothing_is_rewritten(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed(conn)
    export_catalog(conn, lake)
    state = lake / "_state" / "catalog.json"
    state.write_text("{not json")
    before = {p: p.stat().st_mtime_ns for p in lake.rglob("*.parquet")}
    with pytest.raises(LakeError, match=r"catalog\.json: unreadable export state"):
        export_catalog(conn, lake)
    assert {p: p.stat().st_mtime_ns for p in lake.rglob("*.parquet")} == before
    # a full export starts over from the catalog
    export_catalog(conn, lake, full=True)
    assert json.loads(state.read_text())["exported_at"]


def test_report_command_refuses_without_a_lake(tmp_path, db_url):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(main, ["report", "production"], env=os.environ | env)
    assert result.exit_code == 1
    assert "no lake here yet" in result.output
    result = CliRunner().invoke(main, ["report", "costs"], env=os.environ | env)
    assert result.exit_code == 2 and "'costs' is not one of" in result.output


def test_a_new_take_rewrites_the_day_of_the_take_it_replaces(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed(conn)  # take 1, made on DAY1
    export_catalog(conn, lake)
    make_take(conn, take=2)  # made today: take 1 is no longer the latest
    reports = {r.dataset: r for r in export_catalog(conn, lake)}
    assert "2026-11-20" in reports["scenes"].partitions
    con = open_lake(lake)
    assert con.sql("SELECT take, latest FROM scenes ORDER BY take").fetchall() == [
        (1, False),
        (2, True),
    ]
    assert con.sql("SELECT take FROM latest_takes").fetchall() == [(2,)]
    production = run_report(lake, "production").to_pylist()
    scene_type = [r for r in production if r["level"] == "scene type"]
    assert [(r["takes_made"], r["takes"]) for r in scene_type] == [(2, 1)]


def test_lake_export_catalog_only_from_the_command_line(conn, db_url, tmp_path):
    _seed(conn)
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(main, ["lake", "export", "--catalog-only"], env=env)
    assert result.exit_code == 0, result.output
    assert "segments: 2 row(s) in 2 day partition(s)" in result.output
    lake = tmp_path / "home" / "lake"
    assert [d.isoformat() for d in day_partitions(lake, "qa_gates")] == [
        "2026-11-20",
        "2026-11-21",
    ]


def test_lake_export_shows_progress_dataset_by_dataset(conn, db_url, tmp_path):
    _seed(conn)
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(main, ["lake", "export", "--catalog-only"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    total = len(DATASETS)
    steps = [line for line in lines if line.startswith("dataset ")]
    assert [line.split(",")[0] for line in steps] == [
        f"dataset {i} of {total}" for i in range(1, total + 1)
    ]
    assert all(" elapsed" in line for line in steps)
    assert any(", ~" in line and " left" in line for line in steps[:-1])
    assert not any(line.lstrip().startswith("{") for line in lines)  # no JSON lines
    assert lines[-1].startswith(f"lake: {tmp_path / 'home' / 'lake'}, as of 20")


def test_reports_narrow_to_a_project_and_a_span_of_days(conn, db_url, tmp_path):
    lake = tmp_path / "home" / "lake"
    _seed(conn)
    make_project(conn, "other")
    other = make_take(conn, project="other")
    conn.execute(
        "UPDATE scenes SET created_at = %s, effective_config = %s WHERE id = %s",
        (DAY2, Jsonb({"fps": "24", "width": 512, "height": 512}), other),
    )
    _segment(conn, other, 0, DAY2, compute_s=5.0)
    export_catalog(conn, lake)

    everything = run_report(lake, "throughput").to_pylist()
    assert [(r["day"].isoformat(), r["attempts"]) for r in everything] == [
        ("2026-11-20", 1),
        ("2026-11-21", 2),
    ]
    assert [r["gpu_s"] for r in run_report(lake, "throughput", project="other").to_pylist()] == [
        5.0
    ]
    day2 = run_report(lake, "throughput", since=DAY2.date(), until=DAY2.date()).to_pylist()
    assert [(r["day"].isoformat(), r["gpu_s"]) for r in day2] == [("2026-11-21", 17.0)]
    production = run_report(lake, "production", project="demo").to_pylist()
    assert [(r["level"], r["project"], r["gpu_s"]) for r in production] == [
        ("scene type", "demo", 22.0),
        ("project", "demo", 22.0),
        ("studio", None, 22.0),
    ]
    with pytest.raises(
        LakeError, match=r"project 'nowhere' not found in the lake \(known: demo, other\)"
    ):
        run_report(lake, "production", project="nowhere")
    with pytest.raises(LakeError, match="narrow the lake when opening it"):
        run_report(lake, "production", open_lake(lake), project="demo")
    with pytest.raises(LakeError, match="--until 2026-11-20 is before --since 2026-11-21"):
        open_lake(lake, since=DAY2.date(), until=DAY1.date())

    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    result = CliRunner().invoke(
        main,
        ["report", "failures", "--format", "csv", "--project", "demo", "--since", "2026-11-21"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("qa gate,frozen,walk,wan,gpu-1,1,1,")
    bad = CliRunner().invoke(main, ["report", "production", "--since", "21/11/2026"], env=env)
    assert bad.exit_code == 2 and "21/11/2026" in bad.output


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_the_same_lake_on_object_storage(conn, s3_endpoint):
    import boto3

    from trulience.config import Settings
    from trulience.lake.files import lake_of

    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="studio-lake")
    settings = Settings.from_env(
        {
            "TRULIENCE_HOME": "/nonexistent",
            "LAKE_URL": "s3://studio-lake/prod/lake",
            "LAKE_OPTIONS": json.dumps({"key": "test", "secret": "test"}),
            "S3_ENDPOINT_URL": s3_endpoint,
        }
    )
    lake = lake_of(settings)
    assert not lake.local and str(lake) == "s3://studio-lake/prod/lake"
    _seed(conn)
    export_catalog(conn, lake)
    assert [d.isoformat() for d in day_partitions(lake, "segments")] == [
        "2026-11-20",
        "2026-11-21",
    ]
    keys = sorted(lake.fs.find("studio-lake/prod/lake/segments"))
    assert keys == [
        "studio-lake/prod/lake/segments/date=2026-11-20/part-0.parquet",
        "studio-lake/prod/lake/segments/date=2026-11-21/part-0.parquet",
    ]
    # DuckDB reads it through fsspec (no httpfs extension needed, none downloaded)
    throughput = run_report(lake, "throughput").to_pylist()
    assert [(r["day"].isoformat(), r["gpu_s"]) for r in throughput] == [
        ("2026-11-20", 10.0),
        ("2026-11-21", 12.0),
    ]
    conn.execute("UPDATE segments SET status = 'superseded' WHERE index = 1")
    reports = {r.dataset: r for r in export_catalog(conn, lake)}
    assert reports["segments"].partitions == ("2026-11-21",)
    con = open_lake(lake)
    assert con.sql("SELECT status FROM segments ORDER BY segment_id").fetchall() == [
        ("qa_passed",),
        ("superseded",),
    ]


def test_a_lake_url_must_be_a_known_store():
    from trulience.config import Settings
    from trulience.errors import ConfigError

    with pytest.raises(ConfigError, match="LAKE_URL must be file://, s3:// or memory://"):
        Settings.from_env({"LAKE_URL": "ftp://lake"})
    with pytest.raises(ConfigError, match="LAKE_OPTIONS is not valid JSON"):
        Settings.from_env({"LAKE_URL": "s3://b/lake", "LAKE_OPTIONS": "{key"})
    shared = Settings.from_env(
        {"STORAGE_URL": "s3://media/x", "STORAGE_OPTIONS": '{"key": "k"}', "LAKE_URL": "s3://b/l"}
    )
    assert shared.lake_options == {"key": "k"}  # the same store: the same credentials
    assert Settings.from_env({}).effective_lake_url.endswith("/.trulience/lake")
