"""Stage hooks without Dagster: configuration checked field by field, the timeout wrapper
killing a hanging hook's whole process group, the shell and Node reporter, and what a
stage makes of each outcome (real subprocesses; the pipes messages file read back)."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster_pipes import DAGSTER_PIPES_MESSAGES_ENV_VAR, encode_param
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.review_takes import make_project, make_take
from trulience.catalog import users
from trulience.catalog.hooks import Hook, delete_hook, list_hooks, runs_of
from trulience.catalog.scenes import get_take
from trulience.cli import main
from trulience.production.hooks import process
from trulience.production.hooks.spec import InvalidHook, command, parse_hook, parse_timeout
from trulience.production.hooks.stage import (
    HookFailed,
    HookOutcome,
    StageVetoed,
    add_hook,
    environment,
    run_stage,
)


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def pipes_env(messages: Path) -> dict[str, str]:
    """The environment a hook gets from the pipes client: where its messages go."""
    return {DAGSTER_PIPES_MESSAGES_ENV_VAR: encode_param({"path": str(messages)})}


def read_messages(messages: Path) -> list[dict]:
    if not messages.exists():
        return []
    return [json.loads(line) for line in messages.read_text().splitlines()]


def subprocess_runner(tmp_path: Path):
    """A HookRunner with the real timeout wrapper and the real reporter, the pipes
    messages read back from their file (resources/hooks.py does this through Dagster)."""

    def run(hook: Hook, about: dict) -> HookOutcome:
        messages = tmp_path / f"{hook.name}.messages"
        env = dict(os.environ) | environment(about) | pipes_env(messages)
        ended = process.run(command(hook), hook.timeout_s, grace_s=0.5, env=env)
        payloads = [
            m["params"]["payload"]
            for m in read_messages(messages)
            if m["method"] == "report_custom_message"
        ]
        veto = next((p["veto"] for p in payloads if "veto" in p), None)
        metadata = {k: v for p in payloads for k, v in p.get("metadata", {}).items()}
        return HookOutcome(ended["exit_code"], ended["timed_out"], ended["error"], veto, metadata)

    return run


REPORT = f'"{sys.executable}" -m trulience.production.hooks.report'


# -- configuration --------------------------------------------------------------------------


def test_bad_configuration_is_refused_naming_the_field(conn, tmp_path):
    make_project(conn)
    ok = script(tmp_path, "ok.sh", "exit 0\n")
    cases = [
        ({"script": str(tmp_path / "missing.sh")}, "script", "no such file"),
        ({"script": "x" * 5000}, "script", "too long"),
        ({"runtime": "ruby"}, "runtime", "must be one of: python, shell, node"),
        ({"timeout_s": "soon"}, "timeout_s", "must be a number"),
        ({"timeout_s": 0}, "timeout_s", "more than 0"),
        ({"timeout_s": "1e9"}, "timeout_s", "at most 86400"),
        ({"stage": "after_lunch"}, "stage", "before_generation"),
        ({"on_failure": "shrug"}, "on_failure", "veto, fail, continue"),
    ]
    for change, field, reason in cases:
        fields = {"stage": "before_assembly", "runtime": "shell", "script": ok} | change
        with pytest.raises(InvalidHook) as refused:
            add_hook(conn, "demo", "check", **fields)
        assert refused.value.field == field and reason in str(refused.value), change
        assert field in str(refused.value)
    with pytest.raises(InvalidHook, match="hook name 'Bad Name'"):
        add_hook(conn, "demo", "Bad Name", stage="after_qa", runtime="shell", script=ok)
    assert list_hooks(conn) == []  # nothing half-stored


def test_cli_adds_lists_and_removes_hooks(db_url, conn, tmp_path):
    make_project(conn)
    ok = script(tmp_path, "ok.sh", "exit 0\n")
    env = {"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url}

    def cli(*args):
        return CliRunner().invoke(main, ["hooks", *args], env=env)

    added = cli(
        "add", "demo", "light", "--stage", "before_assembly", "--runtime", "shell",
        "--script", ok, "--scene-type", "walk", "--timeout", "30", "--arg", "--strict",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "demo/light: before_assembly (walk), shell" in added.output
    assert "--strict, timeout 30 s, on failure veto" in added.output
    listed = cli("list", "--project", "demo")
    assert listed.exit_code == 0 and "demo/light" in listed.output
    bad = cli("add", "demo", "x", "--stage", "after_qa", "--runtime", "perl", "--script", ok)
    assert bad.exit_code == 1 and "hook runtime 'perl': must be one of" in bad.output
    twice = cli("add", "demo", "light", "--stage", "after_qa", "--runtime", "shell", "--script", ok)
    assert twice.exit_code == 1 and "already exists" in twice.output
    unknown = cli("add", "nope", "y", "--stage", "after_qa", "--runtime", "shell", "--script", ok)
    assert unknown.exit_code == 1 and "nope" in unknown.output
    removed = cli("remove", "demo", "light")
    assert removed.exit_code == 0 and list_hooks(conn) == []
    again = cli("remove", "demo", "light")
    assert again.exit_code == 1 and "demo/light" in again.output


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True), st.integers(), st.none()))
def test_a_timeout_is_a_positive_number_of_seconds_or_refused(value):
    try:
        seconds = parse_timeout(value)
    except InvalidHook as exc:
        assert exc.field == "timeout_s" and exc.value is value and repr(value) in str(exc)
    else:
        assert math.isfinite(seconds) and 0 < seconds <= 86400
        assert seconds == float(value)


@settings(max_examples=200)
@given(st.text(max_size=70), st.sampled_from(["python", "shell", "node", "lua", ""]))
def test_a_name_and_runtime_are_stored_only_when_valid(name, runtime):
    try:
        hook = parse_hook("demo", name, "after_qa", runtime, __file__)
    except InvalidHook as exc:
        assert exc.field in ("name", "runtime")
    else:
        assert hook.name == name and hook.runtime in ("python", "shell", "node")
        assert hook.script == __file__ and hook.on_failure == "veto"


# -- the wrapper and the reporter -----------------------------------------------------------


def test_a_hanging_hook_is_killed_with_its_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    hang = script(tmp_path, "hang.sh", f"sleep 300 &\necho $! > {pid_file}\nwait\n")
    ended = process.run(["/bin/sh", hang], timeout_s=1, grace_s=0.5)
    assert ended["timed_out"] is True and ended["exit_code"] is not None
    child = int(pid_file.read_text())
    assert not alive(child)  # the background sleep went with its shell


def alive(pid: int) -> bool:
    """A process still runs, once a kill sent to it has had its chance to land (a signal
    is delivered asynchronously; a zombie waiting for its reaper runs no more)."""
    for _ in range(200):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        if "\nState:\tZ" in status:
            return False
        time.sleep(0.05)
    return True


def test_a_stopped_wrapper_takes_the_hooks_process_group_with_it(tmp_path):
    """Dagster stops a run's hook by sending SIGINT to the process it started: the
    wrapper, which then kills the hook's whole group and writes no outcome."""
    pid_file, outcome = tmp_path / "child.pid", tmp_path / "outcome.json"
    hang = script(tmp_path, "hang.sh", f"sleep 300 &\necho $! > {pid_file}.part\n"
                  f"mv {pid_file}.part {pid_file}\nwait\n")  # fmt: skip
    wrapper = subprocess.Popen(
        [sys.executable, "-m", process.__name__, "--timeout", "300", "--grace", "0.5",
         "--outcome", str(outcome), "--", "/bin/sh", hang],
    )  # fmt: skip
    for _ in range(600):  # the hook has started once its child's pid is written
        if pid_file.exists() or wrapper.poll() is not None:
            break
        time.sleep(0.05)
    child = int(pid_file.read_text())
    wrapper.send_signal(signal.SIGINT)
    assert wrapper.wait(timeout=60) == 128 + signal.SIGINT
    assert not alive(child) and not outcome.exists()


def test_the_wrapper_writes_its_outcome_and_exits_zero(tmp_path):
    failing = script(tmp_path, "fail.py", "import sys\nsys.exit(3)\n")
    outcome = tmp_path / "outcome.json"
    args = ["--timeout", "30", "--outcome", str(outcome), "--", sys.executable, failing]
    assert process.main(args) == 0
    assert json.loads(outcome.read_text()) == {"exit_code": 3, "timed_out": False, "error": None}
    missing = process.run(["/nonexistent/node"], 5)
    assert missing["exit_code"] is None and "/nonexistent/node" in missing["error"]


def test_the_reporter_writes_pipes_messages(tmp_path, monkeypatch, capsys):
    from trulience.production.hooks import report

    messages = tmp_path / "messages"
    assert report.main(["veto", "no"]) == 2  # outside a hook: nobody to report to
    assert "DAGSTER_PIPES_MESSAGES is not set" in capsys.readouterr().err
    monkeypatch.setenv(DAGSTER_PIPES_MESSAGES_ENV_VAR, encode_param({"path": str(messages)}))
    assert report.main(["log", "twelve faces", "--level", "warning"]) == 0
    assert report.main(["metadata", "faces", "12"]) == 0
    assert report.main(["metadata", "note", "not json"]) == 0
    assert report.main(["metadata", "ratio", "NaN"]) == 0
    assert report.main(["veto", "too dark"]) == 0
    sent = read_messages(messages)
    assert [m["method"] for m in sent] == ["log"] + ["report_custom_message"] * 4
    assert sent[0]["params"] == {"message": "twelve faces", "level": "warning"}
    assert [m["params"]["payload"] for m in sent[1:]] == [
        {"metadata": {"faces": 12}},
        {"metadata": {"note": "not json"}},
        {"metadata": {"ratio": "NaN"}},
        {"veto": "too dark"},
    ]
    assert all(m["__dagster_pipes_version"] == "0.1" for m in sent)


# -- what a stage makes of its hooks --------------------------------------------------------


def test_a_shell_veto_refuses_the_stage_and_is_recorded_on_the_take(conn, tmp_path):
    make_project(conn)
    users.create_user(conn, "paul", "Paul", "producer")
    take = make_take(conn, status="generated")
    add_hook(
        conn, "demo", "count", stage="before_assembly", runtime="python",
        script=script(tmp_path, "count.py", "print('counted')\n"),
    )  # fmt: skip
    veto = f'{REPORT} metadata stage "$TRULIENCE_HOOK_STAGE"\n{REPORT} veto "no sky in shot"\n'
    add_hook(
        conn, "demo", "sky", stage="before_assembly", runtime="shell",
        script=script(tmp_path, "sky.sh", veto),
    )  # fmt: skip
    with pytest.raises(StageVetoed) as refused:
        run_stage(conn, subprocess_runner(tmp_path), "before_assembly", take, "run-1")
    assert refused.value.reason == "hook sky vetoed assembly: no sky in shot"
    count, sky = runs_of(conn, take)
    assert (count.outcome, sky.outcome) == ("passed", "vetoed")
    assert sky.metadata == {"stage": "before_assembly"} and sky.run_id == "run-1"
    refused_take = get_take(conn, take)
    assert refused_take.failure == refused.value.reason
    assert refused_take.status == "generated"  # the take stands as made
    told = conn.execute("SELECT kind, body, subject FROM notifications").fetchall()
    assert told == [
        ("hook_vetoed", refused.value.reason,
         {"scene_id": take, "stage": "before_assembly", "hook": "sky"}),
    ]  # fmt: skip


def test_a_failing_hook_vetoes_by_default_fails_or_continues_as_configured(conn, tmp_path):
    make_project(conn)
    take = make_take(conn, status="generated")
    failing = script(tmp_path, "fail.py", "raise SystemExit(3)\n")
    runner = subprocess_runner(tmp_path)
    add_hook(conn, "demo", "a", stage="after_qa", runtime="python", script=failing,
             on_failure="continue")  # fmt: skip
    assert [r.outcome for r in run_stage(conn, runner, "after_qa", take)] == ["failed"]
    add_hook(conn, "demo", "b", stage="after_qa", runtime="python", script=failing,
             on_failure="fail")  # fmt: skip
    with pytest.raises(HookFailed, match=r"hook b failed \(exit status 3\)"):
        run_stage(conn, runner, "after_qa", take)
    assert get_take(conn, take).failure is None  # a broken hook is not the take's fault
    add_hook(conn, "demo", "c", stage="after_qa", runtime="python", script=failing)
    delete_hook(conn, "demo", "b")
    with pytest.raises(StageVetoed, match="hook c failed"):
        run_stage(conn, runner, "after_qa", take)
    after = get_take(conn, take)
    assert after.status == "qa_failed" and after.failure == "hook c failed (exit status 3)"
    assert [r.outcome for r in runs_of(conn, take)] == ["failed"] * 5


def test_a_timed_out_hook_refuses_its_stage(conn, tmp_path):
    make_project(conn)
    take = make_take(conn, status="pending")
    add_hook(
        conn, "demo", "slow", stage="before_generation", runtime="shell", timeout_s=0.5,
        script=script(tmp_path, "slow.sh", "sleep 300\n"),
    )  # fmt: skip
    with pytest.raises(StageVetoed, match=r"hook slow timed out after 0.5 s and was killed"):
        run_stage(conn, subprocess_runner(tmp_path), "before_generation", take)
    (run,) = runs_of(conn, take)
    assert run.outcome == "timed_out" and get_take(conn, take).status == "pending"


@pytest.mark.skipif(shutil.which("node") is None, reason="no node interpreter on this host")
def test_a_node_hook_reports_through_the_reporter(conn, tmp_path):
    make_project(conn)
    take = make_take(conn, status="assembled")
    node = (
        "const { execFileSync } = require('child_process');\n"
        "const report = (...a) => execFileSync(process.env.TRULIENCE_PYTHON,\n"
        "  ['-m', 'trulience.production.hooks.report', ...a]);\n"
        "report('metadata', 'take', process.env.TRULIENCE_HOOK_TAKE_ID);\n"
        "report('veto', 'the client has not signed off');\n"
    )
    add_hook(conn, "demo", "signoff", stage="before_delivery", runtime="node",
             script=script(tmp_path, "signoff.js", node))  # fmt: skip
    with pytest.raises(StageVetoed, match="vetoed delivery: the client has not signed off"):
        run_stage(conn, subprocess_runner(tmp_path), "before_delivery", take)
    (run,) = runs_of(conn, take)
    assert run.metadata == {"take": take}  # "12" read back as JSON: a number


def test_hooks_apply_per_project_and_scene_type_and_are_inherited(conn, tmp_path):
    make_project(conn)
    make_project(conn, "other")
    conn.execute("INSERT INTO scene_types (slug, name) VALUES ('run', 'Run')")
    conn.execute("INSERT INTO scene_types (slug, name) VALUES ('move', 'Move')")
    conn.execute(
        "UPDATE scene_types SET parent_id = (SELECT id FROM scene_types WHERE slug = 'move') "
        "WHERE slug = 'walk'"
    )
    take = make_take(conn, status="generated")
    ok = script(tmp_path, "ok.sh", "exit 0\n")
    for project, name, scene_type in [
        ("demo", "all", None),
        ("demo", "any-move", "move"),
        ("demo", "walk-only", "walk"),
        ("demo", "run-only", "run"),
        ("other", "elsewhere", None),
    ]:
        add_hook(conn, project, name, stage="before_assembly", runtime="shell", script=ok,
                 scene_type=scene_type)  # fmt: skip
    ran = run_stage(conn, subprocess_runner(tmp_path), "before_assembly", take)
    # project-wide, then inherited from walk's parent 'move', then walk's own
    assert [r.hook_name for r in ran] == ["all", "any-move", "walk-only"]
    assert run_stage(conn, subprocess_runner(tmp_path), "after_qa", take) == []
