"""The ComfyUI HTTP client and WebSocket follower: against the fake ComfyUI server, and on
messages and history entries captured from a real ComfyUI 0.3.64."""

import base64
import hashlib
import io
import json
import re
import socket
import struct
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fakes.comfyui import FakeComfyUI
from trulience.errors import TrulienceError
from trulience.generation.backend import PermanentBackendError, TransientBackendError
from trulience.generation.comfyui.answers import HistoryEntry
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import (
    OutputMissing,
    RequestRefused,
    WorkerUnavailable,
    WorkflowRejected,
)
from trulience.generation.comfyui.socket import (
    NodeText,
    Preview,
    PromptSocket,
    PromptTracker,
    parse_binary,
)

# recorded from a real ComfyUI 0.3.64 server (tests/data/comfyui/PROTOCOL.md)
CAPTURES = Path(__file__).resolve().parent / "data" / "comfyui" / "captures"
needs_captures = pytest.mark.skipif(
    not CAPTURES.is_dir(), reason="the shared ComfyUI captures are not beside the repo"
)


def png(colour: int = 128, size: int = 16) -> bytes:
    ok, data = cv2.imencode(".png", np.full((size, size, 3), colour, np.uint8))
    assert ok
    return data.tobytes()


def still_graph(image: str = "face.png", width: int = 32) -> dict:
    """LoadImage -> ImageScale -> SaveImage, as in the captured validation cases."""
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image}},
        "2": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["1", 0],
                "upscale_method": "bilinear",
                "width": width,
                "height": 32,
                "crop": "disabled",
            },
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t/x"}},
    }


def wait_for_history(client: ComfyUIClient, prompt_id: str, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entry = client.history(prompt_id)
        if entry is not None:
            return entry
        time.sleep(0.02)
    raise AssertionError(f"prompt {prompt_id} never reached the history")


@pytest.fixture(scope="module")
def server():
    with FakeComfyUI() as fake:
        fake.add_input("face.png", png())
        yield fake


@pytest.fixture
def fake(server):
    server.reset_faults()
    yield server
    server.reset_faults()


@pytest.fixture
def client(fake):
    with ComfyUIClient(fake.url, timeout_s=5) as c:
        yield c


# -- reads ------------------------------------------------------------------------------------


def test_reads_system_stats_object_info_and_models(client: ComfyUIClient) -> None:
    assert client.system_stats()["system"]["comfyui_version"] == "0.3.64"
    info = client.object_info("ImageScale")
    assert info["ImageScale"]["output"] == ["IMAGE"]
    assert client.object_info("NoSuchNode") == {}
    assert "TrulienceAnimatic" in client.object_info()
    assert "checkpoints" in client.models()
    assert client.models("checkpoints") == []
    assert client.model_inventory(["loras"]) == {"loras": []}


def test_an_unknown_prompt_has_no_history(client: ComfyUIClient) -> None:
    assert client.history("00000000-0000-0000-0000-000000000000") is None


def test_no_origin_header_is_sent(client: ComfyUIClient) -> None:
    prepared = client.session.prepare_request(
        __import__("requests").Request("POST", client.base_url + "/prompt", json={})
    )
    assert "Origin" not in prepared.headers


def test_the_websocket_address_follows_the_base_url() -> None:
    assert ComfyUIClient("http://gpu-1:8188/").ws_url("abc") == "ws://gpu-1:8188/ws?clientId=abc"
    assert ComfyUIClient("https://w.example/api").ws_url("x") == "wss://w.example/api/ws?clientId=x"
    with pytest.raises(ValueError, match="http"):
        ComfyUIClient("gpu-1:8188")


# -- uploads ----------------------------------------------------------------------------------


def test_upload_returns_the_servers_name_which_may_be_a_rename(
    client: ComfyUIClient, fake: FakeComfyUI
) -> None:
    first = client.upload_image(png(10), "seed.png", subfolder="trulience/a")
    assert first == "seed.png"
    assert client.upload_image(png(10), "seed.png", subfolder="trulience/a") == "seed.png"
    renamed = client.upload_image(png(20), "seed.png", subfolder="trulience/a")
    assert renamed == "seed (1).png"
    assert (fake.input_dir / "trulience/a/seed (1).png").read_bytes() == png(20)
    assert client.upload_image(png(30), "seed.png", subfolder="trulience/a", overwrite=True) == (
        "seed.png"
    )
    assert (fake.input_dir / "trulience/a/seed.png").read_bytes() == png(30)


def test_an_upload_outside_the_input_folder_is_refused(client: ComfyUIClient) -> None:
    with pytest.raises(RequestRefused) as raised:
        client.upload_image(png(), "x.png", subfolder="../escape")
    assert raised.value.status == 400
    assert isinstance(raised.value, PermanentBackendError)


def test_a_server_error_page_becomes_a_clear_transient_error(client: ComfyUIClient) -> None:
    # The fake (like ComfyUI) raises on an unknown upload type: a 500 text/plain page.
    with pytest.raises(WorkerUnavailable) as raised:
        client.upload_image(png(), "x.png", type="bogus")
    assert "500" in str(raised.value) and "POST /upload/image" in str(raised.value)
    assert isinstance(raised.value, TransientBackendError)
    assert raised.value.worker == client.base_url


def test_a_password_in_the_worker_url_never_reaches_an_error_or_repr() -> None:
    # A worker behind an authenticating proxy: nothing listens on port 9, so the call fails
    # and its message (which the pool stores as the worker's last_error) must not show it.
    client = ComfyUIClient("http://studio:hunter2@127.0.0.1:9", timeout_s=2)
    with pytest.raises(WorkerUnavailable) as raised:
        client.system_stats()
    assert "hunter2" not in str(raised.value) and "hunter2" not in repr(client)
    assert "studio:****@127.0.0.1:9" in str(raised.value)
    with pytest.raises(ValueError) as refused:
        ComfyUIClient("ftp://studio:hunter2@host")
    assert "hunter2" not in str(refused.value)


# -- submitting ---------------------------------------------------------------------------


def test_submit_run_and_fetch_an_output(client: ComfyUIClient, fake: FakeComfyUI) -> None:
    submitted = client.submit(
        still_graph(),
        client_id="c1",
        prompt_id="my-own-id",
        extra_data={"extra_pnginfo": {"trulience": {"scene": "s"}}},
    )
    assert submitted.prompt_id == "my-own-id" and submitted.node_errors == {}
    entry = HistoryEntry.parse(submitted.prompt_id, wait_for_history(client, "my-own-id"))
    assert entry.outcome == "success" and entry.number == submitted.number
    (file,) = entry.files("3")
    assert (file.subfolder, file.type, file.animated) == ("t", "output", False)
    data = client.view(file.filename, file.subfolder, file.type)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (32, 32, 3)
    from PIL import Image  # the provenance is stamped into the PNG by SaveImage

    assert json.loads(Image.open(io.BytesIO(data)).text["trulience"]) == {"scene": "s"}


def test_a_missing_output_is_output_missing(client: ComfyUIClient) -> None:
    with pytest.raises(OutputMissing, match=r"nope\.png"):
        client.view("nope.png", "", "output")


def test_a_rejected_workflow_names_node_class_and_input(client: ComfyUIClient) -> None:
    graph = still_graph()
    del graph["2"]["inputs"]["width"]
    graph["2"]["inputs"]["upscale_method"] = "sinc"
    with pytest.raises(WorkflowRejected) as raised:
        client.submit(graph, client_id="c1")
    error = raised.value
    assert error.status == 400 and error.error_type == "prompt_outputs_failed_validation"
    assert {(p.node_id, p.class_type, p.input_name, p.type) for p in error.problems} == {
        ("2", "ImageScale", "width", "required_input_missing"),
        ("2", "ImageScale", "upscale_method", "value_not_in_list"),
    }
    assert "node 2 (ImageScale) input 'upscale_method'" in str(error)
    assert isinstance(error, PermanentBackendError) and isinstance(error, TrulienceError)


def test_an_unknown_class_is_located_from_the_error_details(client: ComfyUIClient) -> None:
    graph = still_graph()
    graph["9"] = {"class_type": "NoSuchNode", "inputs": {}}
    with pytest.raises(WorkflowRejected) as raised:
        client.submit(graph, client_id="c1")
    (problem,) = raised.value.problems
    assert (problem.node_id, problem.class_type, problem.type) == (
        "9",
        "NoSuchNode",
        "invalid_prompt",
    )
    assert "NoSuchNode does not exist" in problem.message


def test_a_dangling_link_is_reported_without_the_server_traceback(client: ComfyUIClient) -> None:
    graph = still_graph()
    graph["3"]["inputs"]["images"] = ["42", 0]
    with pytest.raises(WorkflowRejected) as raised:
        client.submit(graph, client_id="c1")
    (problem,) = raised.value.problems
    assert (problem.node_id, problem.type) == ("3", "exception_during_validation")
    assert "KeyError" in problem.message and "Traceback" not in str(raised.value)


def test_partial_acceptance_is_refused_and_the_valid_part_cancelled(
    client: ComfyUIClient, fake: FakeComfyUI
) -> None:
    fake.slow(0.3)
    graph = still_graph(width=41)  # not cached by an earlier test: it must really run
    graph["4"] = {
        "class_type": "ImageScale",
        "inputs": {
            "image": ["1", 0],
            "upscale_method": "bilinear",
            "width": 99999,
            "height": 8,
            "crop": "disabled",
        },
    }
    graph["5"] = {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "p"}}
    before = len(fake.submissions)
    with pytest.raises(WorkflowRejected) as raised:
        client.submit(graph, client_id="c1")
    error = raised.value
    assert error.error_type == "partial_acceptance" and error.status == 200
    assert [(p.node_id, p.input_name, p.type) for p in error.problems] == [
        ("4", "width", "value_bigger_than_max")
    ]
    assert len(fake.submissions) == before + 1 and error.prompt_id
    entry = HistoryEntry.parse(error.prompt_id, wait_for_history(client, error.prompt_id))
    assert entry.outcome == "interrupted"  # the valid output never finished
    assert client.queue().position(error.prompt_id) is None


def test_a_full_queue_is_transient(client: ComfyUIClient, fake: FakeComfyUI) -> None:
    fake.queue_limit(0)
    with pytest.raises(WorkerUnavailable, match="503"):
        client.submit(still_graph(), client_id="c1")


def test_a_ui_format_graph_is_never_sent(client: ComfyUIClient, fake: FakeComfyUI) -> None:
    before = len(fake.submissions)
    with pytest.raises(PermanentBackendError, match="Export \\(API\\)"):
        client.submit({"nodes": [], "links": [], "version": 0.4}, client_id="c1")
    assert len(fake.submissions) == before


# -- queue control ------------------------------------------------------------------------


def test_queue_is_sorted_by_number_and_can_be_deleted_and_interrupted(
    client: ComfyUIClient, fake: FakeComfyUI
) -> None:
    fake.slow(0.4)
    running = client.submit(still_graph(width=33), client_id="q").prompt_id
    later = [client.submit(still_graph(width=34 + i), client_id="q").prompt_id for i in range(3)]
    front = client.submit(still_graph(width=40), client_id="q", front=True).prompt_id
    queue = client.queue()
    assert [e.prompt_id for e in queue.running] == [running]
    assert [e.prompt_id for e in queue.pending] == [front, *later]
    assert queue.pending[0].number < 0
    assert queue.position(running) == 0 and queue.position(later[0]) == 2
    assert later[1] in queue and "unknown" not in queue

    client.delete_from_queue([later[1], front])
    client.cancel(later[2])
    client.interrupt(running)
    assert [e.prompt_id for e in client.queue().pending] == [later[0]]
    assert HistoryEntry.parse(running, wait_for_history(client, running)).outcome == "interrupted"
    client.delete_from_queue([later[0]])
    client.free(unload_models=True, free_memory=True)
    assert client.queue().pending == ()


# -- unreachable workers --------------------------------------------------------------------


def test_a_dead_worker_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ComfyUIClient(f"http://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(WorkerUnavailable, match="cannot connect"):
        client.queue()


def test_a_worker_that_never_answers_times_out_as_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts into the backlog, never answers
        client = ComfyUIClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(WorkerUnavailable, match=r"no answer within 0\.3 s"):
            client.system_stats()
        assert time.monotonic() - started < 3


# -- the WebSocket ----------------------------------------------------------------------------


def test_a_socket_follows_one_prompt_and_tolerates_binary_frames(
    client: ComfyUIClient, fake: FakeComfyUI
) -> None:
    graph = still_graph(width=48)
    graph["4"] = {"class_type": "GetImageSize", "inputs": {"image": ["2", 0]}}
    graph["5"] = {
        "class_type": "EmptyImage",
        "inputs": {"width": ["4", 0], "height": ["4", 1], "batch_size": 1, "color": 0},
    }
    graph["6"] = {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "e"}}
    updates = []
    with PromptSocket(client.ws_url("follower")) as ws:
        prompt_id = client.submit(graph, client_id="follower").prompt_id
        tracker = ws.follow(
            PromptTracker(prompt_id),
            deadline=time.monotonic() + 10,
            idle_timeout_s=5,
            on_progress=updates.append,
        )
    assert tracker.done and tracker.outcome == "success"
    assert set(tracker.executed) == {"3", "6"}
    assert {"1", "2", "4", "5"} <= set(tracker.ran)
    assert [u.event for u in updates][:2] == ["started", "cached"]
    assert any(u.event == "executing" and u.node == "4" for u in updates)


def test_a_closed_socket_is_reported_as_lost(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    from trulience.generation.comfyui.socket import SocketLost

    fake.slow(0.2)
    with PromptSocket(client.ws_url("dropper"), ping_interval_s=0.2, ping_timeout_s=0.5) as ws:
        prompt_id = client.submit(still_graph(width=50), client_id="dropper").prompt_id
        fake.drop_socket_after(2)
        with pytest.raises(SocketLost):
            ws.follow(PromptTracker(prompt_id), deadline=time.monotonic() + 10, idle_timeout_s=5)
        assert ws.connection is None
    wait_for_history(client, prompt_id)


def test_binary_frames_are_parsed_by_type() -> None:
    image = png()
    assert parse_binary(struct.pack(">II", 1, 2) + image) == Preview("image/png", image)
    node = b"7"
    text = parse_binary(struct.pack(">II", 3, len(node)) + node + b"width: 256")
    assert text == NodeText("7", "width: 256")
    meta = json.dumps({"node_id": "4", "prompt_id": "p", "image_type": "image/png"}).encode()
    preview = parse_binary(struct.pack(">II", 4, len(meta)) + meta + image)
    assert preview == Preview("image/png", image, node_id="4", prompt_id="p")
    assert parse_binary(struct.pack(">II", 99, 0)) is None
    assert parse_binary(b"\x00\x00") is None


# -- captured traffic -----------------------------------------------------------------------


def transcript(path: str, key: str | None = None) -> list[dict]:
    data = json.loads((CAPTURES / path).read_text())
    if key is not None:
        data = data[key]
    return [m["json"] for m in data["messages"] if m.get("kind") == "text"]


def capture_json(path: str, *keys: str) -> dict:
    data = json.loads((CAPTURES / path).read_text())
    for key in keys:
        data = data[key]
    return data["response"]["body"]["json"]


@needs_captures
def test_the_tracker_reads_a_captured_successful_run() -> None:
    prompt_id = "042c1bfa-cdb7-428a-96eb-9197a27a9c42"
    tracker = PromptTracker(prompt_id)
    updates = [
        u
        for m in transcript("runs/success/ws_transcript_submitting_client.json")
        if (u := tracker.feed(m))
    ]
    assert tracker.done and tracker.outcome == "success"
    assert tracker.ran == ["1", "2", "3", "13", "4", "5", "6", "7", "8", "9", "12", "10", "11"]
    assert set(tracker.executed) == {"5", "11", "12", "13"}
    assert tracker.executed["11"]["animated"] == [True]
    assert tracker.started_ms == 1795483703836 and tracker.finished_ms == 1795483704244
    assert updates[-1].event == "executed" and updates[-1].nodes_started == 13


@needs_captures
def test_after_a_reconnect_the_bare_executing_message_belongs_to_the_running_prompt() -> None:
    messages = transcript("runs/sockets/b_reconnect_mid_run.json", "second_socket")
    assert messages[1] == {"type": "executing", "data": {"node": "3"}}
    tracker = PromptTracker("a81f8d1a-ef66-4083-b3dc-14453dcd91da")
    first = tracker.feed(messages[0]), tracker.feed(messages[1])
    assert first[1].event == "executing" and first[1].node == "3"
    assert tracker.started and tracker.current_node == "3"
    for message in messages[2:]:
        tracker.feed(message)
    assert tracker.done and tracker.outcome is not None


@needs_captures
def test_the_tracker_reads_a_captured_runtime_error() -> None:
    capture = "errors/runtime/savevideo_h264_odd_dimensions.json"
    tracker = PromptTracker("3b09558b-0e29-46c7-b769-2a18e9e5ce74")
    for message in transcript(capture, "ws_transcript"):
        tracker.feed(message)
    assert tracker.done and tracker.outcome == "error"
    assert (tracker.error["node_id"], tracker.error["node_type"]) == ("6", "SaveVideo")


@needs_captures
def test_the_tracker_ignores_other_prompts_on_a_shared_client_id() -> None:
    messages = transcript("runs/queue_interrupt/partA_ws_client.json")
    ids = json.loads((CAPTURES / "runs/queue_interrupt/partA_ws_client.json").read_text())["ids"]
    interrupted = PromptTracker(ids["L1"])
    later = PromptTracker(ids["T2"])
    for message in messages:
        interrupted.feed(message)
        later.feed(message)
    assert interrupted.outcome == "interrupted" and interrupted.interrupted["node_id"] == "4"
    assert later.done and later.outcome == "success"


@needs_captures
def test_history_entries_tell_success_error_and_interruption_apart() -> None:
    prompt_id = "042c1bfa-cdb7-428a-96eb-9197a27a9c42"
    raw = capture_json("runs/success/history_prompt_id.json")[prompt_id]
    success = HistoryEntry.parse(prompt_id, raw)
    assert success.outcome == "success" and success.number == 0
    assert success.compute_s == pytest.approx(0.408)
    (video,) = success.files("11")
    assert (video.filename, video.subfolder, video.animated) == ("clip_00001_.mp4", "proto", True)
    assert success.cached_nodes == ()

    prompt_id = "3b09558b-0e29-46c7-b769-2a18e9e5ce74"
    raw = capture_json("errors/runtime/savevideo_h264_odd_dimensions.json", "history")[prompt_id]
    failed = HistoryEntry.parse(prompt_id, raw)
    # The still saved before the failure is listed, yet the prompt failed.
    assert failed.files("3") and failed.outcome == "error"
    assert failed.message("execution_error")["node_type"] == "SaveVideo"

    prompt_id = "12736aa1-1fff-483d-bf4a-72084887b7d9"
    raw = capture_json("runs/queue_interrupt/partA_http.json", "history_L1")[prompt_id]
    assert HistoryEntry.parse(prompt_id, raw).outcome == "interrupted"


def test_a_background_interrupt_reaches_a_running_prompt(
    client: ComfyUIClient, fake: FakeComfyUI
) -> None:
    fake.slow(0.3)
    prompt_id = client.submit(still_graph(width=60), client_id="x").prompt_id
    threading.Timer(0.1, client.interrupt).start()  # a global interrupt, as an operator sends
    assert HistoryEntry.parse(prompt_id, wait_for_history(client, prompt_id)).outcome == (
        "interrupted"
    )


def test_a_connection_that_stops_answering_pings_is_lost() -> None:
    """The server never pings; our pings find a peer that went silent (a dead host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    release = threading.Event()

    def serve_then_go_silent() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = re.search(rb"Sec-WebSocket-Key: *(\S+)", request, re.IGNORECASE).group(1)
            accept = hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + base64.b64encode(accept)
                + b"\r\n\r\n"
            )
            status = b'{"type": "status", "data": {"status": {}, "sid": "x"}}'
            conn.sendall(bytes([0x81, len(status)]) + status)
            release.wait(10)  # reads nothing, answers no ping

    server = threading.Thread(target=serve_then_go_silent, daemon=True)
    server.start()
    from trulience.generation.comfyui.socket import SocketLost

    url = f"ws://127.0.0.1:{listener.getsockname()[1]}/ws?clientId=x"
    try:
        with PromptSocket(url, ping_interval_s=0.2, ping_timeout_s=0.3, close_timeout_s=0.2) as ws:
            started = time.monotonic()
            with pytest.raises(SocketLost):
                ws.follow(PromptTracker("p"), deadline=started + 10, idle_timeout_s=10)
            assert time.monotonic() - started < 2
    finally:
        release.set()
        server.join(5)
        listener.close()
