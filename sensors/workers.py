"""Worker health (PRD-46, PRD-06): register the workers COMFYUI_WORKERS names, check every
ComfyUI worker each minute, take dead ones offline, record their devices, close leases
nobody renews any more, and keep Dagster's `generation` pool limit at what the healthy
workers can take (PRD-87)."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from resources import CatalogResource, GenerationResource
from trulience.workers import health, pool
from trulience.workers.configured import register_configured_workers

GENERATION_POOL = "generation"  # the Dagster pool of the scenes asset's loop steps


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Each minute, registers the workers COMFYUI_WORKERS names, health-checks every "
        "ComfyUI worker (dead ones go offline), closes leases nobody renews and sets the "
        "`generation` pool limit to what the healthy workers take; no runs."
    ),
)
def worker_health_sensor(
    context: SensorEvaluationContext, catalog: CatalogResource, generation: GenerationResource
):
    """Register the configured workers and health-check the worker pool; requests no runs."""
    with catalog.connect(actor="dagster:worker_health_sensor") as conn:
        added = register_configured_workers(conn, generation.comfyui_workers, generation.pool)
        checked = health.check_pool(conn)
        expired = pool.sweep_expired(conn)
    if added:
        context.log.info(f"registered {', '.join(added)} from COMFYUI_WORKERS")
    if not checked:
        return SkipReason("no ComfyUI workers registered")
    states = ", ".join(f"{w.name} {w.state}" for w in checked)
    # as many `generation` steps may run as the healthy workers can take segments
    capacity = pool.healthy_capacity([w for w in checked if w.pool == generation.pool])
    storage = context.instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        known = storage.get_concurrency_info(GENERATION_POOL).slot_count
        if known != capacity:
            storage.set_concurrency_slots(GENERATION_POOL, capacity)
            context.log.info(
                f"the {GENERATION_POOL} pool limit is now {capacity} (was {known}): the healthy "
                f"workers of pool {generation.pool} take {capacity} segments at once"
            )
    return SkipReason(
        f"checked {len(checked)} worker(s): {states}; {expired} lease(s) expired; "
        f"{GENERATION_POOL} pool limit {capacity}"
    )
