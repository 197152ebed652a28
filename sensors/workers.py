"""Worker health (PRD-46, PRD-06): check every ComfyUI worker each minute, take dead ones
offline, record their devices, and close leases nobody renews any more."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from resources import CatalogResource
from trulience.workers import health, pool


@sensor(minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def worker_health_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Health-check the worker pool; requests no runs."""
    with catalog.connect(actor="dagster:worker_health_sensor") as conn:
        checked = health.check_pool(conn)
        expired = pool.sweep_expired(conn)
    if not checked:
        return SkipReason("no ComfyUI workers registered")
    states = ", ".join(f"{w.name} {w.state}" for w in checked)
    return SkipReason(f"checked {len(checked)} worker(s): {states}; {expired} lease(s) expired")
