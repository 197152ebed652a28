"""Share links over real HTTP (PRD-84): `panel serve apps/share.py --plugins
apps.media_routes`, media fetched with Range as a browser does, and one anonymous visit in
Debian's chromium. After a revocation or an expiry neither the page nor the media URL it
handed out answers with content.

One server for the module; each test makes its own links, so order does not matter.
"""

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from tests.review_takes import make_project, make_take
from tests.test_frame_times import write_clip
from trulience.auth.users import create_user
from trulience.catalog.database import connect
from trulience.catalog.records import User
from trulience.delivery.package import make_proxy
from trulience.review.share import create_share, open_share, revoke_share
from trulience.storage import Storage

SECRET = "share-app-test-secret-" + "s" * 20
PROXY_KEY = "scenes/demo/ada/walk/take1/proxy.mp4"
# Everything the page shows, inside Panel's shadow roots too.
SHOWN_HTML = """() => {
  const html = root => root.innerHTML + [...root.querySelectorAll('*')]
    .filter(e => e.shadowRoot).map(e => html(e.shadowRoot)).join('');
  return html(document.documentElement);
}"""


@dataclass
class Shared:
    origin: str  # http://127.0.0.1:PORT
    db_url: str
    scene_id: int
    reviewer: User
    proxy: bytes


@pytest.fixture(scope="module")
def shared(server_url, template_url, tmp_path_factory) -> Iterator[Shared]:
    home = tmp_path_factory.mktemp("share-home")
    storage = Storage((home / "storage").as_uri())
    write_clip(home / "scene.mp4", list(range(48)), tone_hz=440)  # 2 s, with a tone
    assert make_proxy(home / "scene.mp4", home / "proxy.mp4").has_audio
    proxy = storage.put_file(PROXY_KEY, home / "proxy.mp4")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        make_project(conn)
        reviewer = create_user(conn, "rita", "Rita", "reviewer", "long-enough-pw")
        scene = make_take(conn, status="generated")
        conn.execute(
            "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s, frames = 48 "
            "WHERE id = %s",
            (storage.uri(PROXY_KEY.replace("proxy", "scene")), proxy.sha256, scene),
        )
    env = {
        "DATABASE_URL": db_url,
        "TRULIENCE_HOME": str(home),
        "STORAGE_URL": storage.url,
        "TRULIENCE_SECRET": SECRET,
    }
    try:
        with served("share", env, home / "panel.log") as url:
            origin = url.rsplit("/", 1)[0]
            yield Shared(origin, db_url, scene, reviewer, storage.read_bytes(PROXY_KEY))
    finally:
        drop_database(server_url, db_url)


@pytest.fixture(autouse=True)
def same_secret(monkeypatch):
    """Media URLs signed here are signed as the server signs them."""
    monkeypatch.setenv("TRULIENCE_SECRET", SECRET)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def share_link(shared: Shared, **terms) -> tuple[int, str, str]:
    """A new link to the take: its id, token and the media URL its page hands out."""
    with connect(shared.db_url) as conn:
        link, token = create_share(
            conn, shared.reviewer, shared.scene_id, expires_in=timedelta(days=1), **terms
        )
    from apps.media_routes import media_url

    return link.id, token, shared.origin + media_url(PROXY_KEY, share=link.id)


def test_a_media_url_serves_ranges_until_its_link_is_revoked(shared):
    link_id, _, url = share_link(shared)
    status, headers, body = fetch(url, {"Range": "bytes=0-99"})
    assert status == 206 and body == shared.proxy[:100]
    assert headers["Content-Range"] == f"bytes 0-99/{len(shared.proxy)}"
    assert headers["Content-Type"] == "video/mp4"
    status, headers, body = fetch(url)
    assert status == 200 and body == shared.proxy
    assert fetch(url, {"If-None-Match": headers["Etag"]})[0] == 304

    with connect(shared.db_url) as conn:
        revoke_share(conn, shared.reviewer, link_id)
    for extra in ({"Range": "bytes=0-99"}, {}, {"If-None-Match": headers["Etag"]}):
        status, _, body = fetch(url, extra)
        assert (status, body) == (403, b"")
    with connect(shared.db_url) as conn:
        refused = conn.execute(
            "SELECT count(*) FROM share_link_uses WHERE link_id = %s AND outcome = 'refused'",
            (link_id,),
        ).fetchone()[0]
    assert refused == 3


def test_an_expired_link_stops_its_media_and_bad_tokens_get_a_reason(shared):
    link_id, _, url = share_link(shared)
    assert fetch(url, {"Range": "bytes=0-9"})[0] == 206
    with connect(shared.db_url) as conn:
        conn.execute(
            "UPDATE share_links SET created_at = now() - interval '2 days', "
            "expires_at = now() - interval '1 second' WHERE id = %s",
            (link_id,),
        )
    assert fetch(url, {"Range": "bytes=0-9"})[:3:2] == (403, b"")

    token = url.split("/")[-2]
    tampered = url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    status, headers, body = fetch(tampered)
    assert status == 403 and headers["Content-Type"].startswith("text/plain")
    assert body.decode().count("\n") == 1 and "signature" in body.decode()
    assert shared.proxy[:64] not in body


def test_an_outside_reviewer_watches_anonymously_until_the_link_is_revoked(shared, browser):
    from playwright.sync_api import expect

    link_id, token, _ = share_link(shared, label="Acme review")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(f"{shared.origin}/share?link={token}")
    expect(page.get_by_text("Take 1, revision 1 · Acme review")).to_be_visible()
    video = page.locator(".share-video video.vp-video:not(.vp-compare)")
    expect(video).to_have_count(1)
    video.evaluate(  # Debian's chromium decodes our H.264 proxy
        "v => new Promise(r => v.readyState >= 2 ? r() : v.addEventListener('loadeddata', r))"
    )
    assert video.evaluate("v => v.readyState") >= 2
    assert (
        video.evaluate(
            "v => document.createElement('video').canPlayType("
            "'video/mp4; codecs=\"avc1.64001f, mp4a.40.2\"')"
        )
        == "probably"
    )
    assert video.evaluate("v => v.videoWidth") > 0
    decoded_audio = video.evaluate(  # its AAC track decodes too
        """v => { v.muted = true; return v.play().then(() => new Promise(r => setTimeout(
               () => { v.pause(); r(v.webkitAudioDecodedByteCount); }, 700))); }"""
    )
    assert decoded_audio > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "share-page.png"), full_page=True)
    media = video.get_attribute("src")
    assert media in page.evaluate(SHOWN_HTML)  # what the check after revocation looks for

    with connect(shared.db_url) as conn:
        revoke_share(conn, shared.reviewer, link_id)
    page.reload()
    expect(page.get_by_text("This share link was revoked")).to_be_visible()
    expect(page.locator("video")).to_have_count(0)
    shown = page.evaluate(SHOWN_HTML)
    assert "/media/" not in shown and "share link was revoked" in shown
    assert fetch(shared.origin + media)[:3:2] == (403, b"")
    page.close()
    with connect(shared.db_url) as conn:
        outcomes = [
            r[0]
            for r in conn.execute(
                "SELECT outcome FROM share_link_uses WHERE link_id = %s ORDER BY id", (link_id,)
            )
        ]
        assert outcomes[0] == "viewed" and outcomes[-2:] == ["refused", "refused"]
        with pytest.raises(Exception, match="revoked"):
            open_share(conn, token)
