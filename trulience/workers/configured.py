"""Which backend makes segments, decided in one place from the settings: the local preview
backend, or the pool of ComfyUI workers COMFYUI_WORKERS names. The `generate` command and
the Dagster resource both ask here, so a take made either way comes from the same backend.

Vending a backend writes nothing: the workers COMFYUI_WORKERS names are registered in the
catalog by a start-up step (`register_configured_workers`: the worker health sensor on each
tick, the `generate` command and the demo before they start)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg

from trulience.generation.backend import GenerationBackend
from trulience.generation.preview import LocalPreviewBackend
from trulience.workers import pool
from trulience.workers.pooled_backend import PooledBackend, Report

DEFAULT_POOL = "default"


def register_configured_workers(
    conn: psycopg.Connection, urls: Sequence[str], pool_name: str = DEFAULT_POOL
) -> list[str]:
    """Register the workers among `urls` the catalog does not know yet (in `pool_name`);
    returns their names. They are health-checked before their first lease."""
    added = []
    known = {w.url for w in pool.list_workers(conn)}
    for url in urls:
        if url.rstrip("/") not in known:
            added.append(pool.add_worker(conn, url, pool_name).name)
            known.add(url.rstrip("/"))
    return added


def backend_for(
    database_url: str | None,
    comfyui_workers: Sequence[str],
    pool_name: str = DEFAULT_POOL,
    *,
    holder: str = "loop",
    report: Report | None = None,
) -> GenerationBackend:
    """The preview backend when no ComfyUI worker is configured, else the pool (writing
    nothing: its workers are registered at start-up); `report` hears what a waiting segment
    waits for."""
    if not comfyui_workers:
        return LocalPreviewBackend()
    if database_url is None:
        raise ValueError("a ComfyUI pool needs the catalog: no database URL given")
    return PooledBackend(database_url, pool_name, holder=holder, report=report)


@contextmanager
def closing_backend(backend: GenerationBackend) -> Iterator[GenerationBackend]:
    """`backend`, closed when done if it holds connections (the pool's catalog, LISTEN and
    worker sessions; the preview backend holds none)."""
    try:
        yield backend
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()


def describe_backend(backend: GenerationBackend) -> str:
    """The backend in a producer's words, for a command's output."""
    if isinstance(backend, PooledBackend):
        return f"ComfyUI pool {backend.pool!r}"
    return f"{backend.name} backend"


def describe_configuration(comfyui_workers: Sequence[str], pool_name: str = DEFAULT_POOL) -> str:
    """Which backend the settings choose, before one is built (e.g. for the demo's output)."""
    if not comfyui_workers:
        return "the local preview backend"
    count = len(comfyui_workers)
    return f"the ComfyUI pool {pool_name!r} ({count} worker{'' if count == 1 else 's'})"
