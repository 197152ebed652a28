"""Chain rules (PRD-97) as the catalog holds them, and the approvals and deliveries that
trigger them.

trulience/production/chains.py checks a rule (names, cycles) before `insert_chain_rule`;
an approval is the decision in force on a take's newest revision (view `take_decisions`,
0014), read here rather than restated; a delivery is a packaged deliverable of a take's
revision (written once, with its status)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import id_of, many, one

_RULES = """SELECT r.id, p.slug AS project, ts.slug AS trigger_scene_type, r.trigger_event,
           ns.slug AS then_scene_type, r.created_by, r.enabled, r.created_at
      FROM chain_rules r
      JOIN projects p ON p.id = r.project_id
      JOIN scene_types ts ON ts.id = r.trigger_scene_type_id
      JOIN scene_types ns ON ns.id = r.then_scene_type_id"""


@dataclass(frozen=True, slots=True)
class ChainRule:
    """When a take of `trigger_scene_type` is `trigger_event` in `project`, run
    `then_scene_type` for the same character."""

    id: int
    project: str
    trigger_scene_type: str
    trigger_event: str
    then_scene_type: str
    created_by: str
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TriggeredChain:
    """An approval in force (or a delivery) that an enabled rule matches: run
    `then_scene_type` for the take's character in its project, because of that take's
    revision. `event_id` is the review's id for an approval, the deliverable's for a
    delivery."""

    rule_id: int
    event: str
    event_id: int
    because_of: int  # the approved take (scene id)
    revision: int
    project: str
    character: str
    trigger_scene_type: str
    then_scene_type: str


def insert_chain_rule(
    conn: psycopg.Connection,
    project: str,
    trigger_scene_type: str,
    then_scene_type: str,
    created_by: str,
    trigger_event: str = "approved",
) -> ChainRule:
    """Store a rule of a project (the database refuses a self-loop and a duplicate)."""
    values = {"trigger_event": trigger_event, "created_by": created_by}
    with writing(conn, values):
        (rule_id,) = conn.execute(
            """INSERT INTO chain_rules (project_id, trigger_scene_type_id, trigger_event,
                                        then_scene_type_id, created_by)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (
                id_of(conn, "projects", project, "project"),
                id_of(conn, "scene_types", trigger_scene_type, "scene type"),
                trigger_event,
                id_of(conn, "scene_types", then_scene_type, "scene type"),
                created_by,
            ),
        ).fetchone()
    return get_chain_rule(conn, rule_id)


def get_chain_rule(conn: psycopg.Connection, rule_id: int) -> ChainRule:
    """One rule, or NotFound."""
    return one(conn, ChainRule, f"{_RULES} WHERE r.id = %s", (rule_id,), "chain rule", rule_id)


def list_chain_rules(conn: psycopg.Connection, project: str | None = None) -> list[ChainRule]:
    """Every rule (of one project), by project, trigger scene type and then-run one."""
    return many(
        conn,
        ChainRule,
        f"""{_RULES} WHERE %(project)s::text IS NULL OR p.slug = %(project)s
            ORDER BY p.slug, ts.slug, r.trigger_event, ns.slug""",
        {"project": project},
    )


def set_chain_rule_enabled(conn: psycopg.Connection, rule_id: int, enabled: bool) -> ChainRule:
    """Enable or disable a rule (a disabled one triggers nothing)."""
    with writing(conn):
        updated = conn.execute(
            "UPDATE chain_rules SET enabled = %s WHERE id = %s", (enabled, rule_id)
        ).rowcount
    if not updated:
        raise NotFound("chain rule", rule_id)
    return get_chain_rule(conn, rule_id)


def delete_chain_rule(conn: psycopg.Connection, rule_id: int) -> None:
    """Remove a rule; the audit log keeps it."""
    with writing(conn):
        deleted = conn.execute("DELETE FROM chain_rules WHERE id = %s", (rule_id,)).rowcount
    if not deleted:
        raise NotFound("chain rule", rule_id)


def settled_approvals_cursor(conn: psycopg.Connection, after: int) -> int:
    """The highest review id up to which every approval in force has left its undo window
    (never below `after`): approvals past it may still be undone, so wait for them."""
    (cursor,) = conn.execute(
        """SELECT greatest(%(after)s::bigint, least(
                      (SELECT max(id) FROM reviews),
                      (SELECT min(td.review_id) - 1 FROM take_decisions td
                        WHERE td.decision = 'approved' AND td.review_id > %(after)s
                          AND td.undo_until > now())))""",
        {"after": after},
    ).fetchone()
    return int(cursor)


def triggered_chains(conn: psycopg.Connection, after: int, upto: int) -> list[TriggeredChain]:
    """Approvals in force with a review id in (after, upto] that an enabled rule of the
    take's project matches (made after the rule was), oldest approval first."""
    return many(
        conn,
        TriggeredChain,
        """SELECT r.id AS rule_id, 'approved' AS event, td.review_id AS event_id,
                  s.id AS because_of, td.revision,
                  p.slug AS project, c.slug AS character, ts.slug AS trigger_scene_type,
                  ns.slug AS then_scene_type
             FROM take_decisions td
             JOIN scenes s ON s.id = td.scene_id
             JOIN chain_rules r ON r.project_id = s.project_id
                               AND r.trigger_scene_type_id = s.scene_type_id
                               AND r.trigger_event = 'approved' AND r.enabled
                               -- a new rule sets off what is approved from then on
                               AND td.decided_at >= r.created_at
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types ts ON ts.id = r.trigger_scene_type_id
             JOIN scene_types ns ON ns.id = r.then_scene_type_id
            WHERE td.decision = 'approved' AND td.review_id > %s AND td.review_id <= %s
              AND coalesce(td.undo_until, '-infinity') <= now()
              -- a preview's approval makes its final; the final's approval sets chains off
              AND td.revision_stage IS DISTINCT FROM 'preview'
            ORDER BY td.review_id, ns.slug""",
        (after, upto),
    )


def deliveries_cursor(conn: psycopg.Connection, after: int) -> int:
    """The highest deliverable id so far (never below `after`)."""
    (cursor,) = conn.execute(
        "SELECT greatest(%s::bigint, coalesce((SELECT max(id) FROM deliverables), 0))", (after,)
    ).fetchone()
    return int(cursor)


def delivered_chains(conn: psycopg.Connection, after: int, upto: int) -> list[TriggeredChain]:
    """Packaged deliverables with an id in (after, upto] that an enabled "delivered" rule of
    the take's project matches (packaged after the rule was made), oldest first."""
    return many(
        conn,
        TriggeredChain,
        """SELECT r.id AS rule_id, 'delivered' AS event, d.id AS event_id,
                  s.id AS because_of, coalesce(d.revision, 1) AS revision,
                  p.slug AS project, c.slug AS character, ts.slug AS trigger_scene_type,
                  ns.slug AS then_scene_type
             FROM deliverables d
             JOIN scenes s ON s.id = d.scene_id
             JOIN chain_rules r ON r.project_id = s.project_id
                               AND r.trigger_scene_type_id = s.scene_type_id
                               AND r.trigger_event = 'delivered' AND r.enabled
                               AND d.created_at >= r.created_at
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types ts ON ts.id = r.trigger_scene_type_id
             JOIN scene_types ns ON ns.id = r.then_scene_type_id
            WHERE d.status IN ('packaged', 'delivered') AND d.id > %s AND d.id <= %s
            ORDER BY d.id, ns.slug""",
        (after, upto),
    )
