"""The CLI never answers bad input with a traceback (issue 12): every command of
`trulience.cli.main`, found by walking the click group tree, is driven with generated
argument values (negative and huge numbers, 5000-digit numbers, empty strings, unicode,
control characters, NUL, very long strings, paths that do not exist) against a real
migrated catalog. Each must end with exit code 0, 1 or 2 and a message, never an uncaught
exception."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batch_history import make_character, make_project, make_scene_type
from tests.conftest import drop_database, new_database
from trulience.catalog.database import connect
from trulience.cli import main

# Commands that start servers, open an interactive shell or run long work are not fuzzed.
EXCLUDED = {
    ("db", "psql"): "opens an interactive psql session",
    ("db", "stop"): "stops the embedded Postgres server the other tests share",
    ("demo",): "runs the whole demo production (minutes of generation)",
    ("dev",): "starts the Dagster dev server and daemon",
    ("notebooks",): "starts the JupyterLab server",
    ("generate",): "long work: runs the generation loop through Dagster",
}
# Flags always given, so the command stays within the catalog (no Dagster launch).
FORCED = {
    ("lake", "export"): ["--catalog-only"],  # without it: launches the Dagster lake job
    ("batch", "create"): ["--dry-run"],  # without it: launches a Dagster backfill
}
# Examples per command in the suite; a deeper hunt: TRULIENCE_FUZZ_EXAMPLES=50 pytest ...
EXAMPLES = int(os.environ.get("TRULIENCE_FUZZ_EXAMPLES", "4"))
# Names that exist in the seeded catalog, so some values reach the code past "not found".
KNOWN = ["moonbase", "ada", "walk"]


@contextlib.contextmanager
def own_folder(tmp_path: Path) -> Iterator[None]:
    """Run in a fresh folder under the test's own: a relative path the CLI writes lands
    there, never in the checkout or beside a system file."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder, contextlib.chdir(folder):
        yield


def commands(group: click.Group = main, path: tuple[str, ...] = ()):
    """Every leaf command under `group`, as (path, command)."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


FUZZED = [(path, command) for path, command in commands() if path not in EXCLUDED]

numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["-1", "0", "9" * 5000, "-" + "9" * 5000, "1e309", "nan", "inf", "0x1f"]),
)
texts = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(
        [
            "",
            " ",
            "nope",
            "\x00",
            "a\x00b",
            "\x1b[31mred",
            "line\nbreak",
            "é" * 3,
            "名前",
            "🎬",
            "x" * 5000,
            "9" * 5000,
            "'; DROP TABLE projects; --",
            "%s",
            "{}",
            "[1, 2",
            "-1",
            "no/such/folder",
        ]
    ),
    st.text(max_size=40),
)
# Relative paths land in the test's own folder (the CLI runs in an isolated one); nothing
# here may name a real file outside it that a command could overwrite.
paths = st.sampled_from(["/no/such/file.csv", "", ".", "/", "missing.csv", "a\x00b", "x" * 5000])


def values_for(param: click.Parameter) -> st.SearchStrategy[str]:
    """Hostile and ordinary values for one parameter, as the command line would pass them."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.one_of(st.sampled_from([str(c) for c in kind.choices]), texts)
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return st.one_of(numbers, texts)
    if isinstance(kind, click.Path | click.File):
        return st.one_of(paths, texts.filter(lambda t: not t.startswith("/") and ".." not in t))
    if isinstance(kind, click.DateTime):
        return st.one_of(
            st.sampled_from(["2026-11-20", "2026-13-01", "0001-01-01", "9999-12-31"]), texts
        )
    return texts


@st.composite
def invocation(draw, path: tuple[str, ...], command: click.Command) -> list[str]:
    """An argument list for the command: each option given or not, each argument given
    (required ones always), values drawn for the parameter's type."""
    options: list[str] = list(FORCED.get(path, []))
    arguments: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(0 if not param.required else 1, 3))
            if param.nargs == 1 and not param.required and draw(st.booleans()):
                count = 0
            arguments += [draw(values_for(param)) for _ in range(count)]
        elif isinstance(param, click.Option):
            if not param.required and not draw(st.booleans()):
                continue
            flag = param.opts[0]
            if param.is_flag:
                if flag not in options:
                    options.append(flag)
                continue
            for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
                options.append(f"{max(param.opts, key=len)}={draw(values_for(param))}")
    # `--` keeps an argument such as "-1" from being read as an option
    return [*path, *options, "--", *arguments]


@pytest.fixture(scope="module")
def cli_env(server_url, template_url, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The CLI pointed at a migrated catalog holding one project, character and scene type
    (one catalog for the whole module: cloning one per command would cost more than the
    fuzzing)."""
    url = new_database(server_url)
    with connect(url) as conn:
        make_project(conn, "moonbase")
        make_character(conn, "ada", "moonbase", ready=False)
        make_scene_type(conn, "walk")
    home = tmp_path_factory.mktemp("fuzz") / "home"
    yield {
        "TRULIENCE_HOME": str(home),
        "DATABASE_URL": url,
        "TRULIENCE_ACTOR": "cli:fuzz",
        "COMFYUI_WORKERS": "",
        "DAGSTER_HOME": str(home / "dagster"),
    }
    drop_database(server_url, url)


@pytest.mark.parametrize(("path", "command"), FUZZED, ids=[" ".join(path) for path, _ in FUZZED])
def test_no_command_answers_bad_input_with_a_traceback(cli_env, tmp_path, path, command):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(args=invocation(path, command))
    def run(args: list[str]) -> None:
        runner = CliRunner()
        with own_folder(tmp_path):
            result = runner.invoke(main, args, env=os.environ | cli_env, input="")
        shown = f"trulience {args!r} -> {result.exit_code}: {result.output[-2000:]}"
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), shown + repr(result.exception)
        assert result.exit_code in (0, 1, 2), shown
        assert "Traceback" not in result.output, shown

    run()


def test_every_excluded_command_exists():
    """An exclusion must name a real command (a renamed one would escape the fuzzing)."""
    known = {path for path, _ in commands()}
    assert set(EXCLUDED) <= known and set(FORCED) <= known


# -- names the catalog does not know -------------------------------------------------------

NOT_FOUND = [
    (["characters", "readiness", "--project", "nope"], "project"),
    (["characters", "list", "--project", "nope"], "project"),
    (["characters", "add", "zed", "Zed", "--project", "nope"], "project"),
    (["characters", "join", "ada", "nope"], "project"),
    (["characters", "join", "nope", "moonbase"], "character"),
    (["characters", "show", "nope"], "character"),
    (["characters", "set-primary", "nope", "face.png"], "character"),
    (["characters", "contact-sheet", "nope", "--out", "sheet.png"], "character"),
    (["characters", "sync-metadata", "nope"], "character"),
    (["scene-types", "show", "nope"], "scene type"),
    (["workflows", "show", "nope"], "workflow"),
    (["workers", "drain", "nope"], "worker"),
    (["workers", "undrain", "nope"], "worker"),
    (["workers", "interrupt", "nope"], "worker"),
    (["workers", "free", "nope"], "worker"),
    (["workers", "remove", "nope"], "worker"),
    (["users", "passwd", "nope"], "user"),
    (["users", "disable", "nope"], "user"),
    (["users", "sessions", "nope"], "user"),
    (["users", "shortcuts", "nope"], "user"),
    (["generate", "nope", "walk"], "character"),
    (["generate", "ada", "nope"], "scene type"),
    (["generate", "ada", "walk", "--project", "nope"], "project"),
    (["runs", "status", "nope", "walk"], "character"),
    (["runs", "status", "ada", "nope"], "scene type"),
    (["runs", "status", "ada", "walk", "--project", "nope"], "project"),
    (["runs", "pause", "nope", "walk"], "character"),
    (["runs", "resume", "nope", "walk"], "character"),
    (["runs", "cancel", "nope", "walk"], "character"),
    (["runs", "interrupt", "nope", "walk"], "character"),
    (["tag", "hero", "--character", "nope"], "character"),
    (["tag", "hero", "--project", "nope"], "project"),
    (["tag", "hero", "--remove", "--project", "nope"], "project"),
    (["batch", "status", "999"], "batch"),
    (["batch", "cancel", "999"], "batch"),
    (["batch", "list", "--project", "nope"], "project"),
    (["batch", "release", "--project", "nope"], "project"),
    (["budgets", "show", "nope"], "project"),
    (["budgets", "set", "nope", "--gpu-hours", "1"], "project"),
]
# Commands that check every name of a request at once and say all that is wrong with it.
REFUSED = [
    (["scene-types", "add", "run", "--parent", "nope"], "parent: no scene type 'nope'"),
    (
        ["batch", "create", "--project=nope", "--characters=ada", "--scene-types=walk"],
        "project 'nope' does not exist",
    ),
    (
        ["batch", "create", "--project=moonbase", "--characters=nope", "--scene-types=walk"],
        "character 'nope' does not exist",
    ),
    (
        ["batch", "create", "--project=moonbase", "--characters=ada", "--scene-types=nope"],
        "scene type 'nope' does not exist",
    ),
]
KNOWN_AS = {
    "project": "moonbase",
    "character": "ada",
    "scene type": "walk",
    "worker": "gpu-1",
    "user": "rae",
    "workflow": None,  # none registered: "(no workflow yet)"
    "batch": None,
}


@pytest.fixture(scope="module")
def named_env(server_url, template_url, cli_env) -> Iterator[dict[str, str]]:
    """A catalog of its own (the fuzzing adds names to the other) holding one name of each
    kind: project moonbase, character ada, scene type walk, worker gpu-1, user rae."""
    url = new_database(server_url)
    with connect(url) as conn:
        make_project(conn, "moonbase")
        make_character(conn, "ada", "moonbase", ready=False)
        make_scene_type(conn, "walk")
        conn.execute(
            "INSERT INTO workers (name, url, pool) VALUES ('gpu-1', 'http://127.0.0.1:9', 'a')"
        )
        conn.execute(
            "INSERT INTO users (username, display_name, role) VALUES ('rae', 'Rae', 'reviewer')"
        )
    yield cli_env | {"DATABASE_URL": url}
    drop_database(server_url, url)


@pytest.mark.parametrize(("args", "entity"), NOT_FOUND, ids=[" ".join(a) for a, _ in NOT_FOUND])
def test_an_unknown_name_is_not_found_with_the_known_ones(named_env, tmp_path, args, entity):
    runner = CliRunner()
    with own_folder(tmp_path):
        result = runner.invoke(main, args, env=os.environ | named_env, input="")
    assert result.exit_code == 1, result.output
    key = "999" if entity == "batch" else "'nope'"
    known = KNOWN_AS[entity]
    expected = f"(known: {known}" if known else f"(no {entity} yet)"
    assert f"{entity} {key} not found {expected}" in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_request_naming_unknown_things_is_refused_whole(named_env, args, message):
    result = CliRunner().invoke(main, [*args], env=os.environ | named_env, input="")
    assert result.exit_code == 1 and message in result.output, result.output


# -- numbers out of bounds -----------------------------------------------------------------

BOUNDED = [
    (["search", "--limit=-1", "x"], "'--limit'"),
    (["search", "--limit=0", "x"], "'--limit'"),
    (["search", f"--limit={'9' * 5000}", "x"], "'--limit'"),
    (["audit", "--limit=-5"], "'--limit'"),
    (["audit", "--limit=99999999999999999999999"], "'--limit'"),
    (["batch", "status", "--", "-1"], "'[BATCH_ID]'"),
    (["batch", "cancel", "99999999999999999999"], "'BATCH_ID'"),
    (["characters", "resolve-duplicate", "--", "-1", "merge"], "'CANDIDATE_ID'"),
    (["characters", "set-primary", "ada", "face.png", "--version=0"], "'--version'"),
    (["users", "sessions", "rae", "--revoke=-3"], "'--revoke'"),
]


@pytest.mark.parametrize(("args", "option"), BOUNDED, ids=[" ".join(a)[:60] for a, _ in BOUNDED])
def test_a_number_out_of_bounds_is_a_usage_error_naming_the_option(named_env, args, option):
    result = CliRunner().invoke(main, args, env=os.environ | named_env)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}" in result.output
