"""Soak (issue 13; slow, run by hand: ``python -m pytest -m slow tests/ui/test_soak.py -s``): one
``panel serve explorer`` subprocess on 127.0.0.1 with small limits and one fit at a time, five headless browser
sessions pressing Run and Stop at random for ``SSH_DIP_SOAK_S`` seconds (default 120, the issue's two minutes;
the whole test took ~5 min on a 2-core box at load 4-7, most of it loading five pages and the last fit), then a
normal fit. The server log must hold no traceback or error, the fit's scores must equal those of the same fit in
a fresh app, and the server's threads and memory must not pile up once the tabs have closed."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from netutil import free_port, wait_port

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SOAK_S = float(os.environ.get("SSH_DIP_SOAK_S", "120"))
HOST = "127.0.0.1"  # the issue asks for the soak on the loopback address itself
LIMITS = ["--max-iters", "20", "--max-members", "2", "--max-concurrent-fits", "1"]
SESSIONS = 5


def _server_figures(pid: int) -> tuple[int, float]:
    """(threads, RSS MiB) of the server process."""
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return int(status["Threads"]), int(status["VmRSS"].split()[0]) / 1024


def _progress(page) -> str:
    return page.locator(".ssh-progress pre").first.inner_text().strip()


def test_five_sessions_cycle_run_and_stop_then_a_normal_fit(browser, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    panel_cli = shutil.which("panel", path=str(Path(sys.executable).parent)) or shutil.which("panel")
    port = free_port(HOST)
    log_path = tmp_path / "server.log"
    cmd = [panel_cli, "serve", "explorer", "--address", HOST, "--port", str(port),
           "--allow-websocket-origin", f"{HOST}:{port}", "--check-unused-sessions", "1000",
           "--unused-session-lifetime", "5000", "--args", *LIMITS]
    with open(log_path, "w") as log:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}/explorer"
    try:
        wait_port(port, 60, HOST)
        pages = []
        for _ in range(SESSIONS):                # one context each: five independent users
            pg = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            pg.set_default_timeout(120_000)
            pg.goto(url)
            pg.get_by_text("Loaded sample gulfstream").wait_for()
            pages.append(pg)
        pages[0].locator(".ssh-limits").get_by_text("at most 2 members, 20 iterations").wait_for()
        threads0, rss0 = _server_figures(server.pid)
        rng, clicks, queued_seen, during = random.Random(0), 0, 0, []
        t_start = time.time()
        while time.time() < t_start + SOAK_S:
            if time.time() > t_start + len(during) * SOAK_S / 10:
                during.append(_server_figures(server.pid))  # five sessions open, fits going
            pg = rng.choice(pages)
            run = pg.get_by_role("button", name="Run", exact=True)
            button = run if run.is_enabled() else pg.get_by_role("button", name="Stop", exact=True)
            try:
                button.click(timeout=5000)
            except PlaywrightTimeout:  # the fit ended (Stop disabled) between looking and clicking: look again
                continue
            clicks += 1
            queued_seen += _progress(pg).startswith("queued")
            time.sleep(rng.uniform(0.1, 1.0))
        for pg in pages:                         # stop what still runs or waits
            stop = pg.get_by_role("button", name="Stop", exact=True)
            if stop.is_enabled():
                try:
                    stop.click(timeout=5000)
                except PlaywrightTimeout:  # it ended by itself meanwhile
                    pass
        deadline = time.time() + 60
        while time.time() < deadline and not all(
                pg.get_by_role("button", name="Run", exact=True).is_enabled() for pg in pages):
            time.sleep(0.2)
        for pg in pages[1:]:                     # four users leave; the first runs a normal fit
            pg.context.close()
        first = pages[0]
        first.get_by_role("button", name="Run", exact=True).click()
        first.locator(".ssh-progress pre").get_by_text("done at step 20/20").wait_for(timeout=300_000)
        served = _progress(first)
        first.context.close()
        time.sleep(7)                                # --unused-session-lifetime 5 s, checked every 1 s
        threads1, rss1 = _server_figures(server.pid)
        assert server.poll() is None, "the server died"
    finally:
        server.terminate()
        server.wait(30)
    text = log_path.read_text()
    # the same fit in a fresh app of this process (same limits: same threads per fit, same defaults)
    from explorer.app import ExplorerApp
    from explorer.data.server_limits import Limits

    fresh = ExplorerApp(limits=Limits.from_argv(LIMITS))
    assert fresh.run() and fresh.wait(600) and fresh.result.done
    rmse = re.compile(r"RMSE [\d.]+ cm")
    warned = [line for line in text.splitlines() if "WARNING" in line]
    print(f"soak: {SESSIONS} sessions, {clicks} Run/Stop clicks in {SOAK_S:.0f} s, {queued_seen} times a page said "
          f"'queued'; server threads {threads0} before, {[t for t, _ in during]} during, {threads1} after (tabs "
          f"closed); RSS {rss0:.0f} MiB before any fit, {[round(r) for _, r in during]} during, {rss1:.0f} after; "
          f"after the soak: {served!r}; "
          f"fresh app: {fresh.progress_text!r}; {len(warned)} WARNING lines in the log{': ' if warned else ''}"
          + "\n".join(warned[:5]))
    assert "Traceback" not in text and "ERROR" not in text, text[-3000:]
    assert rmse.search(served) and rmse.search(served).group() == rmse.search(fresh.progress_text).group()
    assert threads1 <= threads0 + 2, (threads0, threads1)
    # once the tabs have closed the server holds no more than at the height of the soak (20 Run/Stop cycles in one
    # session, in-process, stay within 10 %: tests/test_lifecycle.py)
    assert rss1 <= 1.10 * max(r for _, r in during), (rss0, during, rss1)
    assert clicks >= 50
