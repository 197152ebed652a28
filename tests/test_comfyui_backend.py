"""The ComfyUI generation backend end to end against the fake ComfyUI server: real H.264
segments, a lossless last frame, and every way a worker can let a segment down."""

import copy
import json
import threading
import time
import uuid
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.comfyui_nodes import animatic_frames, to_uint8
from trulience.generation.backend import (
    OperatorInterrupted,
    PermanentBackendError,
    SegmentRequest,
    SegmentWatch,
    TransientBackendError,
)
from trulience.generation.comfyui import ComfyUIBackend, ComfyUIClient
from trulience.generation.comfyui.backend import PROMPT_NAMESPACE
from trulience.generation.comfyui.errors import (
    ExecutionFailed,
    PromptInterrupted,
    PromptLost,
    SegmentTimeout,
    SlotError,
    WorkerUnavailable,
    WorkflowRejected,
    WorkflowValidationError,
)
from trulience.media.frames import last_frame, read_frames
from trulience.media.probe import probe

WIDTH, HEIGHT = 96, 64


@pytest.fixture(scope="module")
def seed_frame() -> np.ndarray:
    """A smooth picture with soft texture, so motion shows and H.264 keeps it close."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    blue = 128 + 60 * np.sin(x / 7) * np.cos(y / 5)
    frame = np.stack([x * 255 / WIDTH, y * 255 / HEIGHT, blue], axis=-1)
    return frame.round().astype(np.uint8)


@pytest.fixture(scope="module")
def server():
    with FakeComfyUI() as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset_faults()
    yield server
    server.reset_faults()
    if not server.alive:
        server.start()
    # Leave the worker idle: a cancelled or silenced prompt may still be running.
    client = ComfyUIClient(server.url)
    deadline = time.monotonic() + 10
    while (queue := client.queue()).running or queue.pending:
        assert time.monotonic() < deadline, "the fake worker did not go idle"
        time.sleep(0.02)


_indices = iter(range(1000))


def request(
    frames: int = 12, workflow: dict | None = None, slots: dict | None = None, **changes
) -> SegmentRequest:
    """A segment request; each gets a fresh index so the worker's cache never serves it."""
    fields = dict(
        scene="demo/eileen/walk/take-1",
        index=next(_indices),
        frames=frames,
        fps=Fraction(24),
        width=WIDTH,
        height=HEIGHT,
        seed=7,
        params={"slots": SLOTS if slots is None else slots},
        workflow=WORKFLOW if workflow is None else workflow,
    )
    fields.update(changes)
    return SegmentRequest(**fields)


def backend(fake: FakeComfyUI, **options) -> ComfyUIBackend:
    options.setdefault("segment_timeout_s", 20)
    options.setdefault("reconnect_timeout_s", 3)
    return ComfyUIBackend(fake.url, **options)


# -- a segment ------------------------------------------------------------------------------


def test_a_segment_is_a_real_video_with_a_lossless_last_frame(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    req = request(frames=12, workflow=workflow, index=3)
    result = backend(fake).generate_segment(seed_frame, req, tmp_path)

    assert workflow == WORKFLOW  # the caller's graph is never changed
    assert result.video_path == tmp_path / "segment-003.mp4"
    info = probe(result.video_path)
    assert (info.frames, info.width, info.height, info.codec) == (12, WIDTH, HEIGHT, "h264")
    assert result.frames == 12
    # The last frame is the PNG the workflow saved, bit for bit ...
    png_file = result.metadata["last_frame_file"]
    saved = fake.output_dir / png_file["subfolder"] / png_file["filename"]
    decoded_png = cv2.cvtColor(cv2.imread(str(saved)), cv2.COLOR_BGR2RGB)
    assert result.last_frame.dtype == np.uint8 and result.last_frame.shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(result.last_frame, decoded_png)
    # ... which is the generator's last frame exactly (no codec in between) ...
    expected = to_uint8(animatic_frames(seed_frame[None] / np.float32(255), 12, 7, "zoom_in")[-1])
    assert np.array_equal(result.last_frame, expected)
    # ... and close to (not equal to) the video's decoded last frame.
    video_last = last_frame(result.video_path)
    difference = np.abs(video_last.astype(int) - result.last_frame.astype(int)).mean()
    assert 0 < difference < 6
    assert result.metadata["last_frame_source"] == "lossless"
    assert np.abs(next(read_frames(result.video_path)).astype(int) - seed_frame).mean() < 6

    assert result.backend == "comfyui" and result.worker == fake.url
    assert result.started_at.tzinfo is not None and result.finished_at >= result.started_at
    assert 0 <= result.compute_s < 10
    meta = result.metadata
    assert meta["workflow_nodes"] == 6 and meta["socket_connects"] == 1
    assert meta["bound"] == {"frames": 12, "seed": 7, "fps": 24.0, "last_frame_index": 11}
    assert meta["prompt_id"] == str(
        uuid.uuid5(PROMPT_NAMESPACE, f"{req.scene}|3|7|{meta['nonce']}")
    )
    assert set(meta["executed_nodes"]) == {"1", "2", "3", "4", "5", "6"}
    assert meta["video_file"]["animated"] is True


def test_the_submission_carries_slots_upload_name_and_provenance(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    req = request(index=4)
    result = backend(fake).generate_segment(seed_frame, req, tmp_path)
    submission = fake.submissions[-1]
    assert submission.prompt_id == result.metadata["prompt_id"]
    assert submission.client_id == result.metadata["client_id"]
    assert result.ran_workflow  # the loop's provenance names the workflow only when it ran
    image = submission.prompt["1"]["inputs"]["image"]
    assert image == "trulience/demo/eileen/walk/take-1/seg-004.png"
    uploaded = cv2.imread(str(fake.input_dir / image))
    assert np.array_equal(cv2.cvtColor(uploaded, cv2.COLOR_BGR2RGB), seed_frame)
    assert submission.prompt["2"]["inputs"]["frames"] == 12
    assert submission.prompt["4"]["inputs"]["filename_prefix"].startswith("trulience/demo/")
    png_file = result.metadata["last_frame_file"]
    with Image.open(fake.output_dir / png_file["subfolder"] / png_file["filename"]) as png:
        stamped = json.loads(png.text["trulience"])
    assert stamped == {
        "scene": req.scene,
        "index": 4,
        "seed": 7,
        "prompt_id": result.metadata["prompt_id"],
    }


def test_a_seed_of_the_same_name_with_other_pixels_is_renamed_and_used(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.add_input("seg-005.png", b"someone else's bytes", subfolder="trulience/demo/x")
    req = request(index=5, scene="demo/x")
    result = backend(fake).generate_segment(seed_frame, req, tmp_path)
    assert result.metadata["seed_image"] == "trulience/demo/x/seg-005 (1).png"
    assert fake.submissions[-1].prompt["1"]["inputs"]["image"] == "trulience/demo/x/seg-005 (1).png"


def test_without_a_last_frame_slot_the_video_is_seeked(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    slots = {k: v for k, v in SLOTS.items() if k != "last_frame"}
    result = backend(fake).generate_segment(seed_frame, request(slots=slots), tmp_path)
    assert result.metadata["last_frame_source"] == "seek"
    assert np.array_equal(result.last_frame, last_frame(result.video_path))


# -- refusals before anything runs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        (None, "params['slots']"),
        ({"video": "4"}, "required slot(s) missing: seed_image"),
        ({**SLOTS, "seed_image": ["9", "image"]}, "node 9 is not in the workflow"),
        ({**SLOTS, "seed": ["2", "noise_seed"]}, "has no input 'noise_seed'"),
        ({**SLOTS, "video": "3"}, "node 3 (CreateVideo) is not an output node"),
    ],
)
def test_bad_slots_are_permanent_and_nothing_is_submitted(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path, slots, message: str
) -> None:
    before = len(fake.submissions)
    req = replace(request(), params={} if slots is None else {"slots": slots})
    with pytest.raises(SlotError) as raised:
        backend(fake).generate_segment(seed_frame, req, tmp_path)
    assert message in str(raised.value)
    assert isinstance(raised.value, PermanentBackendError)
    assert len(fake.submissions) == before


def test_an_invalid_workflow_is_refused_locally(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["2"]["inputs"]["motion"] = "spin"
    workflow["4"]["inputs"]["video"] = ["2", 0]  # IMAGE into VIDEO
    before = len(fake.submissions)
    with pytest.raises(WorkflowValidationError) as raised:
        backend(fake).generate_segment(seed_frame, request(workflow=workflow), tmp_path)
    assert {(p.node_id, p.input_name) for p in raised.value.problems} == {
        ("2", "motion"),
        ("4", "video"),
    }
    assert len(fake.submissions) == before


def test_a_ui_format_workflow_is_refused(seed_frame: np.ndarray, tmp_path: Path) -> None:
    ui = {"nodes": [], "links": [], "version": 0.4}
    with pytest.raises(PermanentBackendError, match="Export \\(API\\)"):
        ComfyUIBackend("http://127.0.0.1:9").generate_segment(
            seed_frame, request(workflow=ui), tmp_path
        )


def test_partial_acceptance_is_refused(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """The worker accepts the valid outputs and drops a broken one (200 + node_errors): the
    segment must not count as generated, and what did run is cancelled."""
    fake.slow(0.2)
    workflow = copy.deepcopy(WORKFLOW)
    workflow["7"] = {
        "class_type": "ImageScale",
        "inputs": {
            "image": ["1", 0],
            "upscale_method": "bilinear",
            "width": 99999,
            "height": 8,
            "crop": "disabled",
        },
    }
    workflow["8"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["7", 0], "filename_prefix": "p"},
    }
    before = len(fake.submissions)
    # Local validation would catch it first; switch it off to meet the server's answer.
    with pytest.raises(WorkflowRejected) as raised:
        backend(fake, validate=False).generate_segment(
            seed_frame, request(workflow=workflow), tmp_path
        )
    error = raised.value
    assert error.error_type == "partial_acceptance"
    assert [(p.node_id, p.class_type, p.input_name) for p in error.problems] == [
        ("7", "ImageScale", "width")
    ]
    assert isinstance(error, PermanentBackendError)
    assert len(fake.submissions) == before + 1
    client = ComfyUIClient(fake.url)
    deadline = time.monotonic() + 5
    while (entry := client.history(error.prompt_id)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert entry["status"]["status_str"] == "error"  # interrupted, not a success


# -- failures while running --------------------------------------------------------------------


def test_an_execution_error_is_permanent_and_names_node_and_class(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.fail_node("TrulienceAnimatic", "CUDA out of memory")
    with pytest.raises(ExecutionFailed) as raised:
        backend(fake).generate_segment(seed_frame, request(), tmp_path)
    error = raised.value
    assert isinstance(error, PermanentBackendError)
    assert (error.node_id, error.node_type) == ("2", "TrulienceAnimatic")
    assert error.exception_message == "CUDA out of memory"
    assert "node 2 (TrulienceAnimatic) failed" in str(error)
    assert "CUDA out of memory" in str(error)
    assert error.traceback and "Traceback" not in str(error) and "File " not in str(error)
    assert error.metadata["traceback"] == error.traceback
    assert error.metadata["node_type"] == "TrulienceAnimatic" and error.metadata["worker"]


def test_a_dropped_socket_is_reconciled_without_resubmitting(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(0.15)
    before = len(fake.submissions)
    fake.drop_socket_after(6)  # mid-run: status, start, cached, then a few node messages
    result = backend(fake).generate_segment(seed_frame, request(frames=10), tmp_path)
    assert len(fake.submissions) == before + 1
    assert result.metadata["socket_connects"] == 2 and result.metadata["reconciled"] == 1
    assert result.frames == 10 and probe(result.video_path).frames == 10
    assert result.last_frame.shape == (HEIGHT, WIDTH, 3)


def test_a_socket_dropped_as_the_run_ends_is_reconciled_from_history(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """The done marker is lost with the socket; history alone says the segment is done."""
    # The run sends 27 frames: 2 status, start, cached, 3 per node plus 2 `executed`, then
    # success, status and the done marker; cut the socket right after execution_success.
    fake.drop_socket_after(25)
    before = len(fake.submissions)
    result = backend(fake).generate_segment(seed_frame, request(), tmp_path)
    assert len(fake.submissions) == before + 1
    assert result.metadata["socket_connects"] == 2 and result.metadata["reconciled"] == 1
    assert result.frames == 12


def test_a_restarted_worker_that_lost_the_prompt_is_transient(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(0.1)

    def restart_mid_run(update) -> None:
        if update.event == "executing" and update.node == "2":
            fake.restart()  # queue and history are gone; the server comes back at once

    before = len(fake.submissions)
    with pytest.raises(PromptLost) as raised:
        backend(fake, on_progress=restart_mid_run).generate_segment(seed_frame, request(), tmp_path)
    assert isinstance(raised.value, TransientBackendError)
    assert "worker lost the prompt" in str(raised.value)
    assert len(fake.submissions) == before + 1  # never submitted again


def test_a_crash_then_restart_is_transient(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.die_mid_run(after_nodes=2)

    def bring_back() -> None:
        deadline = time.monotonic() + 5
        while fake.alive and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # refused connections for a moment, then the worker is back
        fake.start()

    helper = threading.Thread(target=bring_back)
    helper.start()
    with pytest.raises(PromptLost):
        backend(fake).generate_segment(seed_frame, request(), tmp_path)
    helper.join()


def test_a_worker_that_stays_down_is_unavailable(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.die_mid_run(after_nodes=1)
    started = time.monotonic()
    with pytest.raises(WorkerUnavailable, match="could not reconnect within 1 s"):
        backend(fake, reconnect_timeout_s=1).generate_segment(seed_frame, request(), tmp_path)
    assert time.monotonic() - started < 5


def test_a_slow_worker_hits_the_segment_timeout_and_the_prompt_is_cancelled(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(0.5)
    started = time.monotonic()
    with pytest.raises(SegmentTimeout) as raised:
        backend(fake, segment_timeout_s=1.0).generate_segment(seed_frame, request(), tmp_path)
    assert time.monotonic() - started < 2.5
    error = raised.value
    assert isinstance(error, TransientBackendError) and error.which == "segment"
    assert "did not finish within 1 s" in str(error)
    client = ComfyUIClient(fake.url)
    deadline = time.monotonic() + 5
    while (entry := client.history(error.prompt_id)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"


def test_a_silent_worker_hits_the_idle_timeout(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(2.0, "TrulienceAnimatic")
    started = time.monotonic()
    with pytest.raises(SegmentTimeout) as raised:
        backend(fake, idle_timeout_s=0.4).generate_segment(seed_frame, request(), tmp_path)
    assert raised.value.which == "idle" and "(node 2)" in str(raised.value)
    assert time.monotonic() - started < 1.5


def test_a_prompt_deleted_from_the_queue_is_lost(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """Deleted queue items leave no trace and no message: found out by reconciling."""
    fake.slow(0.3)
    client = ComfyUIClient(fake.url)
    blocker = copy.deepcopy(WORKFLOW)
    blocker["2"]["inputs"]["seed"] = 99
    blocker["1"]["inputs"]["image"] = "blocker.png"
    fake.add_input("blocker.png", cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    client.submit(blocker, client_id="someone-else")
    before = len(fake.submissions)

    def vanish_ours() -> None:
        deadline = time.monotonic() + 5
        while len(fake.submissions) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        fake.vanish_prompt(fake.submissions[-1].prompt_id)

    helper = threading.Thread(target=vanish_ours)
    helper.start()
    with pytest.raises(PromptLost, match="neither queued nor in the history"):
        backend(fake, idle_timeout_s=0.5).generate_segment(seed_frame, request(), tmp_path)
    helper.join()


def test_an_interrupt_nobody_of_ours_asked_for_is_transient(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(0.1)
    comfy = backend(fake)

    def interrupt_at_node_2(update) -> None:
        if update.event == "executing" and update.node == "2":
            comfy.interrupt()

    comfy.on_progress = interrupt_at_node_2
    with pytest.raises(PromptInterrupted, match="interrupted") as raised:
        comfy.generate_segment(seed_frame, request(), tmp_path)
    assert isinstance(raised.value, TransientBackendError)
    comfy.free()


# -- an operator's interrupt, a silenced socket, a stopped run -------------------------------


class Watch:
    """A take's watch as the loop keeps it: the prompt it was told of, and a cancel flag an
    operator sets before interrupting."""

    def __init__(self) -> None:
        self.prompts: list[tuple[str, str]] = []
        self.cancelled: str | None = None

    def submitted(self, worker: str, prompt_id: str) -> None:
        self.prompts.append((worker, prompt_id))

    def cancelled_by(self) -> str | None:
        return self.cancelled


def test_an_interrupt_of_a_take_its_operator_cancelled_is_final(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    fake.slow(0.1)
    watch = Watch()
    assert isinstance(watch, SegmentWatch)
    client = ComfyUIClient(fake.url)

    def operator_interrupts_at_node_2(update) -> None:
        if update.event == "executing" and update.node == "2" and watch.cancelled is None:
            watch.cancelled = "maria"  # the take is cancelled first, then its prompt stopped
            client.interrupt(watch.prompts[-1][1])

    comfy = backend(fake, on_progress=operator_interrupts_at_node_2)
    with pytest.raises(OperatorInterrupted, match="on the request of maria") as raised:
        comfy.generate_segment(seed_frame, request(watch=watch), tmp_path)
    error = raised.value
    assert isinstance(error, PermanentBackendError) and not isinstance(error, TransientBackendError)
    assert error.by == "maria" and isinstance(error.__cause__, PromptInterrupted)
    assert watch.prompts == [(fake.url, fake.submissions[-1].prompt_id)]


def test_a_queued_prompt_an_operator_deleted_is_final_without_waiting_for_the_idle_timeout(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """A deleted queue item leaves no trace: found by polling while the socket is quiet."""
    fake.slow(0.3)
    client = ComfyUIClient(fake.url)
    blocker = copy.deepcopy(WORKFLOW)
    blocker["2"]["inputs"]["seed"] = 98
    blocker["1"]["inputs"]["image"] = "blocker.png"
    fake.add_input("blocker.png", cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    client.submit(blocker, client_id="someone-else")
    watch = Watch()

    def operator_deletes_ours() -> None:
        deadline = time.monotonic() + 5
        while not watch.prompts and time.monotonic() < deadline:
            time.sleep(0.01)
        watch.cancelled = "maria"
        client.cancel(watch.prompts[-1][1])  # still queued: removed from the queue

    helper = threading.Thread(target=operator_deletes_ours)
    helper.start()
    comfy = backend(fake, idle_timeout_s=300, silent_poll_s=0.2)
    with pytest.raises(OperatorInterrupted) as raised:
        comfy.generate_segment(seed_frame, request(watch=watch), tmp_path)
    helper.join()
    assert isinstance(raised.value.__cause__, PromptLost)


def test_a_second_socket_under_our_client_id_is_outlasted_by_polling_history(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """Mid-run, the older socket hears nothing more, not even the done marker; the segment
    finishes from /history, long before the idle timeout, and is submitted once."""
    fake.slow(0.05)
    fake.second_socket_on_next_prompt(after_nodes=2)
    before = len(fake.submissions)
    comfy = backend(fake, idle_timeout_s=300, silent_poll_s=0.2)
    result = comfy.generate_segment(seed_frame, request(frames=10), tmp_path)
    assert result.metadata["finished_via"] == "history_poll"
    assert result.metadata["silent_polls"] >= 1 and result.metadata["socket_connects"] == 1
    assert len(fake.submissions) == before + 1
    assert result.frames == 10 and probe(result.video_path).frames == 10
    # the rest of the run went to the other socket, which the server told where it was
    heard = [json.loads(f) for f in fake.interloper_frames if isinstance(f, str)]
    assert heard[0]["type"] == "executing" and "prompt_id" not in heard[0]["data"]
    assert "execution_success" in [m["type"] for m in heard]
    assert 0 < len(result.metadata["executed_nodes"]) < 6  # ours heard the start only


def test_a_socket_that_hears_everything_finishes_through_it(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    result = backend(fake, silent_poll_s=5).generate_segment(seed_frame, request(), tmp_path)
    assert result.metadata["finished_via"] == "socket" and result.metadata["silent_polls"] == 0


def test_a_run_stopped_from_outside_cancels_its_prompt(
    fake: FakeComfyUI, seed_frame: np.ndarray, tmp_path: Path
) -> None:
    """SIGTERM reaches the loop as KeyboardInterrupt (ours, or Dagster's interrupt): the
    prompt must not run on to the end unwatched."""
    fake.slow(0.3)

    def terminated_at_node_2(update) -> None:
        if update.event == "executing" and update.node == "2":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend(fake, on_progress=terminated_at_node_2).generate_segment(
            seed_frame, request(), tmp_path
        )
    prompt_id = fake.submissions[-1].prompt_id
    client = ComfyUIClient(fake.url)
    deadline = time.monotonic() + 5
    while (entry := client.history(prompt_id)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"


@pytest.mark.parametrize("width, height", [(95, 64), (96, 63)])
def test_libx264_refusing_an_odd_size_is_explained(
    fake: FakeComfyUI, tmp_path: Path, width: int, height: int
) -> None:
    seed = np.full((height, width, 3), 120, np.uint8)
    with pytest.raises(ExecutionFailed) as raised:
        backend(fake).generate_segment(
            seed, request(width=width, height=height, seed=width * height), tmp_path
        )
    message = str(raised.value)
    assert 'avcodec_open2("libx264"' in message  # the worker's own words are kept
    assert "needs an even width and height" in message
    assert f"{width}x{height} (the scene type's size)" in message
    assert f"e.g. {width + width % 2}x{height + height % 2}" in message
