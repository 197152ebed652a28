"""Studio figures (issue 17): with a synthetic library of 10,000 characters, each
registered page's first render (built for a signed-in session and its view turned into
Bokeh models, as a served page's first document is; goal p95 < 1.5 s) and the command
palette's answer over ~50 queries (goal p95 < 150 ms), against the catalog's plain
full-text search of the same queries as a baseline.

    .venv/bin/python benchmarks/studio.py [--characters 10000] [--repeat 5] [--quick]

`--quick` (run by the test suite): 1,000 characters, 2 renders per page, 20 queries.
"""

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import panel as pn
from bokeh.document import Document

from apps.palette_state import PaletteState
from apps.studio_pages import PAGES
from apps.studio_state import StudioSession
from trulience.auth import users as accounts
from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server
from trulience.catalog.search import search
from trulience.catalog.synthetic import fill_synthetic_characters
from trulience.config import Settings

PASSWORD = "bench-pass-1"
PAGE_GOAL_S, PALETTE_GOAL_S = 1.5, 0.150
QUERIES = [
    "ada",
    "a",
    "es",
    "esme weatherwax",
    "Cleo Patra 58",
    "c-00042",
    "c-001",
    "hugo",
    "greta garbo",
    "bram stoker 1",
    "dmitri",
    "farid haddad 77",
    "villain",
    "hero",
    "narr",
    "walk",
    "walk cycle",
    "library",
    "ada walk",
    "esme walk 1",
    "open queue",
    "dark",
    "log out",
    "help",
    "reorder",
    "zzzz",
    "%",
    "_",
    "'; drop table",
    "é",
    "x" * 300,
    "lovelace",
    "stoker 8",
    "patra",
    "volkov 3",
    "weather",
    "had",
    "garbo 6",
    "cleo 2",
    "ada lovelace 56",
    "c-0",
    "synthetic",
    "character 9",
    "greta walk",
    "hugo lovelace 7",
    "compare",
    "dashboards",
    "theme",
    "review",
    "bram patra",
]


def percentile(values: list[float], share: float) -> float:
    """The `share` (0..1) percentile of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def signed_in(settings: Settings) -> StudioSession:
    """A new Studio session (a new browser's), logged in; built pages are its own."""
    studio = StudioSession(settings)
    studio.wanted = ("__none__", {})  # stay on no page: each is timed on its own
    studio.login.username.value_input, studio.login.password.value_input = "bench", PASSWORD
    studio.login.log_in()
    return studio


def first_render(settings: Settings, name: str) -> float:
    """Seconds to build page `name` for a signed-in session and render its view's models."""
    studio = signed_in(settings)
    started = time.perf_counter()
    app = studio.open(name)
    assert app is not None, f"page {name} did not open: {studio.message}"
    pn.panel(app.view()).get_root(Document())
    return time.perf_counter() - started


def figures(characters: int, repeat: int, queries: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        server = embedded_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            url = server.get_uri()
            with connect(url, actor="bench") as conn:
                migrations.migrate(conn)
                accounts.create_user(conn, "bench", "Bench", "admin", PASSWORD)
                fill_synthetic_characters(conn, characters)
            settings = Settings.from_env(
                {
                    "DATABASE_URL": url,
                    "TRULIENCE_HOME": str(Path(tmp) / "home"),
                    "STORAGE_URL": (Path(tmp) / "storage").as_uri(),
                }
            )
            print(f"a library of {characters:,} characters (a take of every 10th)")
            for name in PAGES:
                first_render(settings, name)  # imports and caches: not a user's first page
                times = [first_render(settings, name) for _ in range(repeat)]
                p50, p95 = statistics.median(times), percentile(times, 0.95)
                met = "met" if p95 < PAGE_GOAL_S else "NOT met"
                print(
                    f"page {name}: first render p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
                    f"(p95 / goal {PAGE_GOAL_S} s = {p95 / PAGE_GOAL_S:.2f}, {met})"
                )
            palette = PaletteState(signed_in(settings))
            answers, baseline = [], []
            for query in queries:
                started = time.perf_counter()
                palette.type(query)
                answers.append(time.perf_counter() - started)
            with connect(url) as conn:
                for query in queries:
                    started = time.perf_counter()
                    search(conn, query)
                    baseline.append(time.perf_counter() - started)
        finally:
            server.cleanup()
    p50, p95 = statistics.median(answers), percentile(answers, 0.95)
    base95 = percentile(baseline, 0.95)
    met = "met" if p95 < PALETTE_GOAL_S else "NOT met"
    print(
        f"palette answer over {len(queries)} queries: p50 {p50 * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms (p95 / goal {PALETTE_GOAL_S * 1000:.0f} ms = "
        f"{p95 / PALETTE_GOAL_S:.2f}, {met})"
    )
    print(
        f"  baseline, the catalog's full-text search of the same queries: p95 "
        f"{base95 * 1000:.1f} ms (ratio palette / search p95 = {p95 / base95:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--characters", type=int, help="characters in the library (10,000)")
    parser.add_argument("--repeat", type=int, help="first renders timed per page (5)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1,000 characters, 2 renders, 20 queries"
    )
    args = parser.parse_args()
    logging.getLogger("bokeh").setLevel(logging.ERROR)
    if args.quick:
        figures(args.characters or 1_000, args.repeat or 2, QUERIES[:20])
    else:
        figures(args.characters or 10_000, args.repeat or 5, QUERIES)


if __name__ == "__main__":
    main()
