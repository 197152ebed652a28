"""The demo: a sample project whose characters arrive through the inbox, like a studio's."""

from pathlib import Path

import psycopg

from trulience.catalog import projects
from trulience.generation.scene_config import Definition, define
from trulience.samples import sample_characters

DEMO_PROJECT = "demo"
# A local demo login for the review app (printed by `make demo`; change or disable it with
# `trulience users passwd|disable demo-reviewer` on anything but a laptop).
DEMO_REVIEWER = ("demo-reviewer", "review-the-demo")
# The second sample face is a 320 px crop: the demo project accepts smaller source images
# than the studio default (512 px), which is what per-project thresholds are for.
DEMO_SETTINGS = {"image_qa": {"min_short_side": 320}}


# Two scene types, the second inheriting from the first: short, so the demo stays quick.
DEMO_SCENE_TYPES = [
    Definition(
        "look-around",
        "Look around",
        settings={
            "prompt_template": "{name}, the {role}, looks around the station",
            "negative_prompt": "blurry, distorted face",
            "target_duration_s": 6,
            "segment_duration_s": 2,
            "fps": 24,
            "width": 512,
            "height": 512,
            "seed_policy": "increment",
            "seed": 1000,
            "presets": {"calm": {"motion": 0.4}, "lively": {"motion": 0.9}},
            "preset": "calm",
        },
    ),
    Definition(
        "look-around-wide",
        "Look around (16:9)",
        parent="look-around",
        settings={"width": 768, "height": 432, "preset": "lively"},
    ),
]


def prepare_demo(conn: psycopg.Connection, inbox: Path) -> list[str]:
    """Create the demo project (once) and drop the sample characters into the inbox."""
    project = projects.ensure_project(
        conn, DEMO_PROJECT, "Demo: Moonbase", "Sample production made by `make demo`"
    )
    if project.settings != DEMO_SETTINGS:
        projects.update_settings(conn, DEMO_PROJECT, DEMO_SETTINGS)
    report = [f"scene type {d.slug:<17} {define(conn, d)}" for d in DEMO_SCENE_TYPES]
    report.append(_ensure_reviewer(conn))
    for sample in sample_characters():
        folder = inbox / DEMO_PROJECT / sample.slug
        written = sample.write_folder(folder)
        report.append(
            f"inbox/{DEMO_PROJECT}/{sample.slug:<8} {'dropped' if written else 'already there'}"
        )
    return report


def takes_to_make(conn: psycopg.Connection) -> list[str]:
    """Partition keys (character|scene_type) of the demo whose character has a primary
    image that passed QA and that have no generated take yet."""
    rows = conn.execute(
        """SELECT c.slug, t.slug FROM characters c
             JOIN project_characters pc ON pc.character_id = c.id
             JOIN projects p ON p.id = pc.project_id AND p.slug = %s
             JOIN character_readiness r ON r.character_id = c.id AND r.has_primary
                                       AND c.slug = ANY(%s)
             CROSS JOIN scene_types t
            WHERE t.slug = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM scenes s
                               WHERE s.character_id = c.id AND s.scene_type_id = t.id
                                 AND s.status IN ('generated', 'assembled'))
            ORDER BY 1, 2""",
        (DEMO_PROJECT, [s.slug for s in sample_characters()], [d.slug for d in DEMO_SCENE_TYPES]),
    ).fetchall()
    return [f"{character}|{scene_type}" for character, scene_type in rows]


def _ensure_reviewer(conn: psycopg.Connection) -> str:
    from trulience.auth.users import create_user
    from trulience.catalog.errors import NotFound
    from trulience.catalog.users import get_user

    username, password = DEMO_REVIEWER
    try:
        get_user(conn, username)
        return f"user {username:<21} exists"
    except NotFound:
        create_user(conn, username, "Demo reviewer", "reviewer", password)
        return f"user {username:<21} created"
