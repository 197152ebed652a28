"""The demo: a sample project whose characters arrive through the inbox, like a studio's."""

from pathlib import Path

import psycopg

from trulience.catalog import projects
from trulience.samples import sample_characters

DEMO_PROJECT = "demo"
# The second sample face is a 320 px crop: the demo project accepts smaller source images
# than the studio default (512 px), which is what per-project thresholds are for.
DEMO_SETTINGS = {"image_qa": {"min_short_side": 320}}


def prepare_demo(conn: psycopg.Connection, inbox: Path) -> list[str]:
    """Create the demo project (once) and drop the sample characters into the inbox."""
    project = projects.ensure_project(
        conn, DEMO_PROJECT, "Demo: Moonbase", "Sample production made by `make demo`"
    )
    if project.settings != DEMO_SETTINGS:
        projects.update_settings(conn, DEMO_PROJECT, DEMO_SETTINGS)
    report = []
    for sample in sample_characters():
        folder = inbox / DEMO_PROJECT / sample.slug
        written = sample.write_folder(folder)
        report.append(
            f"inbox/{DEMO_PROJECT}/{sample.slug:<8} {'dropped' if written else 'already there'}"
        )
    return report
