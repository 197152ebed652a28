"""Review player benchmark: the browser player against the old server-decoded player.

1. A 1920×1080 clip at 24 fps (20 s; grain on a drifting texture keeps the decoder busy)
   is made into a proxy the way assembly does (`make_proxy`, 720p, a keyframe every 12
   frames), with its frame times beside it (not timed).
2. The browser player (`apps/video_player.py` in Debian's chromium, the proxy served by
   `apps.media_routes` with Range requests): time from opening the take (the server sends
   its URL and frame times) to its first frame on screen; step latency p50/p95 (a → key
   press to the stepped frame confirmed by requestVideoFrameCallback); playing 20 s:
   frames presented (requestVideoFrameCallback presentedFrames) against the frames the
   elapsed media time holds, and getVideoPlaybackQuality's dropped frames.
3. The old path, in this process: a frame decoded by index on the server and made a PNG
   data URL (what the old Player sent over the websocket), for opening, a step and playback.

Prints each figure beside the old one and their ratios; asserts nothing about time.

    .venv/bin/python benchmarks/review_player.py [--steps N] [--quick]

`--quick` (run by the test suite): a 2 s clip, 10 steps, 1.5 s of playback, 12 frames of
the old path's playback.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from apps.images import png_data_url
from trulience.delivery.package import make_proxy
from trulience.media.encode import encode_frames
from trulience.media.frame_times import proxy_frames
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.storage import Storage

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT, FPS = 1920, 1080, 24
PROXY_KEY = "scenes/bench/take1/proxy.mp4"

# The app the browser opens: a button that opens the take (URL and frame times from the
# server, as the review app's Player does) and the player.
APP = f"""
import panel as pn
from apps.media_routes import media_url
from apps.video_player import VideoPlayer
from trulience.config import Settings
from trulience.media.frame_times import proxy_frames
from trulience.storage import Storage

settings = Settings.from_env()
storage = Storage(settings.storage_url)
player = VideoPlayer(sizing_mode="stretch_width")
open_take = pn.widgets.Button(name="Open take")
open_seeking = pn.widgets.Button(name="Open take, steps seeking")

def opened(_, packets=True):
    times = proxy_frames(storage, {PROXY_KEY!r})
    player.param.update(
        src=media_url({PROXY_KEY!r}),
        times=list(times.times),
        packets=times.packets.to_data() if packets and times.packets else None,
        fps=times.fps,
        frame=0,
    )

open_take.on_click(opened)
open_seeking.on_click(lambda event: opened(event, packets=False))
pn.Column(open_take, open_seeking, player, sizing_mode="stretch_width").servable()
"""

# In the page: wait until the player is settled on `frame` (or any frame); milliseconds.
SETTLED = """async (box, [frame, since]) => {
  const done = () => box.dataset.state === "settled" &&
    (frame === null || Number(box.dataset.frame) === frame);
  const end = performance.now() + 10000;
  while (!done()) {
    if (performance.now() > end) return { stuck: box.dataset.state, frame: box.dataset.frame,
      message: box.querySelector(".vp-message").textContent, inside: box.player.inside() };
    await new Promise((ok) => setTimeout(ok, 1));
  }
  return performance.now() - since;
}"""

SEEKING_OPENED = """async (box) => {
  const done = () => box.dataset.state === "settled" && box.dataset.frame === "0" &&
    box.player.inside().decoder === null;
  const end = performance.now() + 10000;
  while (!done()) {
    if (performance.now() > end) return { stuck: box.dataset.state, frame: box.dataset.frame,
      inside: box.player.inside() };
    await new Promise((ok) => setTimeout(ok, 1));
  }
  return 0;
}"""

STEP = """async (box, [key, shift, frame]) => {
  const since = performance.now();
  document.dispatchEvent(new KeyboardEvent("keydown", { key, shiftKey: shift, bubbles: true }));
  const done = () => box.dataset.state === "settled" && Number(box.dataset.frame) === frame;
  const end = performance.now() + 10000;
  while (!done()) {
    if (performance.now() > end) return { stuck: box.dataset.state, frame: box.dataset.frame,
      message: box.querySelector(".vp-message").textContent, inside: box.player.inside() };
    await new Promise((ok) => setTimeout(ok, 1));
  }
  return performance.now() - since;
}"""

PLAY = """async (box, seconds) => {
  const video = box.querySelector("video");
  let first = null, last = null;
  const count = (now, meta) => {
    if (first === null) first = meta; last = meta;
    video.requestVideoFrameCallback(count);
  };
  video.requestVideoFrameCallback(count);
  const before = video.getVideoPlaybackQuality();
  box.querySelector(".vp-play").click();
  await new Promise((ok) => setTimeout(ok, seconds * 1000));
  box.querySelector(".vp-play").click();
  const after = video.getVideoPlaybackQuality();
  return {
    presented: last.presentedFrames - first.presentedFrames,
    media_seconds: last.mediaTime - first.mediaTime,
    dropped: after.droppedVideoFrames - before.droppedVideoFrames,
    total: after.totalVideoFrames - before.totalVideoFrames,
  };
}"""


def grainy_frames(count: int, seed: int = 0) -> Iterator[np.ndarray]:
    """A drifting texture with fresh grain in each frame (what real footage costs)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
    texture = base.repeat(8, axis=0).repeat(8, axis=1)
    for index in range(count):
        grain = rng.integers(0, 24, (HEIGHT, WIDTH, 1), dtype=np.uint8)
        yield np.roll(texture, index * 4, axis=1) // 2 + grain


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app: Path, storage: Storage, home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        str(app),
        "--plugins",
        "apps.media_routes",
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--allow-websocket-origin",
        f"127.0.0.1:{port}",
    ]
    env = os.environ | {"STORAGE_URL": storage.url, "TRULIENCE_HOME": str(home)}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    log = open(home / "panel.log", "wb")  # noqa: SIM115 - the server writes it until stopped
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/{app.stem}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return server, url
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"panel serve did not answer:\n{(home / 'panel.log').read_text()}")


def timed(box, script: str, arg: object, what: str) -> float:
    """Run a timing script in the page; stop with what did not settle (10 s at most)."""
    took = box.evaluate(script, arg)
    if isinstance(took, dict):
        raise SystemExit(f"{what}: the player did not settle ({took}) within 10 s")
    return took


def browser_figures(url: str, frames: int, steps: int, play_s: float) -> dict:
    """Open, step and play in Debian's chromium; the figures in milliseconds."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        opening = page.get_by_role("button", name="Open take", exact=True)
        opening.wait_for()
        box = page.locator(".vp-box")
        box.wait_for(state="attached")
        since = page.evaluate("performance.now()")
        opening.click()
        open_ms = timed(box, SETTLED, [0, since], "opening")
        latencies, stills = walk(box, frames, steps)
        page.get_by_role("button", name="Open take, steps seeking").click()
        # it opens on its first frame, with no frames decoded in the page
        timed(box, SEEKING_OPENED, None, "opening the take again")
        seeking, _ = walk(box, frames, steps)
        box.evaluate("b => b.player.go(0)")
        timed(box, SETTLED, [0, 0], "going to frame 0")
        played = box.evaluate(PLAY, play_s)
        browser.close()
    return {
        "open": open_ms,
        "steps": latencies,
        "stills": stills,
        "seeking": seeking,
        "play": played,
    }


def walk(box, frames: int, steps: int) -> tuple[list[float], int]:
    """`steps` random steps (±1 mostly, ±10) from frame 0, each to its frame settled on
    screen: their latencies (ms), and how many were drawn from frames decoded in the page."""
    rng, frame, latencies, stills = random.Random(0), 0, [], 0
    for _ in range(steps):
        delta = rng.choice([1, 1, 1, -1, 10, -10])
        delta = -delta if not 0 <= frame + delta < frames else delta
        frame += delta
        key = "ArrowRight" if delta > 0 else "ArrowLeft"
        latencies.append(timed(box, STEP, [key, abs(delta) == 10, frame], f"a step to {frame}"))
        stills += box.evaluate("b => !b.querySelector('.vp-still').hidden")
    return latencies, stills


def old_figures(video: Path, frames: int, steps: int, play_frames: int) -> dict:
    """The old server path: decode by index, then a PNG data URL, per frame shown."""

    def shown(index: int) -> float:
        started = time.perf_counter()
        png_data_url(frame_at(video, index))
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    probe(video)
    shown(0)
    open_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(0)
    latencies = [shown(rng.randrange(frames)) for _ in range(steps)]
    played = [shown(i) for i in range(play_frames)]
    return {"open": open_ms, "steps": latencies, "fps": 1000 / statistics.mean(played)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="small run for the test suite")
    args = parser.parse_args()
    seconds, steps, play_s = (2, 10, 1.5) if args.quick else (20, args.steps, 20.0)
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is not installed: make test installs it")
    with tempfile.TemporaryDirectory(prefix="trulience-bench-player-") as work:
        home = Path(work)
        storage = Storage((home / "storage").as_uri())
        source = home / "scene.mp4"
        frames = seconds * FPS
        encode_frames(grainy_frames(frames), source, FPS, gop=24)
        make_proxy(source, home / "proxy.mp4")
        storage.put_file(PROXY_KEY, home / "proxy.mp4")
        proxy_frames(storage, PROXY_KEY)
        app = home / "bench_player.py"
        app.write_text(APP)
        server, url = serve(app, storage, home)
        try:
            new = browser_figures(url, frames, steps, play_s)
        finally:
            server.terminate()
            server.wait(timeout=10)
        # the old path costs seconds a frame at 1080p: fewer frames measure it well enough
        old = old_figures(source, frames, min(steps, 20), 12 if args.quick else 2 * FPS)
    report(new, old, frames, seconds)


def report(new: dict, old: dict, frames: int, seconds: int) -> None:
    p50, p95 = percentile(new["steps"], 0.5), percentile(new["steps"], 0.95)
    old50, old95 = percentile(old["steps"], 0.5), percentile(old["steps"], 0.95)
    play = new["play"]
    expected = round(play["media_seconds"] * FPS) + 1
    new_fps = FPS * play["presented"] / max(expected, 1)
    print(f"review player, 1080p{FPS} take of {seconds} s ({frames} frames), 720p proxy")
    seek50, seek95 = percentile(new["seeking"], 0.5), percentile(new["seeking"], 0.95)
    print(
        f"step latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p95 < 50 ms; "
        f"{new['stills']} of {len(new['steps'])} steps drawn from frames decoded in the page); "
        f"steps seeking the video p50 {seek50:.1f} ms, p95 {seek95:.1f} ms; "
        f"old server path p50 {old50:.1f} ms, p95 {old95:.1f} ms; "
        f"ratio old / new p95 = {old95 / max(p95, 0.01):.1f}, "
        f"ratio seeking / new p95 = {seek95 / max(p95, 0.01):.1f}"
    )
    print(
        f"playback {play['media_seconds']:.1f} s: {play['presented']} frames presented of "
        f"{expected} expected, {play['dropped']} dropped of {play['total']} "
        f"(getVideoPlaybackQuality); old server path {old['fps']:.1f} fps of {FPS}: "
        f"ratio new / old = {new_fps / max(old['fps'], 0.01):.1f}"
    )
    print(
        f"open to first frame: {new['open']:.0f} ms (goal < 1000 ms); old server path "
        f"{old['open']:.0f} ms; ratio old / new = {old['open'] / max(new['open'], 0.01):.2f}"
    )


if __name__ == "__main__":
    main()
