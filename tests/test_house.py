"""The house rules that no linter checks for us (issue 13): one owner for SQL, functions a
screen long where the next features will be built, and modules that say why when they grow.

Each rule reads the source tree with `ast`, so a failure names the file, the line and the
rule; the layer contracts themselves are import-linter's (`make lint`, and the last test)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CODE = ("trulience", "resources", "sensors", "trulience_assets", "apps", "benchmarks")
# the only Python that runs SQL: the catalog's repository functions and the lake exporters
SQL_OWNERS = ("trulience/catalog/", "trulience/lake/")
# a database call: psycopg's (and DuckDB's) ways of sending a statement
SQL_CALLS = {"execute", "executemany", "cursor", "copy_expert"}
# where a function longer than a screen would hold the next features back
SHORT_FUNCTIONS = ("trulience/generation/", "trulience/cli/", "apps/")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400
LONG_REASON = "Why this module is long:"


def _modules(roots=CODE):
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            yield path.relative_to(REPO).as_posix(), path


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def sql_calls(source: str, name: str = "<source>") -> list[int]:
    """Lines that call a database's execute/executemany/cursor (not a numpy .copy())."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source, filename=name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_CALLS
    ]


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of each function longer than `limit` lines."""
    return [
        (node.name, node.lineno, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > limit
    ]


def says_why_long(source: str) -> bool:
    docstring = ast.get_docstring(ast.parse(source)) or ""
    return LONG_REASON in docstring


def test_the_rules_see_what_they_look_for():
    # each rule, shown a case it must catch and one it must let through
    assert sql_calls("conn.execute('SELECT 1')\nframe = last.copy()\n") == [1]
    assert sql_calls("with conn.cursor() as cur:\n    pass\n") == [1]
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    assert long_functions(f"def f():\n{body}\n") == [("f", 1, 62)]
    assert long_functions("def g():\n    return 1\n") == []
    assert says_why_long(f'"""A module.\n\n{LONG_REASON} it is one parser."""\n')
    assert not says_why_long('"""A module."""\n')


def test_only_the_catalog_and_the_lake_run_sql():
    found = [
        f"{name}:{line}"
        for name, path in _modules()
        if not name.startswith(SQL_OWNERS)
        for line in sql_calls(path.read_text(), name)
    ]
    assert not found, (
        "SQL runs outside trulience/catalog/ and trulience/lake/ (move it into a catalog "
        "function; services keep the policy): " + ", ".join(found)
    )


@pytest.mark.parametrize("area", SHORT_FUNCTIONS)
def test_functions_stay_a_screen_long(area):
    found = [
        f"{name}:{line} {function} ({length} lines)"
        for name, path in _modules((area.rstrip("/"),))
        for function, line, length in long_functions(path.read_text())
    ]
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines in {area}: " + ", ".join(found)


def test_long_modules_say_why():
    found = [
        f"{name} ({lines} lines)"
        for name, path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and not says_why_long(path.read_text())
    ]
    assert not found, (
        f"modules over {MAX_MODULE_LINES} lines without '{LONG_REASON}' in their docstring "
        "(split them, or say why one module is right): " + ", ".join(found)
    )


def test_the_layer_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
