"""`make notebooks` (`trulience notebooks`): JupyterLab on 127.0.0.1 answers with its token,
lists the notebooks, opens a jupytext `.py` as a notebook, runs a kernel of this environment
on the demo's lake, and stops with its kernels."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import psutil
import pytest
from click.testing import CliRunner
from jupyter_client import BlockingKernelClient

from tests.panel_apps import free_port
from trulience.cli import main
from trulience.cli.notebooks import LAB_CONFIG, NOTEBOOKS, lab_command, lab_env
from trulience.config import Settings
from trulience.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789abcdef"
NAMES = ["identity_consistency.py", "production_overview.py", "throughput_and_cost.py"]


def test_the_notebook_port_is_a_setting(tmp_path):
    assert Settings.from_env({"TRULIENCE_HOME": str(tmp_path)}).notebook_port == 8888
    env = {"TRULIENCE_HOME": str(tmp_path), "TRULIENCE_NOTEBOOK_PORT": "8899"}
    assert Settings.from_env(env).notebook_port == 8899
    assert "--ServerApp.port=8899" in lab_command(Settings.from_env(env))
    with pytest.raises(ConfigError, match="TRULIENCE_NOTEBOOK_PORT must be a port number"):
        Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "TRULIENCE_NOTEBOOK_PORT": "0"})
    shown = CliRunner().invoke(main, ["config"], env=env)
    assert "TRULIENCE_NOTEBOOK_PORT  8899" in shown.output


def test_the_kernels_get_the_studio_home_absolute_and_this_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative home is relative to where the command runs,
    settings = Settings.from_env({"TRULIENCE_HOME": "home"})
    env = lab_env(settings, TOKEN)  # not to the notebook's folder, where a kernel runs
    assert env["TRULIENCE_HOME"] == str(tmp_path / "home")
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO)
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(LAB_CONFIG)
    assert env["JUPYTER_TOKEN"] == TOKEN
    assert not any(TOKEN in arg for arg in lab_command(settings))  # `ps` would show it


def test_a_py_notebook_saves_back_as_the_same_py_without_outputs(tmp_path):
    """Jupytext's contents manager, as the server runs it, with notebooks/jupytext.toml."""
    asyncio.run(save_back(tmp_path))


async def save_back(tmp_path: Path) -> None:
    from jupytext import AsyncTextFileContentsManager

    shutil.copy(NOTEBOOKS / "production_overview.py", tmp_path)
    shutil.copy(NOTEBOOKS / "jupytext.toml", tmp_path)
    (tmp_path / "notes.md").write_text("# notes\n")
    manager = AsyncTextFileContentsManager(root_dir=str(tmp_path))
    model = await manager.get("production_overview.py", type="notebook", content=True)
    assert model["type"] == "notebook"
    code = next(cell for cell in model["content"]["cells"] if cell["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "lake: ...\n"}]
    code["source"] += "\n# edited"
    await manager.save({"type": "notebook", "content": model["content"]}, "production_overview.py")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "jupytext.toml",
        "notes.md",
        "production_overview.py",
    ]
    saved = (tmp_path / "production_overview.py").read_text()
    assert "# edited" in saved and "lake: ..." not in saved
    again = jupytext.read(tmp_path / "production_overview.py")
    assert again.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    assert [c.source for c in again.cells] == [c["source"] for c in model["content"]["cells"]]
    assert (await manager.get("notes.md", content=False))["type"] == "file"  # text, as it is


def api(port: int, path: str, body: dict | None = None, token: str | None = TOKEN) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"token {token}"} if token else {}),
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_until_answering(port: int, server: subprocess.Popen, log: Path) -> None:
    """Poll until the server answers with the token; generous, for a loaded machine."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"trulience notebooks exited with {server.returncode}:\n{log.read_text()}")
        try:
            api(port, "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer on port {port} within 180 s:\n{log.read_text()}")


def run_in_kernel(connection_file: Path, code: str) -> str:
    """The text `code` prints, run in the kernel through its connection file."""
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        printed: list[str] = []

        def collect(message: dict) -> None:
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                printed.append("\n".join(message["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=120, output_hook=collect)
        assert reply["content"]["status"] == "ok", printed
        return "".join(printed)
    finally:
        client.stop_channels()


# The first code cell of production_overview.py, as an analyst runs it, and what it ran on.
PROBE = """
import json, os, sys
import trulience
from trulience.config import Settings
from trulience.lake.files import lake_of
from trulience.lake.reports import as_of, open_lake

lake = lake_of(Settings.from_env())
tables = open_lake(lake).sql("SELECT count(*) FROM scenes").fetchall()[0][0]
print(json.dumps({"executable": sys.executable, "trulience": trulience.__file__,
                  "lake": str(lake), "as_of": as_of(lake)[b"as_of"].decode(),
                  "takes": tables, "pid": os.getpid(), "cwd": os.getcwd()}))
"""


def start_notebooks(env: dict, tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "notebooks.log"
    env = env | {
        "TRULIENCE_NOTEBOOK_PORT": str(port),
        "JUPYTER_TOKEN": TOKEN,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),  # where the kernels' files are
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-user-settings"),  # not the user's
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
    }
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "trulience.cli", "notebooks"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return server, port, log


def check_the_notebooks_open_as_notebooks(port: int) -> None:
    listing = api(port, "/api/contents")
    kinds = {item["name"]: item["type"] for item in listing["content"]}
    assert {name: kinds.get(name) for name in NAMES} == dict.fromkeys(NAMES, "notebook")
    opened = api(port, "/api/contents/production_overview.py?type=notebook&content=1")
    assert opened["type"] == "notebook" and opened["format"] == "json"
    cells = opened["content"]["cells"]
    assert cells[0]["cell_type"] == "markdown" and "# Production overview" in cells[0]["source"]
    assert any(cell["cell_type"] == "code" for cell in cells)
    # a double click opens a .py as jupytext's notebook (the lab's default, not the user's)
    viewers = api(port, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    default = viewers["schema"]["properties"]["defaultViewers"]["default"]
    assert default["python"] == "Jupytext Notebook"


def gone(process: psutil.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True  # exited, not reaped yet
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.5)
    return False


def stop(server: subprocess.Popen, tree: list[psutil.Process]) -> list[str]:
    """SIGTERM to `trulience notebooks`, as Ctrl+C would be; the command lines of the
    processes of its tree (itself, JupyterLab, kernels) still running 60 s later, killed."""
    server.send_signal(signal.SIGTERM)
    left = []
    for process in [psutil.Process(server.pid), *tree]:
        if not gone(process, timeout=60):
            left.append(" ".join(process.cmdline()[:3]))
            process.kill()
    server.wait()
    return left


@pytest.mark.slow
def test_make_notebooks_serves_the_notebooks_on_the_demo_lake_and_stops(demo_production, tmp_path):
    # the demo's lake, read-only, named as production names its lake: by LAKE_URL
    home = tmp_path / "home"
    lake_url = {"TRULIENCE_HOME": str(home), "LAKE_URL": demo_production.lake.as_uri()}
    server, port, log = start_notebooks(demo_production.env | lake_url, tmp_path)
    tree: list[psutil.Process] = []
    try:
        wait_until_answering(port, server, log)
        with pytest.raises(urllib.error.HTTPError, match="403"):
            api(port, "/api/contents", token=None)  # nothing without the token
        check_the_notebooks_open_as_notebooks(port)
        # the kernel of an opened notebook, started as JupyterLab does: through a session
        opened = {"path": "production_overview.py", "type": "notebook", "name": ""}
        session = api(port, "/api/sessions", opened | {"kernel": {"name": "python3"}})
        kernel = session["kernel"]["id"]
        probe = json.loads(run_in_kernel(tmp_path / "runtime" / f"kernel-{kernel}.json", PROBE))
        # JupyterLab checkpoints a notebook when it saves it: in the home, not in the tree
        api(port, "/api/contents/production_overview.py/checkpoints", {})
        tree = psutil.Process(server.pid).children(recursive=True)
    finally:
        left = stop(server, tree)
    assert left == [], f"still running 60 s after SIGTERM: {left}"
    checkpoints = home / "notebooks" / "checkpoints"
    assert [p.name for p in checkpoints.iterdir()] == ["production_overview-checkpoint.py"]
    assert not (NOTEBOOKS / ".ipynb_checkpoints").exists()
    assert probe["pid"] in [p.pid for p in tree]  # the kernel was the server's, and is gone
    printed = log.read_text()
    assert f"JupyterLab: http://127.0.0.1:{port}/lab?token={TOKEN}  (Ctrl+C to stop)" in printed
    assert f"lake             {demo_production.lake}\n" in printed
    assert Path(probe["executable"]).resolve() == Path(sys.executable).resolve()
    assert Path(probe["trulience"]).is_relative_to(REPO)
    assert probe["lake"] == str(demo_production.lake) and probe["as_of"].startswith("20")
    assert probe["takes"] > 0 and probe["cwd"] == str(NOTEBOOKS)
