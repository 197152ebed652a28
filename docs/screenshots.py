"""The README's pictures, taken from the demo (`make screenshots`), not from test fixtures.

Runs `trulience demo` into a fresh home (its own embedded Postgres), serves the review,
compare and dashboards apps against that catalog with `panel serve`, logs in as the demo's
reviewer in Debian's chromium (Playwright) and shoots each page into docs/screenshots/ (the
review player also with a drawn note, and on a tablet with a touch screen); runs
the analyst notebooks on the demo's lake and shoots two of their charts (`chart-*.png`).

    .venv/bin/python docs/screenshots.py [--out docs/screenshots] [--home DIR]

`--home` reuses a home the demo already ran in (it is run again: the demo finds what it made).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.panel_apps: the browser tests' way to serve apps

from tests.panel_apps import chromium, log_in, served  # noqa: E402
from trulience.demo import DEMO_REVIEWER  # noqa: E402

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}  # the size tests/test_review_app.py checks


def run_demo(env: dict[str, str]) -> None:
    """`trulience demo` into the home `env` names; stops with its output if it fails."""
    print("running the demo (a few minutes) ...", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "trulience.cli", "demo"],
        cwd=REPO,
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"trulience demo failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def logged_in(browser, url: str, viewport: dict[str, int], touch: bool = False) -> Iterator:
    """A fresh browser session on `url`, logged in as the demo's reviewer."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=viewport, has_touch=touch)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        log_in(page, url, *DEMO_REVIEWER)
        expect(page.get_by_text("Logged in as").first).to_be_visible()
        yield page
    finally:
        context.close()


def shoot(page, out: Path, name: str) -> None:
    path = out / name
    page.screenshot(path=str(path), full_page=True)
    print(f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def review_pictures(browser, url: str, out: Path) -> None:
    """The queue, the player a few frames in, a drawn note on its frame, and the player on
    a tablet (a touch screen)."""
    from playwright.sync_api import expect

    with logged_in(browser, url, DESKTOP) as page:
        expect(page.get_by_text("Takes awaiting review")).to_be_visible()
        open_first = page.get_by_role("button", name="Open take").first
        expect(open_first).to_be_visible()
        shoot(page, out, "review-queue.png")
        open_first.click()
        expect(page.get_by_text("frame 0 /")).to_be_visible()
        expect(page.get_by_role("img", name="storyboard")).to_be_visible()
        for frame in range(1, 13):  # a dozen frames in, stepped in the browser's player
            page.keyboard.press(".")
            expect(page.get_by_text(f"frame {frame} /")).to_be_visible()
        shoot(page, out, "review-player.png")
        draw_a_note(page, 12)
        shoot(page, out, "review-drawing.png")
    with logged_in(browser, url, TABLET, touch=True) as page:
        page.get_by_role("button", name="Open take").first.click()
        expect(page.get_by_text("frame 0 /")).to_be_visible()
        expect(page.locator("video.vp-video:not(.vp-compare)")).to_be_visible()
        expect(page.get_by_role("img", name="storyboard")).to_be_visible()
        shoot(page, out, "review-tablet.png")


def draw_a_note(page, frame: int) -> None:
    """A rectangle and a pen stroke drawn with the player's tools on `frame` (on screen),
    saved with a note; then a step away and back, so the player shows the saved drawing."""
    from playwright.sync_api import expect

    ink, tools = page.locator(".vp-ink"), page.locator(".review-tool")

    for tool, path in (
        ("rect", [(0.38, 0.2), (0.62, 0.62)]),
        ("pen", [(0.7, 0.75), (0.66, 0.7), (0.62, 0.66), (0.6, 0.6)]),
    ):
        tools.get_by_role("button", name=tool, exact=True).click()
        expect(ink).to_have_attribute("data-tool", tool)
        # the tools sit below the picture, so their click scrolled it partly out of the
        # window, where the mouse draws nothing: the whole picture back in view first
        ink.evaluate("ink => ink.scrollIntoView({block: 'center'})")
        area = ink.bounding_box()

        def at(x: float, y: float, area: dict = area) -> tuple[float, float]:
            return area["x"] + area["width"] * x, area["y"] + area["height"] * y

        page.mouse.move(*at(*path[0]))
        page.mouse.down()
        for point in path[1:]:
            page.mouse.move(*at(*point), steps=6)
        page.mouse.up()
    expect(ink).to_have_attribute("data-shapes", "2")
    field = page.get_by_placeholder("What needs fixing here?")
    field.fill("the face drifts here: keep it inside the box")
    field.press("Enter")  # the field's value reaches the server before the click
    page.get_by_role("button", name=f"Note at frame {frame}").click()
    expect(page.get_by_text(f"drawn note added at frame {frame}")).to_be_visible()
    tools.get_by_role("button", name="none", exact=True).click()
    expect(ink).to_have_attribute("data-tool", "none")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text(f"frame {frame - 1} /")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text(f"frame {frame} /")).to_be_visible()
    expect(ink).to_have_attribute("data-frame", str(frame))
    expect(ink).to_have_attribute("data-shapes", "2")  # the saved note's drawing, shown again


def compare_picture(browser, url: str, out: Path) -> None:
    """One scene type across the demo's characters, the grid of videos stepped on together."""
    from playwright.sync_api import expect

    with logged_in(browser, url, DESKTOP) as page:
        page.get_by_role("button", name="Compare characters").click()
        expect(page.locator(".vg-cell").first).to_be_visible()
        grid = page.locator(".vg-box")
        for _ in range(12):
            page.locator(".vg-forward").click()
        expect(grid).to_have_attribute("data-state", "settled")
        shoot(page, out, "compare.png")


def dashboard_pictures(browser, url: str, out: Path) -> None:
    """The studio pulse and the render timeline over the demo's lake."""
    from playwright.sync_api import expect

    with logged_in(browser, url, DESKTOP) as page:
        expect(page.locator(".pulse-stages canvas").first).to_be_visible()
        shoot(page, out, "dashboard-pulse.png")
        page.locator(".bk-tab", has_text="Render timeline").click()
        expect(page.locator(".timeline-gantt canvas").first).to_be_visible()
        shoot(page, out, "dashboard-timeline.png")


# (notebook, chart variable, picture): charts the notebooks draw, saved from their kernel
CHARTS = (
    ("production_overview.py", "funnel_chart", "chart-funnel.png"),
    ("identity_consistency.py", "identity_chart", "chart-identity.png"),
)


def chart_pictures(browser, env: dict[str, str], scratch: Path, out: Path) -> None:
    """Each chart as its notebook draws it on the demo's lake: the notebook runs in a
    kernel with one more cell that saves the chart as a self-contained HTML page."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    saved = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        for notebook_name, chart, picture in CHARTS:
            page_file = scratch / f"{chart}.html"
            notebook = jupytext.read(REPO / "notebooks" / notebook_name)
            notebook.cells.append(
                nbformat.v4.new_code_cell(
                    "import holoviews as hv\nfrom bokeh.resources import INLINE\n"
                    f"hv.save({chart}, {str(page_file)!r}, resources=INLINE)"
                )
            )
            NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
            context = browser.new_context(viewport={"width": 720, "height": 380})
            try:
                page = context.new_page()
                page.goto(page_file.as_uri())
                page.locator("canvas").first.wait_for()
                page.wait_for_timeout(500)  # bokeh draws just after the canvas appears
                shoot(page, out, picture)
            finally:
                context.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--home", type=Path, help="a demo home to reuse (default: a new one)")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trulience-screenshots-") as scratch:
        home = (args.home or Path(scratch) / "home").resolve()
        # the demo's own embedded catalog and storage, whatever this shell has set
        env = {"TRULIENCE_HOME": str(home), "DATABASE_URL": "", "STORAGE_URL": "", "LAKE_URL": ""}
        run_demo(env)
        from playwright.sync_api import expect

        expect.set_options(timeout=60_000)  # a busy machine: wait for pages, never fail fast
        try:
            with chromium() as browser:
                for app, take in (
                    ("review", review_pictures),
                    ("compare", compare_picture),
                    ("dashboards", dashboard_pictures),
                ):
                    print(f"{app}:", flush=True)
                    with served(app, env, Path(scratch) / f"{app}.log") as url:
                        take(browser, url, out)
                print("notebook charts:", flush=True)
                chart_pictures(browser, env, Path(scratch), out)
        finally:
            subprocess.run(
                [sys.executable, "-m", "trulience.cli", "db", "stop"],
                cwd=REPO,
                env=os.environ | env,
                capture_output=True,
            )


if __name__ == "__main__":
    main()
