"""Hardware monitoring (PRD-06): GPU samples from NVML on this host, and from each
worker's /system_stats, recorded over time in the catalog."""

from dataclasses import dataclass, field
from typing import Any

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.workers import insert_hardware_sample


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
