"""Serve the explorer in-process and drive it with headless Chromium (Playwright for Python)."""

from __future__ import annotations

import os
import time

import pytest

CHROMIUM = os.environ.get("SSH_DIP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def session_factory(apps: list):
    """What ``pn.serve`` calls per page load: a new ExplorerApp wired to its session, kept in ``apps``."""
    from explorer.app import ExplorerApp

    def factory():
        app = ExplorerApp()
        app.attach_session()
        apps.append(app)
        return app.__panel__()

    return factory


@pytest.fixture(scope="session")
def server():
    """One Panel server for the UI tests; each page load is a new session with its own ExplorerApp."""
    pn = pytest.importorskip("panel")
    apps = []
    factory = session_factory(apps)
    port = free_port()
    srv = pn.serve({"/": factory}, port=port, threaded=True, show=False, start=True)
    wait_port(port)
    yield {"url": f"http://localhost:{port}/", "apps": apps}
    for a in apps:
        a.stop()
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1560, "height": 1300})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the Panel server did not open port {port}")
