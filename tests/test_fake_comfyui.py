"""The fake ComfyUI answers like the real one did in the captured transcripts.

Each test replays a capture from tests/data/comfyui/captures (see PROTOCOL.md there)
against tests.fakes.comfyui.FakeComfyUI with plain urllib / aiohttp calls, and compares
status codes, body shapes and WebSocket message order; ids, numbers and timestamps are
compared by type only.
"""

import asyncio
import io
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from PIL import Image

from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.comfyui_nodes import animatic_frames, to_uint8

# recorded from a real ComfyUI 0.3.64 server (tests/data/comfyui/PROTOCOL.md)
CAPTURES = Path(__file__).resolve().parent / "data" / "comfyui" / "captures"
VOLATILE = {"prompt_id", "number", "timestamp"}


# --- helpers --------------------------------------------------------------------------------------


def captured(relative: str) -> Any:
    """A capture file, or skip when the captures are not on this machine."""
    path = CAPTURES / relative
    if not path.exists():
        pytest.skip(f"capture {relative} not available")
    return json.loads(path.read_text())


def portrait_png(width: int, height: int) -> bytes:
    """A smooth synthetic "face": gradients and an ellipse, so video coding stays close."""
    ys, xs = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    face = ((xs - 0.5) / 0.3) ** 2 + ((ys - 0.45) / 0.4) ** 2 < 1
    pixels = np.stack([0.2 + 0.6 * xs, 0.3 + 0.4 * ys, 0.5 + 0.3 * face], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray((pixels * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A noisy RGB test image, so scaling and blending have something to work on."""
    pixels = (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def http(
    server: FakeComfyUI,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One urllib request: (status, headers, body), error statuses included."""
    headers = dict(headers or {})
    data = None
    if raw is not None:
        data = raw.encode()
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(server: FakeComfyUI, path: str) -> Any:
    status, _, body = http(server, "GET", path)
    assert status == 200
    return json.loads(body)


def post_prompt(server: FakeComfyUI, body: dict[str, Any]) -> dict[str, Any]:
    status, _, answer = http(server, "POST", "/prompt", body)
    assert status == 200, answer
    return json.loads(answer)


def wait_history(server: FakeComfyUI, prompt_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """Poll GET /history/<id> until the entry appears (how a client without a socket waits)."""
    return asyncio.run(_wait_history(server, prompt_id, timeout))


async def _wait_history(server: FakeComfyUI, prompt_id: str, timeout: float) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(timeout):
            while True:
                async with session.get(f"{server.url}/history/{prompt_id}") as response:
                    entry = await response.json()
                if prompt_id in entry:
                    return entry[prompt_id]
                await asyncio.sleep(0.02)


def normalized(value: Any) -> Any:
    """Replace ids, numbers, timestamps and tracebacks by their kind, recursively."""
    if isinstance(value, dict):
        return {k: _normalized_field(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def _normalized_field(key: str, value: Any) -> Any:
    if key == "traceback":  # a list of server frames live, "[removed...]" in the captures
        return "<traceback>"
    if key in VOLATILE:
        return f"<{type(value).__name__}>"
    return normalized(value)


def frame_kind(message: aiohttp.WSMessage) -> str:
    if message.type == aiohttp.WSMsgType.BINARY:
        return f"binary:{int.from_bytes(message.data[:4], 'big')}"
    return json.loads(message.data)["type"]


def captured_kinds(transcript: dict[str, Any]) -> list[str]:
    kinds = []
    for m in transcript["messages"]:
        if m["dir"] == "server->client" and m["kind"] == "binary":
            kinds.append(f"binary:{m['binary']['event_type_u32be']}")
        elif m["dir"] == "server->client":
            kinds.append(m["json"]["type"])
    return kinds


async def read_until_done(
    ws: aiohttp.ClientWebSocketResponse, prompt_id: str, timeout: float = 20.0
) -> list[aiohttp.WSMessage]:
    """Frames up to and including executing {node: null} for this prompt."""
    frames = []
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            assert message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), message
            frames.append(message)
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if data == {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}}:
                    return frames


async def drain(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.3) -> list[str]:
    """Kinds of whatever arrives until the socket stays quiet for `quiet` seconds."""
    kinds = []
    while True:
        try:
            message = await ws.receive(timeout=quiet)
        except TimeoutError:
            return kinds
        if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return kinds
        kinds.append(frame_kind(message))


def texts(frames: list[aiohttp.WSMessage]) -> list[dict[str, Any]]:
    return [json.loads(f.data) for f in frames if f.type == aiohttp.WSMsgType.TEXT]


def run(scenario: Callable[[aiohttp.ClientSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with aiohttp.ClientSession() as session:
            return await scenario(session)

    return asyncio.run(main())


def still_graph(width: int, prefix: str = "t/img") -> dict[str, Any]:
    """LoadImage -> ImageScale -> SaveImage, the small graph of the queue captures."""
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": "astronaut.png"}},
        "2": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["1", 0],
                "upscale_method": "nearest-exact",
                "width": width,
                "height": width,
                "crop": "disabled",
            },
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


@pytest.fixture
def comfy() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        server.add_input("astronaut.png", png_bytes(96, 80))
        yield server


# --- plain GETs -----------------------------------------------------------------------------------


def test_gets_answer_with_the_captured_shapes(comfy: FakeComfyUI) -> None:
    stats = captured("get/system_stats.json")["response"]["body"]["json"]
    ours = get_json(comfy, "/system_stats")
    assert ours.keys() == stats.keys()
    assert ours["system"].keys() == stats["system"].keys()
    assert ours["system"]["comfyui_version"] == "0.3.64"
    assert ours["devices"][0].keys() == stats["devices"][0].keys()
    assert ours["devices"][0]["type"] == "cpu" and ours["devices"][0]["index"] is None
    assert get_json(comfy, "/api/system_stats").keys() == stats.keys()
    for name, path in [
        ("features", "/features"),
        ("queue_idle", "/queue"),
        ("prompt_get_idle", "/prompt"),
        ("embeddings", "/embeddings"),
        ("models", "/models"),
        ("models_checkpoints", "/models/checkpoints"),
        ("history_empty", "/history"),
        ("history_unknown_id", "/history/00000000-0000-0000-0000-000000000000"),
        ("object_info_unknown_node", "/object_info/NoSuchNode"),
    ]:
        assert get_json(comfy, path) == captured(f"get/{name}.json")["response"]["body"]["json"]


def test_model_folders_list_what_the_test_configures(comfy: FakeComfyUI) -> None:
    comfy.set_models("checkpoints", ["sdxl.safetensors"])
    assert get_json(comfy, "/models/checkpoints") == ["sdxl.safetensors"]
    comfy.set_models("checkpoints", [])
    assert get_json(comfy, "/models/checkpoints") == []
    assert http(comfy, "GET", "/models/no_such_folder")[0] == 404


def test_object_info_serves_the_captured_definitions(comfy: FakeComfyUI) -> None:
    everything = get_json(comfy, "/object_info")
    for capture in sorted((CAPTURES / "object_info").glob("*.json")):
        name = capture.stem
        if name in ("ALL_NODE_NAMES", "combo_style_survey", "LoadImage_after_uploads"):
            continue
        if name not in everything:
            continue  # a captured node the fake does not implement (SaveAnimatedWEBP)
        expected = json.loads(capture.read_text())["response"]["body"]["json"]
        ours = get_json(comfy, f"/object_info/{name}")
        if name == "LoadImage":  # the enum is the input folder's current listing
            expected["LoadImage"]["input"]["required"]["image"][0] = ["astronaut.png"]
        assert ours == expected, name
    assert "TrulienceAnimatic" in everything
    assert "ImageFromBatch" in everything


def test_loadimage_lists_top_level_files_but_accepts_subfolder_paths(comfy: FakeComfyUI) -> None:
    comfy.add_input("astronaut.png", png_bytes(64, 64), subfolder="jobs/run42")
    listed = get_json(comfy, "/object_info/LoadImage")["LoadImage"]["input"]["required"]["image"]
    assert listed[0] == ["astronaut.png"]
    for value in ("jobs/run42/astronaut.png", "astronaut.png [input]"):
        graph = still_graph(40)
        graph["1"]["inputs"]["image"] = value
        answer = post_prompt(comfy, {"prompt": graph})
        assert wait_history(comfy, answer["prompt_id"])["status"]["status_str"] == "success"


# --- POST /prompt validation ----------------------------------------------------------------------

VALIDATION_CASES = [
    "bad_enum_value",
    "client_supplied_prompt_id",
    "cross_origin_post",
    "empty_body",
    "extra_unknown_input_ignored",
    "int_above_max",
    "int_below_min",
    "int_given_float",
    "int_given_non_numeric_string",
    "json_array_body",
    "link_to_nonexistent_node",
    "link_to_nonexistent_output_slot",
    "link_type_mismatch_IMAGE_to_VIDEO",
    "loadimage_missing_file",
    "malformed_json",
    "missing_required_input",
    "no_output_nodes",
    "no_prompt_key",
    "node_without_class_type",
    "partial_dangling_link_plus_valid_output",
    "partial_one_output_valid_one_invalid",
    "prompt_id_non_uuid_int",
    "prompt_is_empty_object",
    "prompt_is_list",
    "same_origin_post",
    "unknown_class_type",
    "valid_json_text_plain_content_type",
]


@pytest.mark.parametrize("case", VALIDATION_CASES)
def test_post_prompt_answers_like_the_captured_server(comfy: FakeComfyUI, case: str) -> None:
    exchange = captured(f"errors/validation/{case}.json")
    request, expected = exchange["request"], exchange["response"]
    headers = {
        k: v.replace(":8188", f":{comfy.port}") for k, v in request.get("headers", {}).items()
    }
    if "json" in request:
        status, got_headers, body = http(comfy, "POST", "/prompt", request["json"])
    else:
        status, got_headers, body = http(
            comfy, "POST", "/prompt", raw=request["raw_body"], headers=headers
        )
    assert status == expected["status"]
    kind = expected["body"]["kind"]
    if kind == "empty":
        assert body == b""
    elif kind == "text":
        assert got_headers["Content-Type"].startswith("text/plain")
        assert body.decode() == expected["body"]["text"]
    else:
        assert got_headers["Content-Type"] == "application/json; charset=utf-8"
        assert normalized(json.loads(body)) == normalized(expected["body"]["json"])


def test_partial_acceptance_runs_only_the_valid_outputs(comfy: FakeComfyUI) -> None:
    request = captured("errors/validation/partial_one_output_valid_one_invalid.json")["request"]
    answer = post_prompt(comfy, request["json"])
    assert answer["node_errors"]["5"]["dependent_outputs"] == ["6"]
    entry = wait_history(comfy, answer["prompt_id"])
    assert entry["status"]["status_str"] == "success"
    assert sorted(entry["outputs"]) == ["3", "4"]  # node 6 was skipped without a word
    assert entry["prompt"][4] == ["3", "4"]


def test_numbers_count_every_json_post_and_front_goes_negative(comfy: FakeComfyUI) -> None:
    assert post_prompt(comfy, {"prompt": still_graph(40)})["number"] == 0
    assert http(comfy, "POST", "/prompt", {"client_id": "x"})[0] == 400  # no_prompt, counted
    assert post_prompt(comfy, {"prompt": still_graph(41), "front": True})["number"] == -2
    again = post_prompt(comfy, {"prompt": still_graph(42), "prompt_id": "run-1"})
    assert again == {"prompt_id": "run-1", "number": 3, "node_errors": {}}
    assert len(comfy.submissions) == 3


def test_a_reused_prompt_id_runs_again_and_replaces_its_history(comfy: FakeComfyUI) -> None:
    first = post_prompt(comfy, {"prompt": still_graph(40), "prompt_id": "platform-run-0001"})
    wait_history(comfy, "platform-run-0001")
    second = post_prompt(comfy, {"prompt": still_graph(44), "prompt_id": "platform-run-0001"})
    assert first["prompt_id"] == second["prompt_id"]
    run(lambda s: _wait_number(comfy, "platform-run-0001", second["number"]))
    assert len(get_json(comfy, "/history")) == 1


async def _wait_number(server: FakeComfyUI, prompt_id: str, number: int) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(10):
        while True:
            async with session.get(f"{server.url}/history/{prompt_id}") as response:
                entry = (await response.json()).get(prompt_id)
            if entry and entry["prompt"][0] == number:
                return
            await asyncio.sleep(0.02)


# --- the main run and who hears about it ----------------------------------------------------------


def test_success_run_streams_the_captured_sequence(comfy: FakeComfyUI) -> None:
    base = "runs/success"
    request = captured(f"{base}/post_prompt.json")["request"]["json"]
    client = captured(f"{base}/ws_transcript_submitting_client.json")
    observer = captured(f"{base}/ws_transcript_observer_other_client.json")
    anonymous = captured(f"{base}/ws_transcript_no_clientId.json")
    history = captured(f"{base}/history_prompt_id.json")["response"]["body"]["json"]
    comfy.add_input("astronaut.png", png_bytes(512, 512))

    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=submitter")
        watcher = await session.ws_connect(f"{comfy.ws_url}?clientId=someone-else")
        nameless = await session.ws_connect(comfy.ws_url)
        await ws.receive()  # its own initial status
        first = json.loads((await nameless.receive()).data)
        assert first["type"] == "status" and len(first["data"]["sid"]) == 32
        async with session.post(
            f"{comfy.url}/prompt", json={**request, "client_id": "submitter"}
        ) as response:
            prompt_id = (await response.json())["prompt_id"]
        frames = await read_until_done(ws, prompt_id)
        assert [frame_kind(f) for f in frames] == captured_kinds(client)[1:]
        executing = [m["data"]["node"] for m in texts(frames) if m["type"] == "executing"]
        # Output nodes as soon as they can run, then their feeders: ComfyUI's order.
        order = ["1", "2", "3", "13", "4", "5", "6", "7", "8", "9", "12", "10", "11"]
        assert executing == [*order, None]
        assert await drain(watcher) == captured_kinds(observer)
        assert ["status", *await drain(nameless)] == captured_kinds(anonymous)

        async with session.get(f"{comfy.url}/history/{prompt_id}") as response:
            entry = (await response.json())[prompt_id]
        (expected,) = history.values()
        assert entry.keys() == expected.keys()
        assert entry["status"]["status_str"] == "success" and entry["status"]["completed"]
        assert [m[0] for m in entry["status"]["messages"]] == [
            m[0] for m in expected["status"]["messages"]
        ]
        assert entry["meta"] == expected["meta"]
        ours = {k: v for k, v in entry["outputs"].items() if k != "13"}
        assert ours == {k: v for k, v in expected["outputs"].items() if k != "13"}
        assert entry["outputs"]["13"]["images"][0]["type"] == "temp"
        await check_views(session, comfy.url, entry["outputs"])

    run(scenario)
    with av.open(str(comfy.output_dir / "proto" / "clip_00001_.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (stream.width, stream.height, stream.average_rate) == (256, 256, 8)
        assert sum(1 for _ in container.decode(video=0)) == 16


async def check_views(session: aiohttp.ClientSession, base: str, outputs: dict[str, Any]) -> None:
    """Every output can be fetched with /view, with the captured content types and Range."""
    views = captured("runs/success/view_outputs.json")["outputs"]
    content_types = {
        Path(v["item"]["filename"]).suffix: v["headers"]["Content-Type"] for v in views
    }
    for output in outputs.values():
        item = output["images"][0]
        url = base + "/view?filename={filename}&subfolder={subfolder}&type={type}".format(**item)
        async with session.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == content_types[Path(item["filename"]).suffix]
            assert response.headers["Content-Disposition"] == f'filename="{item["filename"]}"'
        async with session.get(url, headers={"Range": "bytes=0-99"}) as response:
            assert response.status == 206 and len(await response.read()) == 100


def test_a_prompt_without_client_id_sends_no_node_messages(comfy: FakeComfyUI) -> None:
    async def scenario(session: aiohttp.ClientSession) -> None:
        watcher = await session.ws_connect(f"{comfy.ws_url}?clientId=observer")
        await watcher.receive()
        async with session.post(f"{comfy.url}/prompt", json={"prompt": still_graph(72)}) as r:
            prompt_id = (await r.json())["prompt_id"]
        assert await drain(watcher) == ["status", "status", "status"]
        return prompt_id

    prompt_id = run(scenario)
    assert wait_history(comfy, prompt_id)["prompt"][3] == {}


def test_a_late_socket_gets_only_its_status(comfy: FakeComfyUI) -> None:
    prompt_id = post_prompt(comfy, {"prompt": still_graph(40), "client_id": "late"})["prompt_id"]
    wait_history(comfy, prompt_id)

    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=late")
        first = json.loads((await ws.receive()).data)
        assert first == {
            "type": "status",
            "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "late"},
        }
        assert await drain(ws) == []

    run(scenario)


def test_reconnect_mid_run_gets_a_bare_executing_then_the_rest(comfy: FakeComfyUI) -> None:
    comfy.slow(0.3)

    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=flaky")
        await ws.receive()
        body = {"prompt": still_graph(40), "client_id": "flaky"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        while json.loads((await ws.receive()).data) != {
            "type": "executing",
            "data": {"node": "2", "display_node": "2", "prompt_id": prompt_id},
        }:
            pass
        await ws.close()
        again = await session.ws_connect(f"{comfy.ws_url}?clientId=flaky")
        assert json.loads((await again.receive()).data)["data"]["sid"] == "flaky"
        assert json.loads((await again.receive()).data) == {
            "type": "executing",
            "data": {"node": "2"},
        }
        rest = texts(await read_until_done(again, prompt_id))
        assert [m["type"] for m in rest][-3:] == ["execution_success", "status", "executing"]

    run(scenario)


def test_a_second_socket_with_the_same_client_id_silences_the_first(comfy: FakeComfyUI) -> None:
    async def scenario(session: aiohttp.ClientSession) -> None:
        older = await session.ws_connect(f"{comfy.ws_url}?clientId=twin")
        await older.receive()
        newer = await session.ws_connect(f"{comfy.ws_url}?clientId=twin")
        await newer.receive()
        body = {"prompt": still_graph(40), "client_id": "twin"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        await read_until_done(newer, prompt_id)
        assert await drain(older) == [] and not older.closed

    run(scenario)


def test_feature_flags_are_answered_after_the_initial_status(comfy: FakeComfyUI) -> None:
    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.url}/api/ws?clientId=flags")
        await ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": True}})
        assert json.loads((await ws.receive()).data)["type"] == "status"
        reply = json.loads((await ws.receive()).data)
        assert reply == {
            "type": "feature_flags",
            "data": {"supports_preview_metadata": True, "max_upload_size": 104857600},
        }

    run(scenario)


# --- uploads and /view ----------------------------------------------------------------------------


def upload(server: FakeComfyUI, fields: dict[str, Any]) -> tuple[int, bytes]:
    async def scenario(session: aiohttp.ClientSession) -> tuple[int, bytes]:
        form = aiohttp.FormData()
        for name, value in fields.items():
            if isinstance(value, tuple):
                form.add_field(name, value[1], filename=value[0], content_type="image/png")
            else:
                form.add_field(name, value)
        async with session.post(f"{server.url}/upload/image", data=form) as response:
            return response.status, await response.read()

    return run(scenario)


def test_uploads_keep_rename_or_overwrite_by_content(comfy: FakeComfyUI) -> None:
    big, small = png_bytes(64, 64, seed=1), png_bytes(32, 32, seed=2)
    answers = [
        upload(comfy, {"image": ("a.png", big)}),
        upload(comfy, {"image": ("a.png", big)}),
        upload(comfy, {"image": ("a.png", small)}),
        upload(comfy, {"image": ("a.png", small), "overwrite": "true"}),
        upload(comfy, {"image": ("a.png", big), "type": "input", "subfolder": "jobs/run42"}),
        upload(comfy, {"image": ("t.png", big), "type": "temp"}),
    ]
    assert [(s, json.loads(b)) for s, b in answers] == [
        (200, {"name": "a.png", "subfolder": "", "type": "input"}),
        (200, {"name": "a.png", "subfolder": "", "type": "input"}),
        (200, {"name": "a (1).png", "subfolder": "", "type": "input"}),
        (200, {"name": "a.png", "subfolder": "", "type": "input"}),
        (200, {"name": "a.png", "subfolder": "jobs/run42", "type": "input"}),
        (200, {"name": "t.png", "subfolder": "", "type": "temp"}),
    ]
    assert (comfy.input_dir / "a.png").read_bytes() == small
    assert upload(comfy, {"image": ("a.png", big), "subfolder": "../escape"}) == (400, b"")
    assert upload(comfy, {"notimage": "x"}) == (400, b"")


def test_view_failures_match_the_captures(comfy: FakeComfyUI) -> None:
    for name in ("view_missing_file", "view_traversal", "view_bad_type"):
        exchange = captured(f"get/{name}.json")
        status, _, body = http(comfy, "GET", exchange["request"]["path"])
        assert (status, body) == (exchange["response"]["status"], b"")
    assert http(comfy, "GET", "/view?filename=a.png&subfolder=../..&type=input")[0] == 403


# --- interrupt, queue, restart --------------------------------------------------------------------


def captured_interrupt_message() -> dict[str, Any]:
    history = captured("runs/queue_interrupt/partA_http.json")["history_L1"]
    (entry,) = history["response"]["body"]["json"].values()
    event, data = entry["status"]["messages"][-1]
    assert event == "execution_interrupted"
    return data


def test_interrupt_lands_at_the_next_node_boundary(comfy: FakeComfyUI) -> None:
    comfy.slow(0.4)
    graph = still_graph(40)
    graph["4"] = {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}}
    graph["3"]["inputs"]["images"] = ["4", 0]

    async def scenario(session: aiohttp.ClientSession) -> str:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=stopper")
        await ws.receive()
        body = {"prompt": graph, "client_id": "stopper"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        while json.loads((await ws.receive()).data)["type"] != "executing":
            pass
        async with session.post(f"{comfy.url}/interrupt", json={"prompt_id": "not-running"}):
            pass
        async with session.post(f"{comfy.url}/interrupt", json={"prompt_id": prompt_id}) as r:
            assert r.status == 200 and await r.read() == b""
        tail = [
            m for m in texts(await read_until_done(ws, prompt_id)) if m["type"] != "progress_state"
        ]
        assert [m["type"] for m in tail] == [
            "executing",
            "execution_interrupted",
            "status",
            "executing",
        ]
        assert tail[1]["data"]["node_id"] == tail[0]["data"]["node"] == "2"
        assert tail[1]["data"]["executed"] == ["1"]
        assert tail[1]["data"].keys() == captured_interrupt_message().keys()
        return prompt_id

    entry = wait_history(comfy, run(scenario))
    assert entry["status"]["status_str"] == "error" and not entry["status"]["completed"]
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert entry["outputs"] == {}


@pytest.mark.parametrize("target", ["global", "by_id"])
def test_an_interrupt_sent_during_the_last_node_is_lost(comfy: FakeComfyUI, target: str) -> None:
    """The flag is checked only before a node starts and cleared when the next prompt
    starts: sent while the last node runs, it stops nothing (ComfyUI's own behaviour)."""
    comfy.slow(0.6, "SaveImage")

    async def scenario(session: aiohttp.ClientSession) -> str:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=late-stop")
        await ws.receive()
        body = {"prompt": still_graph(40), "client_id": "late-stop"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        last = {
            "type": "executing",
            "data": {"node": "3", "display_node": "3", "prompt_id": prompt_id},
        }
        while json.loads((await ws.receive()).data) != last:
            pass
        interrupt = {} if target == "global" else {"prompt_id": prompt_id}
        async with session.post(f"{comfy.url}/interrupt", json=interrupt) as r:
            assert r.status == 200
        kinds = [m["type"] for m in texts(await read_until_done(ws, prompt_id))]
        assert "execution_interrupted" not in kinds and "execution_success" in kinds
        return prompt_id

    entry = wait_history(comfy, run(scenario))
    assert entry["status"]["status_str"] == "success"
    # the lost flag does not linger into the next prompt either
    following = post_prompt(comfy, {"prompt": still_graph(41)})["prompt_id"]
    assert wait_history(comfy, following)["status"]["status_str"] == "success"


def test_an_interrupt_by_id_of_a_queued_prompt_does_nothing(comfy: FakeComfyUI) -> None:
    comfy.slow(0.2)
    running = post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"]
    queued = post_prompt(comfy, {"prompt": still_graph(41)})["prompt_id"]
    assert http(comfy, "POST", "/interrupt", {"prompt_id": queued})[:1] == (200,)
    assert wait_history(comfy, running)["status"]["status_str"] == "success"
    assert wait_history(comfy, queued)["status"]["status_str"] == "success"


def test_the_second_socket_fault_takes_over_the_submitters_client_id(
    comfy: FakeComfyUI,
) -> None:
    comfy.second_socket_on_next_prompt()

    async def scenario(session: aiohttp.ClientSession) -> str:
        ours = await session.ws_connect(f"{comfy.ws_url}?clientId=ours")
        await ours.receive()
        body = {"prompt": still_graph(40), "client_id": "ours"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        wait = asyncio.get_running_loop().run_in_executor(None, wait_history, comfy, prompt_id)
        await wait
        heard = await drain(ours)
        assert "execution_start" not in heard and "executing" not in heard
        assert not ours.closed
        return prompt_id

    run(scenario)
    stolen = [json.loads(f)["type"] for f in comfy.interloper_frames if isinstance(f, str)]
    # (its own status frame was read when it connected)
    assert stolen[0] == "execution_start" and "execution_success" in stolen
    assert stolen[-1] == "executing"


def test_queue_runs_by_number_and_deleted_prompts_vanish(comfy: FakeComfyUI) -> None:
    comfy.slow(0.15)
    long = post_prompt(comfy, {"prompt": still_graph(40)})
    ids = [post_prompt(comfy, {"prompt": still_graph(41 + i)})["prompt_id"] for i in range(3)]
    front = post_prompt(comfy, {"prompt": still_graph(50), "front": True})
    assert front["number"] == -4
    queue = get_json(comfy, "/queue")
    assert [entry[0] for entry in queue["queue_pending"]] == [-4, 1, 3, 2]  # heap order
    assert all(len(entry) == 5 for entry in queue["queue_running"] + queue["queue_pending"])
    assert get_json(comfy, "/prompt") == {"exec_info": {"queue_remaining": 5}}
    status, _, body = http(comfy, "POST", "/queue", {"delete": [ids[1], long["prompt_id"]]})
    assert (status, body) == (200, b"")  # deleting the running prompt does nothing
    pending = [entry[1] for entry in get_json(comfy, "/queue")["queue_pending"]]
    assert ids[1] not in pending and len(pending) == 3
    last = wait_history(comfy, ids[2])
    assert get_json(comfy, f"/history/{ids[1]}") == {}
    numbers = [entry["prompt"][0] for entry in get_json(comfy, "/history").values()]
    assert numbers == [0, -4, 1, 3] and last["status"]["status_str"] == "success"


def test_queue_clear_keeps_the_running_prompt(comfy: FakeComfyUI) -> None:
    comfy.slow(0.2)
    running = post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"]
    cleared = post_prompt(comfy, {"prompt": still_graph(41)})["prompt_id"]
    http(comfy, "POST", "/queue", {"clear": True})
    wait_history(comfy, running)
    assert get_json(comfy, f"/history/{cleared}") == {}
    http(comfy, "POST", "/history", {"delete": [running]})
    assert get_json(comfy, "/history") == {}


def test_restart_loses_memory_and_temp_but_keeps_outputs(comfy: FakeComfyUI) -> None:
    graph = still_graph(40)
    graph["4"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
    first = post_prompt(comfy, {"prompt": graph})
    outputs = wait_history(comfy, first["prompt_id"])["outputs"]
    port = comfy.port
    comfy.restart()
    assert comfy.port == port
    assert get_json(comfy, f"/history/{first['prompt_id']}") == {}
    assert get_json(comfy, "/queue") == {"queue_running": [], "queue_pending": []}
    saved, preview = outputs["3"]["images"][0], outputs["4"]["images"][0]
    view = "/view?filename={filename}&subfolder={subfolder}&type={type}"
    assert http(comfy, "GET", view.format(**saved))[0] == 200
    assert http(comfy, "GET", view.format(**preview))[0] == 404
    assert post_prompt(comfy, {"prompt": still_graph(41)})["number"] == 0


# --- runtime errors, caching ----------------------------------------------------------------------


def test_odd_sized_h264_fails_at_run_time_like_the_capture(comfy: FakeComfyUI) -> None:
    failed = captured("errors/runtime/savevideo_h264_odd_dimensions.json")
    webm = captured("errors/runtime/savewebm_vp9_odd_dimensions.json")

    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=odd")
        await ws.receive()
        for capture in (failed, webm):
            body = {**capture["post_prompt"]["request"]["json"], "client_id": "odd"}
            async with session.post(f"{comfy.url}/prompt", json=body) as response:
                prompt_id = (await response.json())["prompt_id"]
            frames = await read_until_done(ws, prompt_id)
            kinds = [frame_kind(f) for f in frames]
            expected_kinds = captured_kinds(capture["ws_transcript"])[1:]
            # Which cached output re-announces itself first follows a Python set's order in
            # ComfyUI (random per process); the fake uses prompt order. Same messages, though.
            assert sorted(kinds) == sorted(expected_kinds)
            assert kinds[:4] == expected_kinds[:4] and kinds[-3:] == expected_kinds[-3:]
            messages = {m["type"]: m["data"] for m in texts(frames)}
            expected = {
                m["json"]["type"]: m["json"]["data"]
                for m in capture["ws_transcript"]["messages"]
                if m["dir"] == "server->client" and m["kind"] == "text"
            }
            assert messages["execution_cached"]["nodes"] == expected["execution_cached"]["nodes"]
            if "execution_error" in expected:
                ours, theirs = messages["execution_error"], expected["execution_error"]
                assert ours.keys() == theirs.keys()
                for key in ("node_id", "node_type", "exception_message", "exception_type"):
                    assert ours[key] == theirs[key]
                assert sorted(ours["executed"]) == sorted(theirs["executed"])
                assert ours["current_inputs"].keys() == theirs["current_inputs"].keys()
                entry = (await (await session.get(f"{comfy.url}/history/{prompt_id}")).json())[
                    prompt_id
                ]
                history = failed["history"]["response"]["body"]["json"]
                assert normalized(entry["outputs"]) == normalized(
                    next(iter(history.values()))["outputs"]
                )
                assert entry["status"]["status_str"] == "error"

    run(scenario)


def test_identical_resubmit_is_cached_and_names_the_old_files(comfy: FakeComfyUI) -> None:
    graph = still_graph(40)

    async def scenario(session: aiohttp.ClientSession) -> None:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=again")
        await ws.receive()
        runs = []
        for _ in range(2):
            body = {"prompt": graph, "client_id": "again"}
            async with session.post(f"{comfy.url}/prompt", json=body) as response:
                prompt_id = (await response.json())["prompt_id"]
            runs.append(texts(await read_until_done(ws, prompt_id)))
        executed = [[m["data"]["output"] for m in r if m["type"] == "executed"] for r in runs]
        assert executed[0] == executed[1]
        cached = next(m for m in runs[1] if m["type"] == "execution_cached")
        assert cached["data"]["nodes"] == ["1", "2", "3"]
        assert not [m for m in runs[1] if m["type"] == "executing" and m["data"]["node"]]

    run(scenario)
    assert [p.name for p in (comfy.output_dir / "t").iterdir()] == ["img_00001_.png"]


# --- the Trulience animatic node ------------------------------------------------------------------


def test_animatic_workflow_gives_a_segment_and_its_lossless_last_frame(comfy: FakeComfyUI) -> None:
    source = portrait_png(64, 48)
    comfy.add_input("face.png", source)
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "2": {
            "class_type": "TrulienceAnimatic",
            "inputs": {"image": ["1", 0], "frames": 12, "seed": 42, "motion": "zoom_in"},
        },
        "3": {"class_type": "CreateVideo", "inputs": {"images": ["2", 0], "fps": 12.0}},
        "4": {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["3", 0],
                "filename_prefix": "segments/take",
                "format": "mp4",
                "codec": "h264",
            },
        },
        "5": {
            "class_type": "ImageFromBatch",
            "inputs": {"image": ["2", 0], "batch_index": 4095, "length": 1},
        },
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "last"}},
        "7": {
            "class_type": "ImageFromBatch",
            "inputs": {"image": ["2", 0], "batch_index": 0, "length": 1},
        },
        "8": {
            "class_type": "SaveImage",
            "inputs": {"images": ["7", 0], "filename_prefix": "first"},
        },
    }
    entry = wait_history(comfy, post_prompt(comfy, {"prompt": graph})["prompt_id"])
    assert entry["status"]["status_str"] == "success"
    video = entry["outputs"]["4"]
    assert video["animated"] == [True]
    clip = comfy.output_dir / "segments" / video["images"][0]["filename"]
    with av.open(str(clip)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 12

    source_pixels = np.asarray(Image.open(io.BytesIO(source)))
    expected = animatic_frames(source_pixels[None].astype(np.float32) / 255.0, 12, 42, "zoom_in")
    last = np.asarray(Image.open(comfy.output_dir / entry["outputs"]["6"]["images"][0]["filename"]))
    first = np.asarray(
        Image.open(comfy.output_dir / entry["outputs"]["8"]["images"][0]["filename"])
    )
    assert np.array_equal(first, source_pixels)  # frame 0 is the source, bit for bit
    assert np.array_equal(last, to_uint8(expected[-1]))
    assert not np.array_equal(last, first)
    assert np.abs(decoded[-1].astype(int) - last.astype(int)).mean() < 4  # lossy, but close


# --- faults ---------------------------------------------------------------------------------------


def test_a_corrupt_upload_fails_only_when_the_prompt_runs(comfy: FakeComfyUI) -> None:
    capture = captured("errors/runtime/loadimage_corrupt_file.json")
    expected = next(
        m["json"]["data"]
        for m in capture["ws_transcript"]["messages"]
        if m.get("json", {}).get("type") == "execution_error"
    )
    assert upload(comfy, {"image": ("corrupt.png", b"not an image"), "overwrite": "true"})[0] == 200
    graph = still_graph(40)
    graph["1"]["inputs"]["image"] = "corrupt.png"
    entry = wait_history(comfy, post_prompt(comfy, {"prompt": graph})["prompt_id"])
    event, error = entry["status"]["messages"][-1]
    assert event == "execution_error" and error.keys() == expected.keys()
    assert error["exception_type"] == expected["exception_type"] == "PIL.UnidentifiedImageError"
    assert error["exception_message"].startswith("cannot identify image file ")
    assert (error["executed"], error["current_inputs"]) == ([], {"image": ["corrupt.png"]})


def test_fail_node_gives_a_runtime_error(comfy: FakeComfyUI) -> None:
    comfy.fail_node("ImageScale", "GPU fell off the bus")
    entry = wait_history(comfy, post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"])
    error = entry["status"]["messages"][-1]
    assert error[0] == "execution_error"
    assert error[1]["exception_message"] == "GPU fell off the bus\n"
    assert error[1]["exception_type"] == "RuntimeError" and error[1]["node_type"] == "ImageScale"
    comfy.reset_faults()
    entry = wait_history(comfy, post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"])
    assert entry["status"]["status_str"] == "success"


def test_queue_limit_refuses_with_503(comfy: FakeComfyUI) -> None:
    comfy.slow(0.3)
    comfy.queue_limit(1)
    post_prompt(comfy, {"prompt": still_graph(40)})
    status, _, body = http(comfy, "POST", "/prompt", {"prompt": still_graph(41)})
    assert status == 503 and json.loads(body)["error"]["type"] == "queue_full"
    assert len(comfy.submissions) == 1


def test_dropped_sockets_do_not_stop_the_run(comfy: FakeComfyUI) -> None:
    comfy.slow(0.1)
    comfy.drop_socket_after(4)

    async def scenario(session: aiohttp.ClientSession) -> str:
        ws = await session.ws_connect(f"{comfy.ws_url}?clientId=dropped")
        await ws.receive()
        body = {"prompt": still_graph(40), "client_id": "dropped"}
        async with session.post(f"{comfy.url}/prompt", json=body) as response:
            prompt_id = (await response.json())["prompt_id"]
        kinds = await drain(ws, quiet=2.0)
        assert len(kinds) == 4 and ws.closed
        return prompt_id

    assert wait_history(comfy, run(scenario))["status"]["status_str"] == "success"


def test_die_mid_run_refuses_connections_and_comes_back_empty(comfy: FakeComfyUI) -> None:
    comfy.die_mid_run(after_nodes=1)
    prompt_id = post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"]

    async def wait_down() -> None:
        async with asyncio.timeout(5):
            while comfy.alive:
                await asyncio.sleep(0.02)

    asyncio.run(wait_down())
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(comfy.url + "/queue", timeout=2)
    comfy.start()
    assert get_json(comfy, f"/history/{prompt_id}") == {}
    assert list((comfy.output_dir / "t").glob("*.png")) == []
    assert len(comfy.submissions) == 1  # the harness still remembers it was submitted


def test_vanish_prompt_removes_it_silently(comfy: FakeComfyUI) -> None:
    comfy.slow(0.2)
    running = post_prompt(comfy, {"prompt": still_graph(40)})["prompt_id"]
    pending = post_prompt(comfy, {"prompt": still_graph(41)})["prompt_id"]
    comfy.vanish_prompt(pending)
    comfy.vanish_prompt(running)
    assert get_json(comfy, "/queue")["queue_pending"] == []
    follow = post_prompt(comfy, {"prompt": still_graph(42)})["prompt_id"]
    wait_history(comfy, follow)
    assert get_json(comfy, f"/history/{running}") == {}
    assert get_json(comfy, f"/history/{pending}") == {}


def test_eight_fakes_start_and_stop_side_by_side() -> None:
    servers = [FakeComfyUI() for _ in range(8)]
    for server in servers:
        server.start()
    assert len({server.port for server in servers}) == 8
    for server in servers:
        assert get_json(server, "/prompt") == {"exec_info": {"queue_remaining": 0}}
    roots = [server.root for server in servers]
    for server in servers:
        server.stop()
    assert not any(root.exists() for root in roots)
