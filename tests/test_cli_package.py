"""The CLI as a package: one group built from its nouns, Dagster reached only through
pipeline.py (and only when a command runs Dagster work), a stage's stderr kept in its log."""

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from trulience.cli import NOUNS, main, pipeline
from trulience_assets.launch import RunOutcome

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(db_url, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_every_noun_brings_its_commands_and_none_is_taken_twice():
    names = [name for module in NOUNS.values() for name in module.COMMANDS]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(main.commands)
    assert isinstance(main.commands["characters"], click.Group)


def test_a_catalog_command_imports_no_dagster(tmp_path):
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from trulience.cli import main\n"
        "result = CliRunner().invoke(main, ['config'])\n"
        "assert result.exit_code == 0, result.output\n"
        "shell = ('dagster', 'trulience_assets')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in shell))\n"
    )
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_scene_types_show_lists_the_version_history(run):
    size = ["--duration", "4", "--segment", "2", "--width", "64", "--height", "64"]
    assert run("scene-types", "add", "walk", *size).exit_code == 0
    assert run("scene-types", "add", "walk", *size, "--fps", "12").exit_code == 0
    result = run("scene-types", "show", "walk")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert all(v["created_at"] for v in shown["versions"])


def test_a_run_is_said_in_one_line():
    ok = RunOutcome("characters", "eileen", True, "1a2b3c4d5e6f")
    assert pipeline.run_line(ok) == "  characters [eileen]: ok  (run 1a2b3c4d)"
    failed = RunOutcome(
        "characters", "cat", False, "ffffeeee0000", (("usable_primary_image", "no face"),)
    )
    assert pipeline.run_line(failed) == (
        "  characters [cat]: FAILED; check usable_primary_image failed: no face  (run ffffeeee)"
    )
    assert pipeline.run_line(RunOutcome("lake", None, True, "abcdefgh1")).startswith("  lake: ok")


def _noisy(ok: bool):
    def work() -> bool:
        os.write(2, b"native library notice\n")  # as OpenCV writes: to file descriptor 2
        print("a python warning", file=sys.stderr)
        return ok

    return work


def test_a_stage_keeps_its_stderr_in_the_log_and_shows_nothing_when_it_succeeds(tmp_path, capfd):
    log = tmp_path / "logs" / "demo.log"
    assert pipeline.logged(log, _noisy(True))
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert log.read_text() == "native library notice\na python warning\n"


def test_a_failed_stage_shows_the_tail_of_its_own_log_lines(tmp_path, capfd):
    log = tmp_path / "demo.log"
    log.write_text("".join(f"earlier run {i}\n" for i in range(30)))
    assert not pipeline.logged(log, _noisy(False))
    out, err = capfd.readouterr()
    assert err == ""
    assert "    | native library notice\n    | a python warning\n" in out
    assert "earlier run" not in out and f"(all of it: {log})" in out


def test_a_crash_in_a_stage_is_a_failed_stage_with_its_traceback_in_the_log(tmp_path, capfd):
    def crash() -> bool:
        raise RuntimeError("the code location would not load")

    log = tmp_path / "demo.log"
    assert not pipeline.logged(log, crash)
    out, _err = capfd.readouterr()
    assert "RuntimeError: the code location would not load" in log.read_text()
    assert "    | RuntimeError: the code location would not load" in out
