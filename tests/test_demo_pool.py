"""`trulience demo` with COMFYUI_WORKERS set: the demo registers its core-node workflow on the
pool, every take is made by a (fake) ComfyUI worker, and the output says so, as progress."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog.database import connect
from trulience.demo import STILLS_GRAPH, STILLS_WORKFLOW


@pytest.mark.slow
def test_the_demo_makes_every_take_on_the_configured_pool(db_url, tmp_path):
    with FakeComfyUI() as worker:
        worker.add_input("example.png", ASTRONAUT.read_bytes())  # as a ComfyUI install ships
        env = os.environ | {
            "TRULIENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": db_url,
            "COMFYUI_WORKERS": worker.url,
        }
        result = subprocess.run(
            [sys.executable, "-m", "trulience.cli", "demo"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        submitted = worker.submissions
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert f"workflow {STILLS_WORKFLOW}" in output and f"validated on {worker.url}" in output
    assert "scenes job, the recursive loop for 6 take(s) on the ComfyUI pool 'default'" in output
    assert "preview" not in output
    # readable progress: stages, then takes i of n with the time so far
    for stage in range(1, 5):
        assert re.search(rf"^stage {stage} of 4: .*\(.* elapsed\)$", output, re.M), output
    for take in range(1, 7):
        assert re.search(rf"^take {take} of 6, scenes \[\w+\|[\w-]+\]: ok", output, re.M), output
    assert " - dagster - " not in output  # Dagster's own log lines stay in the log file
    made_by = re.findall(r"take 1: assembled, 3 segments, \d+ frames, made by (.+?)  ->", output)
    assert len(made_by) == 6 and set(made_by) == {made_by[0]}
    assert made_by[0].startswith("comfyui on ")
    assert len(submitted) == 18  # 6 takes x 3 segments, each submitted once
    # only core nodes ran: any ComfyUI install can make the demo
    assert {n["class_type"] for s in submitted for n in s.prompt.values()} == {
        n["class_type"] for n in STILLS_GRAPH.values()
    }
    with connect(db_url) as conn:
        made = conn.execute(
            """SELECT g.provenance ->> 'backend', g.provenance ->> 'workflow', count(*)
                 FROM segments g WHERE g.current GROUP BY 1, 2"""
        ).fetchall()
        assembled = conn.execute(
            "SELECT count(*) FROM scenes WHERE status = 'assembled'"
        ).fetchone()[0]
    assert made == [("comfyui", STILLS_WORKFLOW, 18)]
    assert assembled == 6
