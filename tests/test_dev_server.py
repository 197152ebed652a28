"""`trulience dev` starts the Dagster webserver and daemon on 127.0.0.1 and stops cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_dev_serves_the_code_location_and_stops_on_sigterm(db_url, tmp_path):
    port = free_port()
    env = os.environ | {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "TRULIENCE_DAGSTER_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "trulience.cli", "dev"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        nodes = None
        while time.monotonic() < deadline:
            try:
                answer = graphql(port, "{ assetNodes { assetKey { path } } }")
                nodes = [n["assetKey"]["path"] for n in answer["data"]["assetNodes"]]
                if nodes:
                    break
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(1)
        assert nodes and ["character_record"] in nodes, "webserver never served the assets"
        assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("trulience dev did not stop within 30 s of SIGTERM")
    # the children (webserver, daemon) are gone too
    time.sleep(1)
    leftover = [
        p.info["cmdline"]
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and str(port) in p.info["cmdline"]
    ]
    assert leftover == []
