"""Triggered chains (PRD-97): a project's declared rules "when a take of scene type X is
approved, run Y for the same character", and the approvals that are due to set them off.

Dagster carries them out (sensors/chains.py reads `due_chains` on a cursor of review ids);
there is no scheduler of our own. A rule is refused when a name is unknown, when it chains a
scene type to itself or to one that cannot be generated, when it exists already, or when it
would close a cycle (X -> Y -> X: each approval would start the other forever); nothing is
stored then."""

from collections import deque
from dataclasses import dataclass

import psycopg

from trulience.catalog import chains as catalog
from trulience.catalog.chains import ChainRule, TriggeredChain
from trulience.catalog.errors import InvalidValue
from trulience.catalog.fetch import id_of
from trulience.generation.scene_config import InvalidSceneType, resolve


@dataclass(frozen=True, slots=True)
class DueChains:
    """The chained runs due after a cursor, and the cursor to read from next time."""

    chains: list[TriggeredChain]
    cursor: int


def _path(edges: list[tuple[str, str]], start: str, goal: str) -> list[str] | None:
    """The scene types from `start` to `goal` along the rules' edges (None: no path)."""
    came_from: dict[str, str | None] = {start: None}
    waiting = deque([start])
    while waiting:
        here = waiting.popleft()
        if here == goal:
            path = [here]
            while (before := came_from[path[-1]]) is not None:
                path.append(before)
            return path[::-1]
        for source, target in edges:
            if source == here and target not in came_from:
                came_from[target] = here
                waiting.append(target)
    return None


def add_rule(
    conn: psycopg.Connection,
    project: str,
    when: str,
    then: str,
    created_by: str,
    event: str = "approved",
) -> ChainRule:
    """Check and store the rule "when a take of `when` is `event` in `project`, run `then`
    for the same character"; a cycle through the project's rules (enabled or not: enabling
    one must not close it either) is refused naming it."""
    id_of(conn, "projects", project, "project")
    for scene_type in (when, then):
        id_of(conn, "scene_types", scene_type, "scene type")
    try:
        resolve(conn, then)
    except InvalidSceneType as exc:
        raise InvalidValue(
            "chain rule", "then-run scene type", then, f"cannot be generated: {exc}"
        ) from exc
    if when != then:  # the catalog refuses a rule to itself, naming it
        edges = [
            (r.trigger_scene_type, r.then_scene_type)
            for r in catalog.list_chain_rules(conn, project)
        ]
        back = _path(edges, then, when)
        if back is not None:
            cycle = " -> ".join([when, *back])
            raise InvalidValue(
                "chain rule", "then-run scene type", then, f"would close the cycle {cycle}"
            )
    return catalog.insert_chain_rule(conn, project, when, then, created_by, event)


def list_rules(conn: psycopg.Connection, project: str | None = None) -> list[ChainRule]:
    """Every chain rule (of one project)."""
    if project is not None:
        id_of(conn, "projects", project, "project")
    return catalog.list_chain_rules(conn, project)


def remove_rule(conn: psycopg.Connection, rule_id: int) -> None:
    """Remove a rule (NotFound names an unknown id)."""
    catalog.delete_chain_rule(conn, rule_id)


def enable_rule(conn: psycopg.Connection, rule_id: int, enabled: bool = True) -> ChainRule:
    """Enable (or disable) a rule."""
    return catalog.set_chain_rule_enabled(conn, rule_id, enabled)


def due_chains(conn: psycopg.Connection, since_cursor: int) -> DueChains:
    """The approvals after the cursor (a review id) that an enabled rule matches, each as
    (character, then scene type, project, because-of take); only approvals whose undo window
    has closed count, and the cursor stops before the first still undoable one, so an
    approval is chained once and an undone one never."""
    upto = catalog.settled_approvals_cursor(conn, since_cursor)
    return DueChains(catalog.triggered_chains(conn, since_cursor, upto), upto)
