"""A worker's GPU power limit through NVML: clamped to the GPU's constraints, recorded on the
worker, refused clearly where there is no GPU or no right to set it. NVML is a stand-in
passed as a parameter (the real library is left alone)."""

import pytest
from click.testing import CliRunner

from trulience.catalog.errors import InvalidValue
from trulience.cli import main
from trulience.workers import pool
from trulience.workers.hardware import (
    NoGpu,
    PowerLimitRefused,
    limit_worker_power,
    sample_local_gpus,
    set_power_limit,
)


class FakeNvml:
    """The few pynvml calls a power limit needs, on `gpus` GPUs allowing 100-300 W."""

    class NVMLError(Exception):
        pass

    def __init__(self, gpus: int = 1, init_error: str | None = None, may_set: bool = True):
        self.gpus, self.init_error, self.may_set = gpus, init_error, may_set
        self.set_calls: list[tuple[int, int]] = []
        self.open = False

    def nvmlInit(self):
        if self.init_error:
            raise self.NVMLError(self.init_error)
        self.open = True

    def nvmlShutdown(self):
        self.open = False

    def nvmlDeviceGetCount(self):
        return self.gpus

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetName(self, handle):
        return "NVIDIA L4"

    def nvmlDeviceGetPowerManagementLimitConstraints(self, handle):
        return 100_000, 300_000  # milliwatts

    def nvmlDeviceSetPowerManagementLimit(self, handle, milliwatts):
        if not self.may_set:
            raise self.NVMLError("Insufficient Permissions")
        self.set_calls.append((handle, milliwatts))


@pytest.mark.parametrize(("asked", "applied"), [(250, 250), (500, 300), (40, 100), (150.5, 150.5)])
def test_a_power_limit_is_clamped_to_what_the_gpu_allows(asked, applied):
    nvml = FakeNvml()
    limit = set_power_limit(asked, nvml=nvml)
    assert (limit.applied_w, limit.min_w, limit.max_w) == (applied, 100, 300)
    assert limit.clamped == (asked != applied)
    assert nvml.set_calls == [(0, round(applied * 1000))] and not nvml.open


@pytest.mark.parametrize("watts", [0, -5, float("nan"), float("inf")])
def test_a_power_limit_must_be_a_positive_number_of_watts(watts):
    nvml = FakeNvml()
    with pytest.raises(InvalidValue, match="positive number of watts"):
        set_power_limit(watts, nvml=nvml)
    assert nvml.set_calls == []


def test_a_gpu_the_host_does_not_have_is_named():
    with pytest.raises(InvalidValue, match="gpu 2: this host has 2 GPU"):
        set_power_limit(200, gpu=2, nvml=FakeNvml(gpus=2))


def test_no_gpu_says_so_with_nvml_s_reason():
    with pytest.raises(NoGpu, match=r"no NVIDIA GPU on this host \(NVML: Driver Not Loaded\)"):
        set_power_limit(200, nvml=FakeNvml(init_error="Driver Not Loaded"))
    with pytest.raises(NoGpu, match="lists no devices"):
        set_power_limit(200, nvml=FakeNvml(gpus=0))


def test_nvml_refusing_says_it_needs_root():
    with pytest.raises(PowerLimitRefused, match=r"Insufficient Permissions.*needs root"):
        set_power_limit(200, nvml=FakeNvml(may_set=False))


def test_the_limit_is_recorded_on_the_worker(conn):
    worker = pool.add_worker(conn, "http://gpu-host:8188", "default", 1, "gpu-a")
    limit = limit_worker_power(conn, "gpu-a", 500, nvml=FakeNvml())
    assert limit.applied_w == 300
    detail = conn.execute(
        "SELECT device, detail FROM hardware_samples WHERE worker_id = %s", (worker.id,)
    ).fetchall()
    assert detail == [
        ("gpu0:NVIDIA L4", {"power_limit_w": 300, "requested_w": 500, "min_w": 100, "max_w": 300})
    ]


def test_power_limit_from_the_command_line_on_this_host(db_url, tmp_path):
    """On this host (no NVIDIA GPU in CI) the command says so; bad watts are a usage error."""
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def cli(*args):
        return CliRunner().invoke(main, list(args), env=env)

    added = cli("workers", "add", "http://127.0.0.1:9", "--name", "gpu-a")
    assert added.exit_code == 0, added.output
    bad = cli("workers", "power-limit", "gpu-a", "0")
    assert bad.exit_code == 2 and "WATTS" in bad.output
    result = cli("workers", "power-limit", "gpu-a", "200")
    if sample_local_gpus().unavailable:
        assert result.exit_code == 1
        assert "no NVIDIA GPU on this host (NVML:" in result.output
    else:  # a GPU host: set (or refused without root), never a traceback
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
