"""Lake figures: the production report over 10M synthetic segment attempts in DuckDB
(target under 1 s) against a plain scan of the same files, and catalog export throughput
against Postgres's own COPY of the same rows.

    .venv/bin/python benchmarks/lake.py [--rows 10000000] [--export-rows 200000] [--quick]

`--quick` (run by the test suite): 100,000 segment attempts over 30 days, 5,000 exported.
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server
from trulience.catalog.synthetic import (
    change_an_old_segment,
    copy_segments_out,
    fill_synthetic_catalog,
)
from trulience.lake.catalog_export import DATASETS, export_catalog
from trulience.lake.files import replace_days, write_dimension, write_state
from trulience.lake.reports import open_lake, run_report

DAYS = 365
SEGMENTS_PER_TAKE = 4


def timed(function, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def synthetic_lake(lake: Path, rows: int, days: int = DAYS) -> None:
    """`rows` segment attempts over `days` days (a year) in day partitions, with their takes."""
    rng = np.random.default_rng(7)
    takes = rows // SEGMENTS_PER_TAKE
    projects = pl.Series([f"project-{i}" for i in range(20)])
    scene_types = pl.Series([f"scene-{i}" for i in range(40)])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    take_day = rng.integers(0, days, takes)
    take_project = rng.integers(0, len(projects), takes)
    take_type = rng.integers(0, len(scene_types), takes)
    take_character = rng.integers(0, 5000, takes)
    statuses = pl.Series(["assembled", "generating", "failed", "assembled"])
    decisions = pl.Series([None, "approved", "rejected", "approved", None], dtype=pl.String)
    scenes = pl.DataFrame(
        {
            "scene_id": np.arange(takes, dtype=np.int64),
            "project": projects.gather(take_project),
            "character": _named("character-", take_character),
            "scene_type": scene_types.gather(take_type),
            "scene_type_version": np.ones(takes, dtype=np.int32),
            "take": np.ones(takes, dtype=np.int32),
            "latest": np.ones(takes, dtype=bool),
            "status": statuses.gather(rng.integers(0, len(statuses), takes)),
            "frames": np.full(takes, 24 * 5 * SEGMENTS_PER_TAKE, dtype=np.int64),
            "fps": np.full(takes, 24.0),
            "width": np.full(takes, 1280, dtype=np.int32),
            "height": np.full(takes, 720, dtype=np.int32),
            "video_s": np.full(takes, 5.0 * SEGMENTS_PER_TAKE),
            "planned_segments": np.full(takes, SEGMENTS_PER_TAKE, dtype=np.int32),
            "review_decision": decisions.gather(rng.integers(0, len(decisions), takes)),
            "reviewer": None,
            "reviewed_at": None,
            "delivered_at": None,
            "created_at": _stamps(take_day),
            "updated_at": _stamps(take_day),
        }
    )
    scenes_table = scenes.to_arrow().cast(DATASETS["scenes"])
    replace_days(lake, "scenes", scenes_table, _days(start, days), "created_at")

    seg_take = np.repeat(np.arange(takes), SEGMENTS_PER_TAKE)
    passed = rng.random(rows) > 0.08
    segments = pl.DataFrame(
        {
            "segment_id": np.arange(rows, dtype=np.int64),
            "scene_id": seg_take.astype(np.int64),
            "project": projects.gather(take_project[seg_take]),
            "character": _named("character-", take_character[seg_take]),
            "scene_type": scene_types.gather(take_type[seg_take]),
            "take": np.ones(rows, dtype=np.int32),
            "index": np.tile(np.arange(SEGMENTS_PER_TAKE, dtype=np.int32), takes),
            "attempt": np.ones(rows, dtype=np.int32),
            "status": pl.Series(["qa_failed", "qa_passed"]).gather(passed.astype(np.int8)),
            "current": passed,
            "frames": np.full(rows, 120, dtype=np.int64),
            "fps": np.full(rows, 24.0),
            "width": np.full(rows, 1280, dtype=np.int32),
            "height": np.full(rows, 720, dtype=np.int32),
            "video_s": np.full(rows, 5.0),
            "compute_s": rng.gamma(9.0, 10.0, rows),
            "backend": "comfyui",
            "worker": _named("gpu-", rng.integers(0, 32, rows)),
            "workflow": pl.Series(["wan-i2v", "ltx", "hunyuan"]).gather(rng.integers(0, 3, rows)),
            "seed": rng.integers(0, 2**31, rows),
            "qa_passed": passed,
            "failed_gates": None,
            "identity": rng.normal(0.9, 0.03, rows),
            "run_id": None,
            "started_at": None,
            "finished_at": None,
            "created_at": _stamps(take_day[seg_take]),
            "updated_at": None,
        },
        strict=False,
    )
    table = segments.to_arrow().cast(DATASETS["segments"])
    replace_days(lake, "segments", table, _days(start, days), "created_at")
    for name in ("projects", "characters", "project_characters", "scene_types", "workers"):
        write_dimension(lake, name, DATASETS[name].empty_table())
    write_state(lake, "catalog", {"exported_at": datetime.now(UTC).isoformat()})


def _named(prefix: str, numbers: np.ndarray) -> pl.Series:
    return prefix + pl.Series(numbers).cast(pl.String)


def _stamps(days: np.ndarray) -> pl.Series:
    """Midday UTC of day `d` of 2026, per element."""
    moments = np.datetime64("2026-01-01T12:00:00", "us") + days.astype("timedelta64[D]")
    return pl.Series(moments).dt.replace_time_zone("UTC")


def _days(start: datetime, days: int) -> list:
    return [(start + timedelta(days=d)).date() for d in range(days)]


def report_figures(rows: int, days: int = DAYS, repeat: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="lake-bench-") as tmp:
        lake = Path(tmp) / "lake"
        started = time.perf_counter()
        synthetic_lake(lake, rows, days)
        size = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
        print(
            f"synthetic lake: {rows:,} segment attempts, {rows // SEGMENTS_PER_TAKE:,} takes, "
            f"{days} day partitions, {size / 1e6:.0f} MB, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        con = open_lake(lake)
        scan, _ = timed(lambda: con.sql("SELECT sum(compute_s) FROM segments").fetchall(), repeat)
        report, result = timed(lambda: run_report(lake, "production", con), repeat)
        opened, _ = timed(lambda: run_report(lake, "production"), repeat)
        throughput, _ = timed(lambda: run_report(lake, "throughput", con), min(3, repeat))
        print(
            f"production report: {report * 1000:.0f} ms median of {repeat} ({result.num_rows} rows)"
        )
        print(f"  with opening the lake: {opened * 1000:.0f} ms")
        print(f"  baseline, one-column scan of segments: {scan * 1000:.0f} ms")
        print(
            f"  ratio report / scan: {report / scan:.1f}x; target < 1 s: "
            f"{'met' if report < 1 else 'MISSED'}"
        )
        print(
            f"throughput report (p50/p95 per day x worker x workflow): {throughput * 1000:.0f} ms"
        )


def export_figures(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="lake-export-") as tmp:
        server = embedded_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            with connect(url, actor="bench") as conn:
                migrations.migrate(conn)
                fill_synthetic_catalog(conn, rows // SEGMENTS_PER_TAKE, SEGMENTS_PER_TAKE)
                started = time.perf_counter()
                reports = export_catalog(conn, Path(tmp) / "lake")
                export_s = time.perf_counter() - started
                exported = sum(r.rows for r in reports)
                started = time.perf_counter()
                copy_segments_out(conn)
                copy_s = time.perf_counter() - started
                started = time.perf_counter()
                change_an_old_segment(conn)  # only its day is rewritten
                reports = export_catalog(conn, Path(tmp) / "lake")
                again_s = time.perf_counter() - started
                changed = [p for r in reports for p in r.partitions]
        finally:
            server.cleanup()
    print(
        f"catalog export: {exported:,} rows (segments, qa gates, scenes, dims) in "
        f"{export_s:.2f} s = {exported / export_s:,.0f} rows/s; "
        f"{rows / export_s:,.0f} segment attempts/s"
    )
    print(
        f"  baseline, COPY of the segments table alone: {copy_s:.2f} s "
        f"(export / copy: {export_s / copy_s:.1f}x)"
    )
    print(
        f"  incremental re-export after one old segment changed: {again_s:.2f} s "
        f"({len(changed)} fact partition(s) rewritten; full / incremental "
        f"{export_s / again_s:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="segment attempts in the lake (default 10M)")
    parser.add_argument("--export-rows", type=int, help="segments to export (default 200,000)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 100k rows over 30 days, 5k exported"
    )
    args = parser.parse_args()
    if args.quick:
        report_figures(args.rows or 100_000, days=30, repeat=2)
    else:
        report_figures(args.rows or 10_000_000)
    export_figures(args.export_rows or (5_000 if args.quick else 200_000))


if __name__ == "__main__":
    main()
