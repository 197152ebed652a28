"""Triggered chains (PRD-97): a project's declared rules "when a take of scene type X is
approved, run Y for the same character", and the approvals that are due to set them off.

Dagster carries them out (sensors/chains.py reads `due_chains` on a cursor of review and
deliverable ids);
there is no scheduler of our own. A rule is refused when a name is unknown, when it chains a
scene type to itself or to one that cannot be generated, when it exists already, or when it
would close a cycle (X -> Y -> X: each approval would start the other forever); nothing is
stored then."""

import json
from collections import deque
from dataclasses import dataclass

import psycopg

from trulience.catalog import chains as catalog
from trulience.catalog.chains import ChainRule, TriggeredChain
from trulience.catalog.errors import InvalidValue
from trulience.catalog.fetch import id_of
from trulience.generation.scene_config import InvalidSceneType, resolve

EVENTS = ("approved", "delivered")


@dataclass(frozen=True, slots=True)
class ChainCursor:
    """How far the chains have been read: the last review id (approvals) and the last
    deliverable id (deliveries). Its text is what the sensor keeps between ticks."""

    reviews: int = 0
    deliverables: int = 0

    @classmethod
    def parse(cls, text: str | None) -> "ChainCursor":
        """The cursor from its text: empty for none, JSON, or a bare review id (the cursor
        before deliveries set chains off)."""
        if not text:
            return cls()
        try:
            value = json.loads(text)
            if isinstance(value, int):
                return cls(reviews=value)
            return cls(int(value["reviews"]), int(value["deliverables"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidValue(
                "chains cursor", "text", text, f"is not a chains cursor ({exc})"
            ) from exc

    def text(self) -> str:
        """The cursor as the sensor stores it."""
        return json.dumps({"reviews": self.reviews, "deliverables": self.deliverables})


@dataclass(frozen=True, slots=True)
class DueChains:
    """The chained runs due after a cursor, and the cursor to read from next time."""

    chains: list[TriggeredChain]
    cursor: ChainCursor


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
    if event not in EVENTS:
        raise InvalidValue("chain rule", "event", event, f"must be one of {', '.join(EVENTS)}")
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


def due_chains(conn: psycopg.Connection, since: ChainCursor) -> DueChains:
    """The approvals and deliveries after the cursor that an enabled rule matches, each as
    (character, then scene type, project, because-of take), approvals first; only approvals
    whose undo window has closed count, and the cursor stops before the first still
    undoable one, so an approval is chained once and an undone one never."""
    reviews = catalog.settled_approvals_cursor(conn, since.reviews)
    deliverables = catalog.deliveries_cursor(conn, since.deliverables)
    chains = catalog.triggered_chains(conn, since.reviews, reviews)
    chains += catalog.delivered_chains(conn, since.deliverables, deliverables)
    return DueChains(chains, ChainCursor(reviews, deliverables))
