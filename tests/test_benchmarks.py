"""Every benchmark runs: each `benchmarks/*.py --quick` exits 0 and prints its ratios (small
sizes, the same code path as `make bench`), so none can rot unnoticed again."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((REPO / "benchmarks").glob("*.py"))

# The figure lines each benchmark must print (a ratio, or a share of an ideal).
RATIO = r"\d+(\.\d+)?"
FIGURES = {
    "comfyui": [rf"client overhead .*\n.*p50 {RATIO} ms", rf"\({RATIO}% of ideal\)"],
    "delivery": [
        rf"assembly by packet copy: today {RATIO} s, now {RATIO} s, .* byte-identical: True",
        rf"ratio smoothing / full re-encode = {RATIO} \(today {RATIO}\)",
        rf"video QA of one segment .* ratio {RATIO}",
    ],
    "ingest": [
        rf"throughput: {RATIO} images/s today",
        rf"throughput: {RATIO} images/s pipelined, ratio pipelined / today {RATIO}",
        rf"p95 exact / p95 hnsw ef_search=40: {RATIO}×",
    ],
    "lake": [
        rf"ratio report / scan: {RATIO}x",
        rf"export / copy: {RATIO}x",
        rf"full / incremental {RATIO}x",
    ],
    "loop": [
        rf"overhead {RATIO} ms/segment = {RATIO} x the 20 ms target",
        rf"overlapped / serial wall time, gpu-like backend: {RATIO}",
    ],
    "loop_media": [rf"full decode / seek: +{RATIO}x", rf"preview backend .*: +{RATIO} fps"],
    "video_qa": [
        rf"video QA of one segment with faces: today {RATIO}x, now {RATIO}x the plain decode, "
        rf"ratio today / now {RATIO}",
        r"verdicts identical",
    ],
    "studio": [
        rf"page review: first render p50 {RATIO} ms, p95 {RATIO} ms \(p95 / goal 1.5 s = {RATIO}",
        rf"palette answer over \d+ queries: .*p95 / goal 150 ms = {RATIO}",
        rf"ratio palette / search p95 = {RATIO}",
    ],
    "review_player": [
        rf"ratio old / new p95 = {RATIO}",
        rf"playback .* ratio new / old = {RATIO}",
        rf"open to first frame: .* ratio old / new = {RATIO}",
    ],
}


def test_every_benchmark_has_its_figures_listed() -> None:
    assert {path.stem for path in BENCHMARKS} == set(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("script", BENCHMARKS, ids=[path.stem for path in BENCHMARKS])
def test_benchmark_quick_run_prints_its_ratios(script: Path, tmp_path: Path) -> None:
    # each benchmark makes its own temporary folder (and embedded Postgres): keep them here
    env = os.environ | {"TMPDIR": str(tmp_path), "TRULIENCE_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    expected = list(FIGURES[script.stem])
    if script.stem == "delivery":
        # `make test` installs Debian's ffmpeg; without it the baseline says why it is missing
        expected.append(
            rf"ratio ours / ffmpeg = {RATIO} \(today {RATIO}\)"
            if shutil.which("ffmpeg")
            else "no ratio against ffmpeg: ffmpeg is not installed"
        )
    for figure in expected:
        assert re.search(figure, run.stdout), f"{script.name} did not print /{figure}/:\n{output}"
