"""Hardware monitoring (PRD-06): GPU samples from NVML on this host, and from each
worker's /system_stats, recorded over time in the catalog; and a worker's GPU power limit,
set through NVML on the worker's host (clamped to what the GPU allows) and recorded on the
worker as a hardware sample."""

import math
from dataclasses import dataclass, field
from typing import Any

import psycopg

from trulience.catalog.errors import InvalidValue, writing
from trulience.catalog.workers import get_worker, insert_hardware_sample
from trulience.errors import TrulienceError


@dataclass(frozen=True)
class Sample:
    device: str
    utilization: float | None = None
    memory_used: int | None = None
    memory_total: int | None = None
    temperature_c: float | None = None
    power_w: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalGpus:
    """This host's NVIDIA GPUs, or why there are none to read."""

    samples: list[Sample]
    unavailable: str | None = None  # e.g. "no NVIDIA GPU: NVML library not found"


def sample_local_gpus() -> LocalGpus:
    """Read every NVIDIA GPU of this host through NVML (the nvidia-ml-py package)."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return LocalGpus([], f"no NVIDIA GPU: {exc}")
    try:
        samples = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            samples.append(
                Sample(
                    device=f"gpu{index}:{pynvml.nvmlDeviceGetName(handle)}",
                    utilization=float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                    memory_used=int(memory.used),
                    memory_total=int(memory.total),
                    temperature_c=float(
                        pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
                    ),
                    power_w=pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
                )
            )
        return LocalGpus(samples)
    finally:
        pynvml.nvmlShutdown()


def samples_from_system_stats(stats: dict[str, Any]) -> list[Sample]:
    """Device samples from a ComfyUI worker's /system_stats (on CPU, "vram" is RAM)."""
    samples = []
    for device in stats.get("devices", []):
        total, free = device.get("vram_total"), device.get("vram_free")
        samples.append(
            Sample(
                device=f"{device.get('type', '?')}:{device.get('name', '?')}",
                memory_used=int(total - free) if total is not None and free is not None else None,
                memory_total=int(total) if total is not None else None,
                detail={k: device.get(k) for k in ("index", "torch_vram_total", "torch_vram_free")},
            )
        )
    return samples


def record_samples(
    conn: psycopg.Connection, source: str, samples: list[Sample], worker_id: int | None = None
) -> int:
    """Store samples taken now; returns how many."""
    with writing(conn):
        for s in samples:
            insert_hardware_sample(
                conn,
                source,
                worker_id,
                s.device,
                s.utilization,
                s.memory_used,
                s.memory_total,
                s.temperature_c,
                s.power_w,
                s.detail,
            )
    return len(samples)


class NoGpu(TrulienceError):
    """This host has no NVIDIA GPU NVML can reach."""


class PowerLimitRefused(TrulienceError):
    """NVML would not set the power limit (it needs root, or the GPU does not allow it)."""


@dataclass(frozen=True)
class PowerLimit:
    """A GPU power limit as asked and as set (clamped to the GPU's constraints), in watts."""

    device: str
    requested_w: float
    applied_w: float
    min_w: float
    max_w: float

    @property
    def clamped(self) -> bool:
        return self.applied_w != self.requested_w


def set_power_limit(watts: float, gpu: int = 0, nvml: Any = None) -> PowerLimit:
    """Set GPU `gpu`'s power limit on this host, clamped to its min/max constraint, through
    NVML (`nvml`: the pynvml module, or a stand-in with its functions); NoGpu where none."""
    if not isinstance(watts, int | float) or not math.isfinite(watts) or watts <= 0:
        raise InvalidValue("worker", "power limit", watts, "must be a positive number of watts")
    if gpu < 0:
        raise InvalidValue("worker", "gpu", gpu, "is an index from 0")
    if nvml is None:
        import pynvml as nvml
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        raise NoGpu(f"no NVIDIA GPU on this host (NVML: {exc})") from exc
    try:
        count = nvml.nvmlDeviceGetCount()
        if count == 0:
            raise NoGpu("no NVIDIA GPU on this host (NVML: it lists no devices)")
        if gpu >= count:
            raise InvalidValue("worker", "gpu", gpu, f"this host has {count} GPU(s), 0-{count - 1}")
        handle = nvml.nvmlDeviceGetHandleByIndex(gpu)
        device = f"gpu{gpu}:{nvml.nvmlDeviceGetName(handle)}"
        low_mw, high_mw = nvml.nvmlDeviceGetPowerManagementLimitConstraints(handle)
        applied_mw = min(max(round(watts * 1000), low_mw), high_mw)
        try:
            nvml.nvmlDeviceSetPowerManagementLimit(handle, applied_mw)
        except nvml.NVMLError as exc:
            raise PowerLimitRefused(
                f"{device}: NVML refused a power limit of {applied_mw / 1000:g} W: {exc} "
                "(setting it needs root on the worker's host)"
            ) from exc
        return PowerLimit(device, float(watts), applied_mw / 1000, low_mw / 1000, high_mw / 1000)
    finally:
        nvml.nvmlShutdown()


def limit_worker_power(
    conn: psycopg.Connection, name: str, watts: float, gpu: int = 0, nvml: Any = None
) -> PowerLimit:
    """On the worker's host: set its GPU power limit and record it on the worker (a
    hardware sample whose detail holds the limit and the GPU's constraints)."""
    worker = get_worker(conn, name)  # a worker we know, before touching the GPU
    limit = set_power_limit(watts, gpu, nvml)
    detail = {
        "power_limit_w": limit.applied_w,
        "requested_w": limit.requested_w,
        "min_w": limit.min_w,
        "max_w": limit.max_w,
    }
    record_samples(conn, f"worker:{name}", [Sample(limit.device, detail=detail)], worker.id)
    return limit
