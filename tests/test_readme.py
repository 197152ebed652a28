"""The README renders: every table row is a row of its table (CommonMark + GFM tables, parsed
by markdown-it-py, the reference parser), with the header's number of cells, and what it
says about ports and logins matches the Makefile and the demo."""

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from trulience.demo import DEMO_REVIEWER

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def cells(line: str) -> list[str]:
    """A table row's cells, split on the pipes that are not escaped (as GFM splits them)."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return re.split(r"(?<!\\)\|", inner)


def tables(text: str) -> list[tuple[int, int]]:
    """Each table's source line span [start, end), as markdown-it-py parses the text."""
    parser = MarkdownIt("commonmark").enable("table")
    return [tuple(t.map) for t in parser.parse(text) if t.type == "table_open"]


def fenced_lines(text: str) -> set[int]:
    parser = MarkdownIt("commonmark")
    return {i for t in parser.parse(text) if t.type == "fence" for i in range(*t.map)}


def check_tables(text: str) -> list[str]:
    """Every way a table in `text` is broken, one line each (empty: all render)."""
    lines = text.splitlines()
    spans = tables(text)
    in_table = {i for start, end in spans for i in range(start, end)}
    fenced = fenced_lines(text)
    problems = [
        f"line {i + 1} looks like a table row but is not in a table: {line[:60]!r}"
        for i, line in enumerate(lines)
        if line.lstrip().startswith("|") and i not in in_table and i not in fenced
    ]
    for start, end in spans:
        width = len(cells(lines[start]))
        for i in range(start, end):
            line = lines[i]
            if not line.lstrip().startswith("|"):
                problems.append(f"line {i + 1} continues the table without a pipe: {line[:60]!r}")
            elif len(cells(line)) != width:
                problems.append(
                    f"line {i + 1} has {len(cells(line))} cells, the header {width} "
                    "(escape a | inside a cell as \\|)"
                )
            if re.sub(r"\\`", "", line).count("`") % 2:
                problems.append(f"line {i + 1}: a code span opens here and closes on another line")
    return problems


def test_every_readme_table_renders_row_by_row() -> None:
    assert check_tables(README.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (  # the CSV row of "What works today" as it was: a code span over several lines
            "| a | b |\n|---|---|\n| x | `one\ntwo\nthree` |\n| y | z |\n",
            "code span opens here",
        ),
        ("| a | b |\n|---|---|\n| x | `p|q` |\n", "has 3 cells, the header 2"),
        ("| a | b |\n|---|---|\n| x | y |\n\n| z | w |\n", "is not in a table"),
    ],
    ids=["multi-line code span", "unescaped pipe", "orphan row"],
)
def test_the_check_finds_a_broken_table(broken: str, why: str) -> None:
    assert any(why in problem for problem in check_tables(broken)), check_tables(broken)


def test_each_app_has_its_own_port_and_the_readme_says_which() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    ports = {}
    for target, app in (("review", "review"), ("dashboards", "dashboards"), ("compare", "compare")):
        recipe = re.search(rf"^{target}:.*\n\t(.*)$", makefile, re.MULTILINE)
        assert recipe, f"Makefile has no {target} target"
        port = re.search(r"--port (\d+)", recipe[1])
        ports[app] = port[1] if port else "5006"  # Panel's default
        assert f"make {target}" in readme
        assert f"http://127.0.0.1:{ports[app]}/{app}" in readme, f"README: where {app} runs"
    assert len(set(ports.values())) == len(ports), ports


def test_the_review_section_gives_the_demo_login() -> None:
    readme = README.read_text(encoding="utf-8")
    review = readme.split("## Review app", 1)[1].split("\n## ", 1)[0]
    username, password = DEMO_REVIEWER
    assert f"`{username}`" in review and f"`{password}`" in review


def test_every_readme_picture_is_taken_from_the_demo_by_make_screenshots() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+)\)", README.read_text("utf-8"))
    script = (REPO / "docs" / "screenshots.py").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert pictures
    assert re.search(r"^screenshots:.*\n\t.*docs/screenshots\.py", makefile, re.MULTILINE)
    for picture in pictures:
        assert (REPO / picture).is_file(), picture
        assert f'"{Path(picture).name}"' in script, f"docs/screenshots.py does not take {picture}"
