"""Project GPU budgets (PRD-93).

remaining = limit - used - reserved, where *used* is the GPU seconds every segment attempt
of the project's takes recorded (QA-refused attempts included), and *reserved* is what
queued and running batches may still spend: a running batch its high estimate less what
its takes have used so far (nothing once none of its takes waits or generates), a queued
batch its whole high estimate when it is ahead of the batch being judged (higher priority,
or the same and older: queued batches keep their place in line).

A batch is admitted when the high end of its estimate fits the remaining budget (so the
budget holds even when the batch costs more than expected). Otherwise the project's policy
decides: `refuse` (nothing is stored) or `queue` (the batch waits until the
`queued_batches_sensor`, or `trulience batch release` by hand, finds that it fits).
"""

from dataclasses import dataclass
from decimal import Decimal

import psycopg

from trulience.catalog.errors import InvalidValue, writing
from trulience.catalog.fetch import id_of, many
from trulience.production.cost import Estimate, hours

POLICIES = ("refuse", "queue")


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


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a project's budget stands now."""

    project: str
    budget: Budget | None
    used_s: float
    reserved_s: float

    @property
    def remaining_s(self) -> float | None:
        if self.budget is None:
            return None
        return float(self.budget.gpu_seconds_limit) - self.used_s - self.reserved_s

    def describe(self) -> str:
        """One line: limit, used, reserved, remaining and the policy."""
        if self.budget is None:
            return (
                f"budget: none set for project {self.project} "
                f"({self.used_s:,.1f} GPU s used so far)"
            )
        b = self.budget
        money = f", {b.money(self.remaining_s)} left" if b.cost_per_gpu_hour is not None else ""
        return (
            f"budget of {self.project}: {float(b.gpu_seconds_limit):,.1f} GPU s "
            f"({hours(float(b.gpu_seconds_limit))}), used {self.used_s:,.1f}, "
            f"reserved by queued/running batches {self.reserved_s:,.1f}, remaining "
            f"{self.remaining_s:,.1f} GPU s{money}; policy {b.policy}"
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a batch may start now, must wait, or is refused, and why."""

    decision: str  # launch | queue | refuse
    standing: Standing
    reason: str


_BUDGET_COLUMNS = (
    "p.slug AS project, b.gpu_seconds_limit, b.policy, b.cost_per_gpu_hour, b.currency"
)


def set_budget(
    conn: psycopg.Connection,
    project: str,
    gpu_hours: float,
    policy: str = "refuse",
    cost_per_gpu_hour: float | None = None,
    currency: str = "USD",
) -> Budget:
    """Set (or replace) a project's GPU budget and what happens to a batch beyond it."""
    if policy not in POLICIES:
        raise InvalidValue("project budget", "policy", policy, "must be refuse or queue")
    if gpu_hours < 0:
        raise InvalidValue("project budget", "gpu_hours", gpu_hours, "must not be negative")
    project_id = id_of(conn, "projects", project, "project")
    values = {"policy": policy, "cost_per_gpu_hour": cost_per_gpu_hour, "currency": currency}
    with writing(conn, values):
        conn.execute(
            """INSERT INTO project_budgets (project_id, gpu_seconds_limit, policy,
                                            cost_per_gpu_hour, currency)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (project_id) DO UPDATE SET
                   gpu_seconds_limit = EXCLUDED.gpu_seconds_limit, policy = EXCLUDED.policy,
                   cost_per_gpu_hour = EXCLUDED.cost_per_gpu_hour, currency = EXCLUDED.currency""",
            (project_id, round(gpu_hours * 3600, 1), policy, cost_per_gpu_hour, currency),
        )
    budget = get_budget(conn, project)
    assert budget is not None
    return budget


def get_budget(conn: psycopg.Connection, project: str, lock: bool = False) -> Budget | None:
    """The project's budget, or None when it has none (`lock`: hold it for this
    transaction, so two batches cannot both take the last of it)."""
    id_of(conn, "projects", project, "project")
    rows = many(
        conn,
        Budget,
        f"""SELECT {_BUDGET_COLUMNS} FROM project_budgets b
              JOIN projects p ON p.id = b.project_id WHERE p.slug = %s"""
        + (" FOR UPDATE OF b" if lock else ""),
        (project,),
    )
    return rows[0] if rows else None


def list_budgets(conn: psycopg.Connection) -> list[Budget]:
    """Every project budget, by project slug."""
    return many(
        conn,
        Budget,
        f"""SELECT {_BUDGET_COLUMNS} FROM project_budgets b
              JOIN projects p ON p.id = b.project_id ORDER BY p.slug""",
    )


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
    conn: psycopg.Connection,
    project: str,
    priority: int | None = None,
    batch_id: int | None = None,
) -> float:
    """What running batches of the project may still spend, and queued ones ahead of a batch
    of this `priority` (higher priority, or the same and older; every queued batch when no
    priority is given). `batch_id` itself is left out."""
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


def standing(
    conn: psycopg.Connection,
    project: str,
    priority: int | None = None,
    batch_id: int | None = None,
    lock: bool = False,
) -> Standing:
    """The project's budget, what is used and what is reserved ahead of a batch of this
    priority (see `reserved_seconds`)."""
    return Standing(
        project,
        get_budget(conn, project, lock=lock),
        used_seconds(conn, project),
        reserved_seconds(conn, project, priority, batch_id),
    )


def judge(
    conn: psycopg.Connection,
    project: str,
    estimate: Estimate,
    priority: int = 0,
    batch_id: int | None = None,
    lock: bool = False,
) -> Verdict:
    """Whether a batch may launch now, must queue, or is refused, with the project, the
    estimate and the remaining budget named in the reason."""
    now = standing(conn, project, priority, batch_id, lock)
    budget = now.budget
    if budget is None:
        return Verdict("launch", now, f"project {project} has no budget set")
    if not estimate.available:
        return Verdict(
            "refuse",
            now,
            f"batch refused, nothing stored: project {project} has a GPU budget and this "
            f"batch cannot be checked against it - {estimate.missing}",
        )
    remaining = now.remaining_s
    assert remaining is not None and estimate.high is not None
    if estimate.high <= remaining:
        return Verdict(
            "launch",
            now,
            f"fits: high estimate {estimate.high:,.1f} GPU s <= remaining {remaining:,.1f}",
        )
    told = (
        f"project {project} has {max(remaining, 0):,.1f} GPU s "
        f"({hours(max(remaining, 0))}) of budget remaining "
        f"(limit {float(budget.gpu_seconds_limit):,.1f}, used {now.used_s:,.1f}, reserved by "
        f"queued/running batches {now.reserved_s:,.1f}); this batch is estimated at "
        f"{estimate.gpu_seconds:,.1f} GPU s (90% range {estimate.low:,.1f} to "
        f"{estimate.high:,.1f}; the high end must fit)"
    )
    if budget.policy == "queue":
        return Verdict("queue", now, f"queued until the budget allows: {told}")
    return Verdict(
        "refuse",
        now,
        f"batch refused, nothing stored: {told}. Raise the budget "
        f"(`trulience budgets set {project} --gpu-hours H`), make the batch smaller, "
        "or set --policy queue to let batches wait",
    )
