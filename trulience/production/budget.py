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

import psycopg

from trulience.catalog import budgets as catalog
from trulience.catalog.budgets import Budget
from trulience.catalog.budgets import list_budgets as list_budgets  # re-exported
from trulience.catalog.errors import InvalidValue
from trulience.catalog.fetch import id_of
from trulience.production.cost import Estimate, hours

POLICIES = ("refuse", "queue")


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
    catalog.upsert_budget(
        conn, project_id, round(gpu_hours * 3600, 1), policy, cost_per_gpu_hour, currency
    )
    budget = get_budget(conn, project)
    assert budget is not None
    return budget


def get_budget(conn: psycopg.Connection, project: str, lock: bool = False) -> Budget | None:
    """The project's budget, or None when it has none (`lock`: hold it for this
    transaction, so two batches cannot both take the last of it)."""
    id_of(conn, "projects", project, "project")
    return catalog.budget_of_for_update(conn, project) if lock else catalog.budget_of(conn, project)


def standing(
    conn: psycopg.Connection,
    project: str,
    priority: int | None = None,
    batch_id: int | None = None,
    lock: bool = False,
) -> Standing:
    """The project's budget, what is used and what is reserved ahead of a batch of this
    priority (see trulience/catalog/budgets.py `reserved_seconds`)."""
    return Standing(
        project,
        get_budget(conn, project, lock=lock),
        catalog.used_seconds(conn, project),
        catalog.reserved_seconds(conn, project, priority, batch_id),
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
