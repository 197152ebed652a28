"""What the studio dashboards count (PRD-42, PRD-41, PRD-90, PRD-64) agrees with the catalog:
on the demo production, and on seeded failures the demo never has."""

import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg.types.json import Jsonb

from tests.review_takes import make_project, make_take
from trulience.catalog.database import connect
from trulience.catalog.readiness import all_readiness
from trulience.lake.catalog_export import export_catalog
from trulience.lake.dashboards import (
    DASHBOARDS_DIR,
    count_by,
    exported_at,
    failed_runs,
    failures,
    load,
    performance,
    performance_trend,
    pulse,
    pulses,
    timeline,
)
from trulience.lake.files import LakeError, read_state
from trulience.lake.reports import open_lake, report_names
from trulience.lake.run_facts import write_run_facts

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)

# -- the demo production -----------------------------------------------------------------


@pytest.mark.slow
def test_pulse_counts_what_the_catalog_says(demo_production):
    with connect(demo_production.database_url) as conn:
        ready = sum(r.ready for r in all_readiness(conn, "demo"))
        cast = conn.execute("SELECT count(*) FROM project_characters").fetchone()[0]
        takes, in_flight, waiting, approved, delivered, rejected, generated_min, approved_min = (
            conn.execute(
                """WITH latest AS (
                       SELECT DISTINCT ON (s.project_id, s.character_id, s.scene_type_id) s.*
                         FROM scenes s
                        ORDER BY s.project_id, s.character_id, s.scene_type_id, s.take DESC),
                   decided AS (
                       SELECT l.*,
                              (SELECT decision FROM reviews r WHERE r.scene_id = l.id
                                ORDER BY created_at DESC, id DESC LIMIT 1) AS decision,
                              EXISTS (SELECT 1 FROM deliverables d WHERE d.scene_id = l.id
                                         AND d.status IN ('packaged', 'delivered')) AS delivered,
                              l.frames / (l.effective_config ->> 'fps')::float8 AS seconds
                         FROM latest l)
                   SELECT count(*),
                          count(*) FILTER (WHERE status IN ('pending', 'generating',
                                                            'generated')),
                          count(*) FILTER (WHERE status = 'assembled' AND decision IS NULL),
                          count(*) FILTER (WHERE decision = 'approved' AND NOT delivered),
                          count(*) FILTER (WHERE delivered),
                          count(*) FILTER (WHERE decision = 'rejected'),
                          NULL,
                          sum(seconds) FILTER (WHERE decision = 'approved') / 60
                     FROM decided"""
            ).fetchone()
        )
        # minutes generated: every assembled take, older ones included
        generated_min = conn.execute(
            """SELECT sum(frames / (effective_config ->> 'fps')::float8) / 60 FROM scenes
                WHERE status = 'assembled'"""
        ).fetchone()[0]
        gpu_s, attempts = conn.execute(
            "SELECT sum((provenance ->> 'compute_s')::float8), count(*) FROM segments"
        ).fetchone()

    con = open_lake(demo_production.lake)
    seen = pulse(con, "demo")
    assert (seen.characters, seen.characters_ready) == (cast, ready)
    assert seen.takes == takes
    assert seen.in_flight == in_flight
    assert seen.awaiting_review == waiting
    assert seen.approved == approved
    assert seen.delivered == delivered
    assert seen.rejected == rejected
    assert seen.generated_min == pytest.approx(generated_min)
    assert seen.approved_min == pytest.approx(approved_min)
    assert seen.segment_attempts == attempts
    assert seen.gpu_s == pytest.approx(gpu_s)
    assert seen.gpu_s_per_approved_min == pytest.approx(gpu_s / approved_min)
    # the demo session: two approved and delivered, one rejected, the others waiting
    assert (seen.approved, seen.delivered, seen.rejected) == (0, 2, 1)
    assert seen.awaiting_review == seen.takes - 3 > 0
    # one project: all projects added up is the same pulse under another name
    assert pulse(con) == replace(seen, project="all projects")
    assert pulses(con, "no-such-project") == []


@pytest.mark.slow
def test_timeline_rows_are_the_segment_attempts_with_worker_and_times(demo_production):
    with connect(demo_production.database_url) as conn:
        attempts = conn.execute(
            """SELECT scene_id, index, attempt, provenance ->> 'worker',
                      (provenance ->> 'started_at')::timestamptz,
                      (provenance ->> 'finished_at')::timestamptz,
                      (provenance ->> 'compute_s')::float8, (qa ->> 'passed')::boolean
                 FROM segments ORDER BY scene_id, index, attempt"""
        ).fetchall()
    assert len(attempts) >= 12 and all(a[4] and a[5] for a in attempts)

    con = open_lake(demo_production.lake)
    rows = timeline(con).to_pylist()
    seen = sorted(
        (
            r["scene_id"],
            r["index"],
            r["attempt"],
            r["worker"],
            r["started_at"],
            r["finished_at"],
            r["compute_s"],
            r["qa"] == "passed",
        )
        for r in rows
    )
    assert seen == attempts
    # each worker's bars in time order, every bar from its start to its finish
    assert all(r["started_at"] <= r["finished_at"] for r in rows)
    # a window keeps the attempts that finished within it of the newest one
    newest = max(a[5] for a in attempts)
    window = timedelta(seconds=10)
    recent = timeline(con, hours=window.total_seconds() / 3600).to_pylist()
    assert {(r["scene_id"], r["index"], r["attempt"]) for r in recent} == {
        a[:3] for a in attempts if a[5] >= newest - window
    }
    assert 0 < len(recent) < len(attempts)


@pytest.mark.slow
def test_performance_per_worker_and_workflow_sums_to_the_attempts(demo_production):
    with connect(demo_production.database_url) as conn:
        by_worker = conn.execute(
            """SELECT provenance ->> 'worker', array_agg((provenance ->> 'compute_s')::float8),
                      sum(frames / (provenance ->> 'fps')::float8)
                 FROM segments GROUP BY 1"""
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM segments").fetchone()[0]
    con = open_lake(demo_production.lake)
    rows = performance(con).to_pylist()
    workers = {r["name"]: r for r in rows if r["dimension"] == "worker"}
    workflows = [r for r in rows if r["dimension"] == "workflow"]
    assert sum(r["segments"] for r in workers.values()) == total
    assert sum(r["segments"] for r in workflows) == total
    assert set(workers) == {worker for worker, _, _ in by_worker}
    for worker, seconds, video_s in by_worker:
        row = workers[worker]
        assert row["segments"] == len(seconds)
        assert row["p50_gpu_s"] == pytest.approx(statistics.median(seconds))
        assert row["p50_gpu_s"] <= row["p95_gpu_s"] <= max(seconds)
        assert row["gpu_s_per_video_s"] == pytest.approx(sum(seconds) / video_s)
    trend = performance_trend(con).to_pylist()
    assert sum(r["segments"] for r in trend) == total
    assert all(r["day"] == trend[0]["day"] for r in trend)  # the demo ran today


@pytest.mark.slow
def test_the_demo_lake_loads_whole_with_its_export_time(demo_production):
    data = load(demo_production.lake, "demo", timeline_hours=None)
    assert data.projects == ["demo"]
    assert data.exported_at == datetime.fromisoformat(
        read_state(demo_production.lake, "catalog")["exported_at"]
    )
    assert data.runs_exported_at is not None
    assert data.pulse.delivered == 2
    assert data.timeline.num_rows == data.pulse.segment_attempts
    # the demo's attempts all passed and its runs all succeeded
    assert data.failures.num_rows == 0 and data.failed_runs.num_rows == 0


def test_dashboard_queries_are_not_listed_as_reports():
    names = {p.stem for p in DASHBOARDS_DIR.glob("*.sql")}
    assert {"pulse", "performance", "timeline", "failures_by_cause", "failed_runs"} <= names
    assert not names & set(report_names())


# -- failures, two projects and an empty lake, seeded ------------------------------------


def _attempt(conn, scene: int, index: int, attempt: int, at: datetime, **how) -> None:
    """A committed segment attempt that ran on `worker` with `workflow`; `failed` names the
    QA gates that refused it (none: it passed)."""
    failed = how.get("failed", [])
    gates = [
        {"name": gate, "passed": gate not in failed, "value": 1.0, "threshold": 0.5}
        for gate in ("identity", "frozen", "black")
    ]
    provenance = {
        "fps": "24",
        "compute_s": how["compute_s"],
        "worker": how["worker"],
        "workflow": how["workflow"],
        "backend": "comfyui",
        "started_at": at.isoformat(),
        "finished_at": (at + timedelta(seconds=how["compute_s"])).isoformat(),
    }
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                 provenance, qa, current, created_at, updated_at)
           VALUES (%s, %s, %s, %s, 'file:///x.mp4', repeat('a', 64), 48, %s, %s, %s, %s, %s)""",
        (
            scene,
            index,
            attempt,
            "qa_failed" if failed else "qa_passed",
            Jsonb(provenance),
            Jsonb({"passed": not failed, "failed": failed, "gates": gates}),
            not failed,
            at,
            at,
        ),
    )


def _seed_failures(conn) -> None:
    """Project 'demo' (ada, one take): segment 0 refused twice on gpu-1 with wan for
    'frozen' (and once also 'black'), then passed on gpu-2; segment 1 refused by 'identity'
    on gpu-2 with wan-fast. Project 'other' has its own take and no failures."""
    make_project(conn)
    scene = make_take(conn)
    conn.execute("UPDATE scenes SET effective_config = %s", (Jsonb({"fps": "24"}),))
    a = {"workflow": "wan", "compute_s": 40.0}
    _attempt(conn, scene, 0, 1, T0, worker="gpu-1", failed=["frozen"], **a)
    _attempt(
        conn,
        scene,
        0,
        2,
        T0 + timedelta(minutes=1),
        worker="gpu-1",
        failed=["frozen", "black"],
        **a,
    )
    _attempt(conn, scene, 0, 3, T0 + timedelta(minutes=2), worker="gpu-2", **a)
    fast = {"workflow": "wan-fast", "compute_s": 10.0}
    _attempt(
        conn, scene, 1, 1, T0 + timedelta(minutes=3), worker="gpu-2", failed=["identity"], **fast
    )
    _attempt(conn, scene, 1, 2, T0 + timedelta(minutes=4), worker="gpu-2", **fast)
    make_project(conn, "other")
    other = make_take(conn, "other")
    conn.execute(
        "UPDATE scenes SET effective_config = %s WHERE id = %s", (Jsonb({"fps": "24"}), other)
    )
    _attempt(conn, other, 0, 1, T0 + timedelta(days=1), worker="gpu-3", **fast)


def test_failures_are_counted_by_gate_workflow_and_worker(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed_failures(conn)
    export_catalog(conn, lake)
    con = open_lake(lake)
    seen = [
        (r["cause"], r["workflow"], r["worker"], r["failures"], r["checks"], r["takes"])
        for r in failures(con).to_pylist()
    ]
    assert seen == [
        ("frozen", "wan", "gpu-1", 2, 2, 1),
        ("black", "wan", "gpu-1", 1, 2, 1),
        ("identity", "wan-fast", "gpu-2", 1, 2, 1),
    ]
    assert failures(con, "other").num_rows == 0
    by_cause = count_by(failures(con), "cause", "failures").to_pylist()
    assert [(r["cause"], r["failures"]) for r in by_cause] == [
        ("frozen", 2),
        ("black", 1),
        ("identity", 1),
    ]
    # the timeline shows the refused attempts as failed, naming their gates
    refused = [r for r in timeline(con, "demo").to_pylist() if r["qa"] == "failed"]
    assert [(r["worker"], r["index"], r["attempt"], r["failed_gates"]) for r in refused] == [
        ("gpu-1", 0, 1, "frozen"),
        ("gpu-1", 0, 2, "frozen, black"),
        ("gpu-2", 1, 1, "identity"),
    ]
    # performance by worker: every attempt once, per project
    workers = {
        r["name"]: r["segments"]
        for r in performance(con, "demo").to_pylist()
        if r["dimension"] == "worker"
    }
    assert workers == {"gpu-1": 2, "gpu-2": 3}
    trend = performance_trend(con).to_pylist()
    assert [(str(r["day"]), r["worker"], r["segments"]) for r in trend] == [
        ("2026-11-20", "gpu-1", 2),
        ("2026-11-20", "gpu-2", 1),
        ("2026-11-20", "gpu-2", 2),
        ("2026-11-21", "gpu-3", 1),
    ]


def test_failed_runs_belong_to_a_project_through_their_character(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed_failures(conn)
    export_catalog(conn, lake)

    def run(run_id: str, job: str, status: str, character: str | None, minutes: int) -> dict:
        at = T0 + timedelta(minutes=minutes)
        return {
            "run_id": run_id,
            "job": job,
            "status": status,
            "character": character,
            "created_at": at,
            "started_at": at,
            "ended_at": at + timedelta(seconds=30),
        }

    write_run_facts(
        lake,
        [
            run("r1", "scenes", "FAILURE", "ada", 1),
            run("r2", "scenes", "SUCCESS", "ada", 2),
            run("r3", "lake", "FAILURE", None, 3),
            run("r4", "scenes", "FAILURE", "ada", 4),
        ],
        [],
        T0 + timedelta(hours=1),
    )
    con = open_lake(lake)
    assert [r["run_id"] for r in failed_runs(con).to_pylist()] == ["r4", "r3", "r1"]
    # ada is cast in 'demo'; the lake job belongs to no project
    assert [r["run_id"] for r in failed_runs(con, "demo").to_pylist()] == ["r4", "r1"]
    assert failed_runs(con, "nobody").num_rows == 0
    data = load(lake)
    assert data.failed_runs_by_job.to_pylist() == [
        {"job": "scenes", "count": 2},
        {"job": "lake", "count": 1},
    ]
    assert data.runs_exported_at == T0 + timedelta(hours=1)


def test_the_project_filter_and_all_projects_added_up(conn, tmp_path):
    lake = tmp_path / "lake"
    _seed_failures(conn)
    export_catalog(conn, lake)
    con = open_lake(lake)
    demo, other = pulses(con)
    assert (demo.project, other.project) == ("demo", "other")
    assert (demo.segment_attempts, demo.gpu_s) == (5, 140.0)
    assert (other.segment_attempts, other.gpu_s) == (1, 10.0)
    assert demo.awaiting_review == other.awaiting_review == 1
    everything = pulse(con)
    assert everything.segment_attempts == 6 and everything.awaiting_review == 2
    assert everything.gpu_s == 150.0
    # nothing approved yet: no cost per approved minute rather than a division by zero
    assert everything.gpu_s_per_approved_min is None
    assert pulse(con, "other") == other


def test_an_empty_catalog_gives_empty_dashboards_not_errors(db_url, tmp_path):
    lake = tmp_path / "lake"
    with pytest.raises(LakeError, match="no lake here yet"):
        load(lake)
    with connect(db_url) as conn:
        export_catalog(conn, lake)
    data = load(lake)
    assert data.projects == [] and data.pulse_by_project == []
    assert data.pulse.takes == 0 and data.pulse.gpu_s_per_approved_min is None
    for table in (data.performance, data.trend, data.timeline, data.failures, data.failed_runs):
        assert table.num_rows == 0
    assert data.exported_at == exported_at(lake)
    assert data.runs_exported_at is None  # the Dagster lake job has not run here


def test_an_unreadable_lake_is_named_with_the_way_out(conn, tmp_path):
    lake = tmp_path / "lake"
    make_project(conn)
    export_catalog(conn, lake)
    # a scenes file from before the lake had a column the shared views need
    day = lake / "scenes" / "date=2026-01-01"
    day.mkdir(parents=True)
    pq.write_table(pa.table({"scene_id": [1]}), day / "part-0.parquet")
    (lake / "scenes" / "part-0.parquet").unlink(missing_ok=True)
    with pytest.raises(LakeError, match=r"could not be read.*trulience lake export --full"):
        load(lake)
