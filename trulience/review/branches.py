"""Branches of a take (PRD-50): an alternative take of the same cell (project × character ×
scene type) made with another seed, other params or another workflow, compared with the
others and promoted to the cell's current take.

A branch is a new take row, pending, whose effective configuration is the scene type's
current one with the overrides applied: the pipeline resumes it as it resumes any
unfinished take (trulience/generation/takes.py open_take), so it is generated as usual."""

import dataclasses
import json
import re
from typing import Any

import psycopg

from trulience.auth.acting import Acting, actor_name
from trulience.auth.permissions import Permission
from trulience.catalog import branches as repo
from trulience.catalog import scenes
from trulience.catalog.branches import BranchRow
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.catalog.records import Take
from trulience.catalog.workflows import get_workflow
from trulience.generation.resolution import as_started
from trulience.generation.scene_config import SceneConfig, resolve
from trulience.generation.takes import FINISHED

BRANCH_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PROMOTABLE = ("generated", "assembled")


def create_branch(
    conn: psycopg.Connection,
    actor: Acting,
    scene_id: int,
    name: str,
    *,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    workflow: str | None = None,
    workflow_version: int | None = None,
) -> Take:
    """A new pending take of `scene_id`'s cell on branch `name`, made from the scene type's
    current configuration with the given seed, params (merged over the type's) or workflow
    (its `workflow_version`, or its newest)."""
    who = actor_name(conn, actor, Permission.REQUEST_REGENERATION)
    _check_name(name)
    if seed is None and not params and workflow is None:
        raise InvalidValue("branch", name, None, "give a seed, params or a workflow to differ in")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidValue("branch", "seed", seed, "must be a whole number >= 0")
    cell = repo.cell_of(conn, scene_id)
    if workflow is None and workflow_version is not None:
        raise InvalidValue("branch", "workflow_version", workflow_version, "name its workflow")
    config = as_started(  # a branch of a previewing scene type is a preview first (PRD-59)
        _overridden(conn, resolve(conn, cell.scene_type), seed, params, workflow, workflow_version)
    )
    overrides = {
        k: v
        for k, v in {
            "seed": seed,
            "params": params or None,
            "workflow": workflow,
            "workflow_version": workflow_version,
        }.items()
        if v is not None
    }
    with acting_as(conn, who):
        repo.lock_cell(conn, scene_id)
        waiting = repo.unfinished_take(conn, scene_id, FINISHED)
        if waiting is not None:
            raise InvalidValue(
                "branch",
                "take",
                waiting,
                f"take {waiting} of {cell.character}/{cell.scene_type} is not finished; "
                "generate or cancel it before opening another branch",
            )
        take = scenes.create_take(
            conn,
            cell.project,
            cell.character,
            cell.scene_type,
            effective_config=config.to_json(),
            planned_segments=len(config.frame_plan()),
            stage=config.stage,
        )
        repo.set_branch(conn, take.id, name, overrides | {"from_take": scene_id})
    return take


def promote(conn: psycopg.Connection, actor: Acting, scene_id: int) -> BranchRow:
    """Make a generated or assembled take its cell's current take."""
    who = actor_name(conn, actor, Permission.REQUEST_REGENERATION)
    take = scenes.get_take(conn, scene_id)
    if take.status not in PROMOTABLE:
        raise InvalidValue(
            "take", "status", take.status, f"only a {' or '.join(PROMOTABLE)} take can be promoted"
        )
    with acting_as(conn, who):
        repo.promote(conn, scene_id, who)
    return next(b for b in repo.branches_of(conn, scene_id) if b.scene_id == scene_id)


def branches(conn: psycopg.Connection, scene_id: int) -> list[BranchRow]:
    """Every take of `scene_id`'s cell with its branch, QA summary, decision and whether it
    is the cell's current take, oldest first."""
    found = repo.branches_of(conn, scene_id)
    if not found:
        raise NotFound("take", scene_id)
    return found


def params_from_json(text: str) -> dict[str, Any] | None:
    """A branch's params as typed (a JSON object, e.g. `{"motion": 0.9}`; blank: none)."""
    if not text.strip():
        return None
    try:
        params = json.loads(text)
    except ValueError as exc:
        raise InvalidValue("branch", "params", text, f"is not valid JSON ({exc})") from None
    if not isinstance(params, dict):
        raise InvalidValue(
            "branch", "params", text, 'must be a JSON object of names and values, e.g. {"cfg": 6}'
        )
    return params


def _check_name(name: str) -> None:
    if name == "main":
        raise InvalidValue("branch", "name", name, "'main' is the pipeline's own line of takes")
    if not BRANCH_NAME.match(name):
        raise InvalidValue(
            "branch",
            "name",
            name,
            "must be lower-case letters, digits, '.', '-' or '_' (at most 63), "
            "starting with a letter or digit",
        )


def _overridden(
    conn: psycopg.Connection,
    config: SceneConfig,
    seed: int | None,
    params: dict[str, Any] | None,
    workflow: str | None,
    workflow_version: int | None = None,
) -> SceneConfig:
    """`config` with a branch's overrides applied."""
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = seed
    if params:
        changes["params"] = {**config.params, **params}
    if workflow is not None:
        try:
            found = get_workflow(conn, workflow, workflow_version)
        except NotFound as exc:
            named = workflow if workflow_version is None else f"{workflow} v{workflow_version}"
            raise InvalidValue(
                "branch", "workflow", named, "no such workflow; add it first"
            ) from exc
        changes |= {
            "workflow": found.name,
            "workflow_version": found.version,
            "workflow_sha256": found.sha256,
        }
    return dataclasses.replace(config, **changes)
