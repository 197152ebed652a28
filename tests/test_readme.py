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


def test_one_studio_serves_every_page_and_the_readme_says_where() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    studio = re.search(r"^STUDIO = (.*)$", makefile, re.MULTILINE)
    assert studio and "apps/studio.py" in studio[1] and "apps/share.py" in studio[1]
    port = re.search(r"--port (\d+)", studio[1])
    assert port, "the Studio's port is named"
    assert f"http://127.0.0.1:{port[1]}/studio" in readme
    for target in ("studio", "review", "dashboards", "compare"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe and "$(STUDIO)" in recipe[1], f"make {target} serves the Studio"
        assert f"make {target}" in readme
    for page in ("review", "dashboards", "compare"):
        assert f"http://127.0.0.1:{port[1]}/studio?page={page}" in readme, f"README: {page}"


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
