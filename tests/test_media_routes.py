"""Signed media URLs served in-process by tornado (apps/media_routes.py): an object store's
object is copied once into the cache and served with Range; URLs are built as specified."""

import asyncio
import socket

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.web import Application

import apps.media_routes as media_routes
from apps.media_routes import ROUTES, media_url
from trulience.auth.signed import verify
from trulience.storage import Storage

DATA = bytes(range(256)) * 40  # 10240 bytes standing in for a proxy


@pytest.fixture
def memory_storage(tmp_path, monkeypatch):
    """The process's storage is an object store (memory://), its cache under the home."""
    url = f"memory://media-routes-{tmp_path.name}"
    monkeypatch.setenv("STORAGE_URL", url)
    monkeypatch.setenv("TRULIENCE_HOME", str(tmp_path))
    monkeypatch.setenv("TRULIENCE_SECRET", "media-routes-test-secret-" + "m" * 16)
    media_routes._media_storage.cache_clear()
    storage = Storage(url)
    storage.put_bytes("scenes/demo/take 1/proxy.mp4", DATA)
    yield storage
    media_routes._media_storage.cache_clear()


async def _get(url: str, headers: dict | None = None):
    try:
        return await AsyncHTTPClient().fetch(url, headers=headers or {})
    except HTTPClientError as error:
        return error.response


def serve_and_fetch(requests: list[tuple[str, dict]]) -> list:
    """Start the plugin's routes on a free port and answer `requests` (path, headers)."""

    async def run():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        server = HTTPServer(Application(ROUTES))
        server.listen(port, "127.0.0.1")
        try:
            return [await _get(f"http://127.0.0.1:{port}{p}", h) for p, h in requests]
        finally:
            server.stop()

    return asyncio.run(run())


def test_a_media_url_is_same_origin_signed_and_names_the_file(monkeypatch):
    monkeypatch.setenv("TRULIENCE_SECRET", "x" * 40)
    url = media_url("scenes/demo/take 1/proxy.mp4", ttl_s=60, share=3)
    prefix, token, name = url.rsplit("/", 2)
    assert prefix == "/media" and name == "proxy.mp4"
    payload = verify(token)
    assert (payload["key"], payload["share"]) == ("scenes/demo/take 1/proxy.mp4", 3)
    plain = media_url("a/b c.mp4", ttl_s=60)
    assert plain.endswith("/b%20c.mp4") and "share" not in verify(plain.split("/")[2])


def test_an_object_store_object_is_cached_once_and_served_with_ranges(memory_storage, tmp_path):
    url = media_url("scenes/demo/take 1/proxy.mp4")
    ranged, whole, missing = serve_and_fetch(
        [
            (url, {"Range": "bytes=100-199"}),
            (url, {}),
            (media_url("scenes/demo/take 2/proxy.mp4"), {}),
        ]
    )
    assert ranged.code == 206 and ranged.body == DATA[100:200]
    assert ranged.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    assert whole.code == 200 and whole.body == DATA
    assert whole.headers["Cache-Control"] == "private, no-cache"
    assert missing.code == 404 and DATA[:32] not in missing.body
    cached = list((tmp_path / "media-cache").iterdir())
    assert [p.read_bytes() for p in cached] == [DATA]


def test_a_forged_token_gets_403_and_one_line_never_media(memory_storage):
    token = media_url("scenes/demo/take 1/proxy.mp4").split("/")[2]
    body, signature = token.split(".")
    forged = f"/media/{body}.{'A' * len(signature)}/proxy.mp4"
    (refused,) = serve_and_fetch([(forged, {"Range": "bytes=0-99"})])
    assert refused.code == 403 and refused.headers["Content-Type"].startswith("text/plain")
    assert refused.body.decode().endswith("\n") and refused.body.count(b"\n") == 1
    assert DATA[:32] not in refused.body


def test_a_link_the_dagster_ui_shows_is_served_by_the_review_server(memory_storage):
    from resources import build_resources
    from trulience.config import Settings

    settings = Settings.from_env()  # the environment the review server runs with
    link = build_resources(settings)["media"].link("scenes/demo/take 1/proxy.mp4")
    assert link.startswith(f"{settings.public_url}/media/")
    (whole,) = serve_and_fetch([(link.removeprefix(settings.public_url), {})])
    assert whole.code == 200 and whole.body == DATA
