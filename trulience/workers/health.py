"""Worker health checks: is the ComfyUI server answering, what can it run (node classes
and model files from its own catalogue), and what its devices report."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
import requests

from trulience.errors import TrulienceError
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.workers import pool
from trulience.workers.hardware import record_samples, samples_from_system_stats


@dataclass(frozen=True)
class Health:
    ok: bool
    capabilities: dict[str, Any] = field(default_factory=dict)
    catalogue_sha256: str | None = None
    system_stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def probe_worker(url: str, timeout_s: float = 10.0) -> Health:
    """Ask a worker for its stats, node catalogue and model files."""
    try:
        with ComfyUIClient(url, timeout_s=timeout_s) as client:
            stats = client.system_stats()
            node_classes = sorted(client.object_info())
            models = {folder: sorted(files) for folder, files in client.model_inventory().items()}
    except (TrulienceError, requests.RequestException, ValueError) as exc:
        return Health(ok=False, error=str(exc) or type(exc).__name__)
    catalogue = {"node_classes": node_classes, "models": models}
    sha = hashlib.sha256(json.dumps(catalogue, sort_keys=True).encode()).hexdigest()
    capabilities = catalogue | {
        "comfyui_version": stats.get("system", {}).get("comfyui_version"),
        "devices": [d.get("name") for d in stats.get("devices", [])],
    }
    return Health(True, capabilities, sha, stats)


def check_worker(conn: psycopg.Connection, name: str, timeout_s: float = 10.0) -> pool.Worker:
    """Probe one registered worker and record the result (state, capabilities, samples)."""
    worker = pool.get_worker(conn, name)
    health = probe_worker(worker.url, timeout_s)
    updated = pool.record_health(
        conn,
        name,
        ok=health.ok,
        capabilities=health.capabilities or None,
        catalogue_sha256=health.catalogue_sha256,
        error=health.error,
    )
    if health.ok:
        record_samples(
            conn, f"worker:{name}", samples_from_system_stats(health.system_stats), worker.id
        )
    return updated


def check_pool(conn: psycopg.Connection, pool_name: str | None = None) -> list[pool.Worker]:
    """Check every worker (of one pool) and close leases nobody renews."""
    checked = [check_worker(conn, w.name) for w in pool.list_workers(conn, pool_name)]
    pool.sweep_expired(conn)
    return checked
