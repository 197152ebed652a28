"""Panel apps served for browser tests (`panel serve` as a user runs it), and Debian's
chromium driven through Playwright (never `playwright install`)."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
# Browser tests always take their screenshots; `make screenshots` points them at
# docs/screenshots (the README's pictures), so a plain test run leaves the tree clean.
SCREENSHOTS = Path(
    os.environ.get("TRULIENCE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "trulience-screenshots"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"panel serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"panel serve did not answer at {url} within {timeout} s:\n{log.read_text()}")


@contextmanager
def served(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """`panel serve apps/<app>.py --plugins apps.media_routes --plugins apps.cookie_routes`
    (as the Makefile serves every app) on a free port with `env` added to this process's
    environment; yields the app's URL and stops the server afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        f"apps/{app}.py",
        "--plugins",
        "apps.media_routes",
        "--plugins",
        "apps.cookie_routes",
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--allow-websocket-origin",
        f"127.0.0.1:{port}",
    ]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=os.environ | env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}/{app}"
        wait_until_served(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@contextmanager
def chromium() -> Iterator:
    """Debian's chromium, headless, with no background network traffic."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: make test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def log_in(page, url: str, username: str, password: str) -> None:
    """Open `url` (an app's login page) and log in as `username`."""
    page.goto(url)
    page.get_by_placeholder("Username").fill(username)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def page_logged_in(
    browser, url: str, username: str, password: str, width: int = 1280, height: int = 900
):
    """A page of a new browser session (15 s timeouts) at `url`, `username` logged in."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, url, username, password)
    return page
