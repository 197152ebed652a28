"""Project GPU budgets (PRD-93) and what the catalog knows of their use: the GPU seconds the
project's segment attempts recorded and what its batches still reserve.
trulience/production/budget.py judges a batch against them."""

from dataclasses import dataclass
from decimal import Decimal

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class Budget:
    """A project's GPU budget: a limit in GPU seconds, the policy beyond it, a price."""

    project: str
    gpu_seconds_limit: Decimal
    policy: str
    cost_per_gpu_hour: Decimal | None
    currency: str

    def money(self, gpu_seconds: float) -> str:
        """GPU seconds as money, when the project has a price per GPU hour."""
        if self.cost_per_gpu_hour is None:
            return ""
        return f"{float(self.cost_per_gpu_hour) * gpu_seconds / 3600:,.2f} {self.currency}"


_SELECT = """SELECT p.slug AS project, b.gpu_seconds_limit, b.policy, b.cost_per_gpu_hour,
                    b.currency
               FROM project_budgets b JOIN projects p ON p.id = b.project_id"""


def upsert_budget(
    conn: psycopg.Connection,
    project_id: int,
    gpu_seconds_limit: float,
    policy: str,
    cost_per_gpu_hour: float | None,
    currency: str,
) -> None:
    """Set the project's budget, replacing the one it had."""
    values = {"policy": policy, "cost_per_gpu_hour": cost_per_gpu_hour, "currency": currency}
    with writing(conn, values):
        conn.execute(
            """INSERT INTO project_budgets (project_id, gpu_seconds_limit, policy,
                                            cost_per_gpu_hour, currency)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (project_id) DO UPDATE SET
                   gpu_seconds_limit = EXCLUDED.gpu_seconds_limit, policy = EXCLUDED.policy,
                   cost_per_gpu_hour = EXCLUDED.cost_per_gpu_hour, currency = EXCLUDED.currency""",
            (project_id, gpu_seconds_limit, policy, cost_per_gpu_hour, currency),
        )


def budget_of(conn: psycopg.Connection, project: str) -> Budget | None:
    """The project's budget; None when it has none."""
    return _budget(conn, project, "")


def budget_of_for_update(conn: psycopg.Connection, project: str) -> Budget | None:
    """The project's budget, its row held (FOR UPDATE) until the transaction ends; None
    when it has none."""
    return _budget(conn, project, " FOR UPDATE OF b")


def _budget(conn: psycopg.Connection, project: str, locking: str) -> Budget | None:
    rows = many(conn, Budget, f"{_SELECT} WHERE p.slug = %s{locking}", (project,))
    return rows[0] if rows else None


def list_budgets(conn: psycopg.Connection) -> list[Budget]:
    """Every project budget, by project slug."""
    return many(conn, Budget, f"{_SELECT} ORDER BY p.slug")


def used_seconds(conn: psycopg.Connection, project: str) -> float:
    """GPU seconds every segment attempt of the project's takes recorded."""
    row = conn.execute(
        """SELECT coalesce(sum((g.provenance ->> 'compute_s')::float8), 0)
             FROM segments g JOIN scenes s ON s.id = g.scene_id
             JOIN projects p ON p.id = s.project_id
            WHERE p.slug = %s AND jsonb_typeof(g.provenance -> 'compute_s') = 'number'""",
        (project,),
    ).fetchone()
    return float(row[0])


def reserved_seconds(
    conn: psycopg.Connection, project: str, priority: int | None, batch_id: int | None
) -> float:
    """What running batches of the project may still spend (their high estimate less what
    their takes used, nothing once none waits or generates), and queued ones ahead of a
    batch of this `priority` (higher, or the same and older; every queued batch for None)
    their whole high estimate. `batch_id` itself is left out."""
    row = conn.execute(
        """SELECT coalesce(sum(CASE
                      WHEN b.status = 'queued' THEN b.estimate_high_s
                      WHEN st.busy THEN greatest(0, b.estimate_high_s - st.spent)
                      ELSE 0 END), 0)
             FROM batches b
             JOIN projects p ON p.id = b.project_id
             JOIN LATERAL (
                   SELECT coalesce(sum(v.gpu_seconds), 0) AS spent,
                          coalesce(bool_or(v.state IN ('queued', 'pending', 'generating')),
                                   false) AS busy
                     FROM batch_item_states v WHERE v.batch_id = b.id) AS st ON true
            WHERE p.slug = %(project)s AND b.estimate_high_s IS NOT NULL
              AND b.id IS DISTINCT FROM %(id)s
              AND (b.status = 'running'
                   OR (b.status = 'queued' AND (
                       %(priority)s::int IS NULL OR b.priority > %(priority)s
                       OR (b.priority = %(priority)s
                           AND (%(id)s::bigint IS NULL OR b.id < %(id)s)))))""",
        {"project": project, "priority": priority, "id": batch_id},
    ).fetchone()
    return float(row[0])
