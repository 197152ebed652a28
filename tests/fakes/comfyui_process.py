"""A fake ComfyUI worker in a process of its own, as a GPU host is: nothing it does waits for
the caller's interpreter lock, and it can die as a real one does (SIGKILL: no goodbye, its
sockets cut by the kernel, its queue and history gone).

A prompt's run time is set per seed (`seconds_of_seed`: the seed the workflow's sampler
gets, spread over its nodes) or per node (`seconds_per_node`)."""

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from tests.fakes.comfyui import FakeComfyUI, Faults


@dataclass
class WorkerProcess:
    """A running fake worker: its URL and process."""

    url: str
    process: Any  # multiprocessing.Process

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker now (what the OOM killer or a pulled plug does)."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def running_prompts(self) -> int:
        """How many prompts the worker is executing now (0 or 1), from its /queue."""
        return len(requests.get(f"{self.url}/queue", timeout=5).json()["queue_running"])

    def succeeded_seeds(self) -> list[int]:
        """The sampler seed of each prompt the worker ran to success, from its /history."""
        history = requests.get(f"{self.url}/history", timeout=10).json()
        return [
            seed
            for entry in history.values()
            if entry["status"]["status_str"] == "success"
            for seed in _seeds(entry["prompt"][2])[:1]
        ]


@contextmanager
def worker_process(
    *,
    seconds_of_seed: Mapping[int, float] | None = None,
    seconds_per_node: float = 0.0,
    nodes: int = 1,
    inputs: Mapping[str, bytes] | None = None,
) -> Iterator[WorkerProcess]:
    """Start a fake worker process (spawned: it shares nothing with the caller); stop it on
    exit unless it was killed. `nodes` spreads a seed's seconds over a workflow's nodes;
    `inputs` are files put in its input folder."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_serve,
        args=(dict(seconds_of_seed or {}), seconds_per_node, nodes, dict(inputs or {}), theirs),
        daemon=True,
    )
    process.start()
    try:
        yield WorkerProcess(ours.recv(), process)
    finally:
        if process.is_alive():
            ours.send("stop")
            process.join(timeout=10)


def _seeds(prompt: dict) -> list[int]:
    return [
        node["inputs"]["seed"]
        for node in prompt.values()
        if isinstance(node.get("inputs", {}).get("seed"), int)
    ]


def _serve(
    seconds: dict[int, float], per_node: float, nodes: int, inputs: dict[str, bytes], pipe
) -> None:
    def seconds_of(prompt: dict) -> float:
        seeds = _seeds(prompt)
        return seconds.get(seeds[0], per_node * nodes) / nodes if seeds else per_node

    faults = Faults(seconds_per_node_of=seconds_of) if seconds else Faults(per_node)
    with FakeComfyUI(faults=faults) as fake:
        for name, data in inputs.items():
            fake.add_input(name, data)
        pipe.send(fake.url)
        with contextlib.suppress(EOFError):  # EOF: the caller went away
            pipe.recv()  # until the caller is done with it
