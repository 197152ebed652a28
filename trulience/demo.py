"""The demo: a sample project whose characters arrive through the inbox, like a studio's.

With COMFYUI_WORKERS set the demo's takes are made by the worker pool: it registers a workflow
of ComfyUI core nodes only (it needs no model file, so any ComfyUI server runs it) and the
demo's scene types name it; otherwise the local preview backend makes them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from trulience.catalog import projects
from trulience.catalog.scenes import cells_without_a_made_take, take_overview
from trulience.config import mask_secrets
from trulience.errors import TrulienceError
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.samples import sample_characters
from trulience.workers.configured import DEFAULT_POOL, register_configured_workers

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

# The demo's workflow on a ComfyUI pool, core nodes only: the seed frame scaled to the scene
# size and held for the segment (RepeatImageBatch), encoded by CreateVideo -> SaveVideo, and
# its last frame saved losslessly (ImageFromBatch -> SaveImage) to seed the next segment.
STILLS_WORKFLOW = "demo-stills"
STILLS_GRAPH = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {
        "class_type": "ImageScale",
        "inputs": {
            "image": ["1", 0],
            "upscale_method": "lanczos",
            "width": 512,
            "height": 512,
            "crop": "center",
        },
    },
    "3": {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 48}},
    "4": {"class_type": "CreateVideo", "inputs": {"images": ["3", 0], "fps": 24.0}},
    "5": {
        "class_type": "SaveVideo",
        "inputs": {
            "video": ["4", 0],
            "filename_prefix": "video/demo",
            "format": "mp4",
            "codec": "h264",
        },
    },
    "6": {
        "class_type": "ImageFromBatch",
        "inputs": {"image": ["3", 0], "batch_index": 4095, "length": 1},
    },
    "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "last"}},
}
STILLS_SLOTS = {
    "seed_image": ["1", "image"],
    "width": ["2", "width"],
    "height": ["2", "height"],
    "frames": ["3", "amount"],
    "fps": ["4", "fps"],
    "video": "5",
    "last_frame": "7",
}
# A held still is frozen by design: the frozen gate would refuse every segment of it.
STILLS_QA = {"video_qa": {"check_frozen": False}}


class PoolUnreachable(TrulienceError):
    """COMFYUI_WORKERS is set but no worker answered: the demo cannot register its workflow."""


def demo_scene_types(workflow: str | None = None) -> list[Definition]:
    """The demo's scene types; with `workflow` the root names it (the child inherits it)."""
    if workflow is None:
        return DEMO_SCENE_TYPES
    root, *children = DEMO_SCENE_TYPES
    settings = {**root.settings, "workflow": workflow, "qa_rules": STILLS_QA}
    return [Definition(root.slug, root.name, root.parent, settings), *children]


def register_stills_workflow(conn: psycopg.Connection, worker_urls: Sequence[str]) -> str:
    """Register the demo's workers (in the default pool) and its core-node workflow,
    validated on the first worker that answers; says which."""
    register_configured_workers(conn, worker_urls, DEFAULT_POOL)
    refusals = []
    for url in worker_urls:
        try:
            registered = register_workflow(
                conn,
                STILLS_WORKFLOW,
                STILLS_GRAPH,
                STILLS_SLOTS,
                "The demo's stills: core ComfyUI nodes only, no model files",
                worker_url=url,
            )
        except (TrulienceError, requests.RequestException) as exc:
            refusals.append(f"{mask_secrets(url)}: {exc}")
            continue
        return (
            f"workflow {STILLS_WORKFLOW:<19} version {registered.workflow.version}, "
            f"validated on {mask_secrets(url)}"
        )
    raise PoolUnreachable(
        "COMFYUI_WORKERS is set but no worker could register the demo's workflow ("
        + "; ".join(refusals)
        + "); start a worker, or unset COMFYUI_WORKERS to use the local preview backend"
    )


def prepare_demo(
    conn: psycopg.Connection, inbox: Path, comfyui_workers: Sequence[str] = ()
) -> list[str]:
    """Create the demo project (once) and drop the sample characters into the inbox; with
    ComfyUI workers, register the demo's workflow on them and name it in the scene types."""
    project = projects.ensure_project(
        conn, DEMO_PROJECT, "Demo: Moonbase", "Sample production made by `make demo`"
    )
    if project.settings != DEMO_SETTINGS:
        projects.update_settings(conn, DEMO_PROJECT, DEMO_SETTINGS)
    report = []
    workflow = None
    if comfyui_workers:
        report.append(register_stills_workflow(conn, comfyui_workers))
        workflow = STILLS_WORKFLOW
    report += [f"scene type {d.slug:<17} {define(conn, d)}" for d in demo_scene_types(workflow)]
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
    rows = cells_without_a_made_take(
        conn,
        DEMO_PROJECT,
        [s.slug for s in sample_characters()],
        [d.slug for d in DEMO_SCENE_TYPES],
    )
    return [f"{character}|{scene_type}" for character, scene_type in rows]


@dataclass(frozen=True)
class DemoTake:
    """A take of the demo as its summary shows it, with what made its segments."""

    character: str
    scene_type: str
    take: int
    status: str
    frames: int | None
    segments: int
    made_by: str  # e.g. "comfyui on gpu-a", "preview", or "-" before any segment


def demo_takes(conn: psycopg.Connection) -> list[DemoTake]:
    """Every take in the catalog, with the backend (and workers) that made its segments."""
    rows = take_overview(conn)
    return [DemoTake(*row[:6], row[6] + (f" on {row[7]}" if row[7] else "")) for row in rows]


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
