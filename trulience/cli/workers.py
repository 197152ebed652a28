"""`trulience workers`: ComfyUI workers (register, check, drain, remove); `trulience
hardware`: this host's GPUs."""

import click

from trulience.cli.common import Commands, actor, catalog, with_catalog
from trulience.config import mask_url


@click.group(cls=Commands)
def workers() -> None:
    """ComfyUI workers: register, check, drain, remove, cap their GPUs' power."""


@workers.command("add")
@click.argument("url")
@click.option("--pool", "pool_name", default="default", show_default=True)
@click.option("--slots", default=1, show_default=True, help="Prompts it may run at once.")
@click.option("--name", help="Default: made from the URL.")
@click.option(
    "--queue-depth",
    default=1,
    show_default=True,
    help="Segments queued in ComfyUI beyond its slots, so its GPU never waits for the next.",
)
@with_catalog
def workers_add(
    conn, url: str, pool_name: str, slots: int, name: str | None, queue_depth: int
) -> None:
    """Register a worker and check it at once."""
    from trulience.workers import health, pool

    worker = pool.add_worker(conn, url, pool_name, slots, name, queue_depth)
    worker = health.check_worker(conn, worker.name)
    click.echo(
        f"worker {worker.name} ({mask_url(worker.url)}) in pool {worker.pool}: {worker.state}"
        + (f" - {worker.last_error}" if worker.last_error else "")
    )


@workers.command("list")
@click.option("--pool", "pool_name")
@with_catalog
def workers_list(conn, pool_name: str | None) -> None:
    from trulience.workers import pool, segment_queue

    for w in pool.list_workers(conn, pool_name):
        nodes = len(w.capabilities.get("node_classes", []))
        files = sum(len(f) for f in w.capabilities.get("models", {}).values())
        click.echo(
            f"{w.name:<24} {w.state:<9} pool {w.pool:<10} slots {w.active_leases}/"
            f"{w.slots}  "
            # checked before its first lease; until then it can run nothing we know of
            + ("not checked yet" if w.unchecked else f"{nodes} node classes, {files} model files")
            + ("  CATALOGUE CHANGED" if w.catalogue_drifted else "")
            + (f"  {w.failures} fault(s) in a row" if w.failures else "")
            + (f"  last error: {w.last_error}" if w.last_error else "")
        )
    for wait in segment_queue.waiting(conn, pool_name):  # segments no worker has taken yet, and why
        click.echo(
            f"waiting since {wait.requested_at:%H:%M:%S}: {wait.purpose or wait.holder}"
            + (f" - {wait.reason}" if wait.reason else "")
        )


@workers.command("check")
@click.option("--pool", "pool_name")
@with_catalog
def workers_check(conn, pool_name: str | None) -> None:
    """Health-check every worker now (the worker_health sensor does this every minute)."""
    from trulience.workers import health

    for w in health.check_pool(conn, pool_name):
        click.echo(f"{w.name:<24} {w.state}" + (f" - {w.last_error}" if w.last_error else ""))


@with_catalog
def _set_worker_state(conn, name: str, state: str) -> None:
    from trulience.workers import pool

    worker = pool.set_state(conn, name, state)
    click.echo(f"worker {worker.name}: {worker.state} ({worker.active_leases} running)")


@workers.command("drain")
@click.argument("name")
def workers_drain(name: str) -> None:
    """Finish running segments, take no new ones."""
    _set_worker_state(name, "draining")


@workers.command("undrain")
@click.argument("name")
def workers_undrain(name: str) -> None:
    _set_worker_state(name, "online")


@workers.command("interrupt")
@click.argument("name")
@with_catalog
def workers_interrupt(conn, name: str) -> None:
    """Stop our takes' prompts on the worker (by prompt id; queued ones are removed) and
    cancel those takes; other clients' prompts are left alone."""
    from trulience.workers.interrupt import interrupt_worker

    stopped = interrupt_worker(conn, name, actor())
    if not stopped:
        click.echo(f"worker {name}: no take of ours is running or queued there; nothing sent")
    for outcome in stopped:
        click.echo(outcome.describe())


@workers.command("free")
@click.argument("name")
def workers_free(name: str) -> None:
    """Ask the worker to unload models and free memory after its current prompt."""
    from trulience.generation.comfyui.client import ComfyUIClient
    from trulience.workers import pool

    with catalog() as conn, ComfyUIClient(pool.get_worker(conn, name).url) as client:
        client.free(unload_models=True, free_memory=True)
    click.echo(f"worker {name}: models unloaded and memory freed after its current prompt")


@workers.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Even while it runs segments.")
@with_catalog
def workers_remove(conn, name: str, force: bool) -> None:
    from trulience.workers import pool

    pool.remove_worker(conn, name, force)
    click.echo(f"worker {name} removed")


@workers.command("power-limit")
@click.argument("name")
@click.argument("watts", type=click.FloatRange(min=0, min_open=True))
@click.option("--gpu", default=0, show_default=True, type=click.IntRange(min=0))
@with_catalog
def workers_power_limit(conn, name: str, watts: float, gpu: int) -> None:
    """On the worker's host: cap its GPU's power (clamped to what the GPU allows)."""
    from trulience.workers.hardware import limit_worker_power

    limit = limit_worker_power(conn, name, watts, gpu)
    clamped = (
        f" (asked {limit.requested_w:g} W; the GPU allows {limit.min_w:g}-{limit.max_w:g} W)"
        if limit.clamped
        else ""
    )
    click.echo(f"worker {name}: {limit.device} power limit {limit.applied_w:g} W{clamped}")


@click.command("hardware")
@click.option("--record", is_flag=True, help="Store the samples in the catalog.")
def hardware(record: bool) -> None:
    """This host's NVIDIA GPUs through NVML (or why there are none)."""
    from trulience.workers.hardware import record_samples, sample_local_gpus

    local = sample_local_gpus()
    if local.unavailable:
        click.echo(local.unavailable)
    for s in local.samples:
        click.echo(
            f"{s.device}: {s.utilization}% busy, {s.memory_used}/{s.memory_total} bytes, "
            f"{s.temperature_c} C, {s.power_w} W"
        )
    if record and local.samples:
        with catalog() as conn:
            record_samples(conn, "local", local.samples)


COMMANDS = {"workers": workers, "hardware": hardware}
