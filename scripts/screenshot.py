"""The README's screenshots, remade: serve the explorer in this process, open it in headless Chromium at 1440×900,
run a real fit and save the page.

    python scripts/screenshot.py [--out docs/screenshot.png] [--full-page]
    python scripts/screenshot.py --tab uncertainty --out docs/uncertainty_tab.png
    python scripts/screenshot.py --tab downscale --time 3 --members 4 --out docs/downscale_tab.png

The first runs the sidebar's default fit to its end (the page's own defaults: the recipe's count as a cap, it stops
once settled; ``--iters N`` types another count) and saves the Explore tab; ``--tab uncertainty`` / ``--tab compare``
run the same fit and show that tab; ``--tab downscale`` runs the Downscale tab on its default sample (time step
``--time``, ×4, ``--members`` networks, the default count unless ``--iters``) instead. Each prints its time and the
machine's load (``uptime``) before and after.

Needs Chromium (``/usr/bin/chromium``, or ``SSH_DIP_CHROMIUM``) and Playwright for Python (``bash
scripts/setup.sh --test`` installs it).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

CHROMIUM = os.environ.get("SSH_DIP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iters", type=int, default=0, help="iterations of the fit shown (default 0: the page's own)")
    p.add_argument("--out", default="docs/screenshot.png")
    p.add_argument("--full-page", action="store_true", help="the whole page, not only the first screen")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the fit to end")
    p.add_argument("--tab", choices=["main", "uncertainty", "compare", "downscale"], default="main",
                   help="which tab to show after its run")
    p.add_argument("--members", type=int, default=4, help="--tab downscale: members K (default 4, the page's)")
    p.add_argument("--time", type=int, default=0, help="--tab downscale: time step of the sample (default 0)")
    a = p.parse_args(argv)

    import panel as pn
    from playwright.sync_api import sync_playwright

    from explorer.app import ExplorerApp

    apps: list = []

    def factory():
        app = ExplorerApp()
        app.attach_session()
        apps.append(app)
        return app.__panel__()

    port = free_port()
    server = pn.serve({"/": factory}, port=port, threaded=True, show=False, start=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"http://localhost:{port}/")
            page.locator(".ssh-progress pre").first.wait_for()
            print(f"load before: {uptime()}")
            if a.tab == "downscale":
                return downscale_shot(page, a)
            if a.iters:
                fill(page, "w-iters", a.iters)
            page.get_by_role("button", name="Run", exact=True).click()
            t0 = time.time()
            while time.time() - t0 < a.timeout:  # the progress line starts with "done" when the run has ended
                if page.locator(".ssh-progress pre").first.inner_text().strip().startswith("done"):
                    break
                time.sleep(2)
            else:
                print("the fit did not finish in time", file=sys.stderr)
                return 1
            took = time.time() - t0
            line = page.locator(".ssh-progress pre").first.inner_text().strip()  # on Explore only: read it here
            time.sleep(3)  # the last images and curves reach the page
            if a.tab != "main":
                page.get_by_text({"uncertainty": "Uncertainty", "compare": "Compare & replay"}[a.tab],
                                 exact=True).first.click()
                time.sleep(4)  # the tab's figures are made and drawn
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=a.out, full_page=a.full_page)
            print(f"wrote {a.out} ({took:.0f} s from the click to the end): {line}\nload after: {uptime()}")
            browser.close()
    finally:
        for app in apps:
            app.stop()
        server.stop()
    return 0


def fill(page, cls: str, value) -> None:
    """Type ``value`` into the input of the widget with CSS class ``cls`` and press Enter."""
    box = page.locator(f".{cls} input").first
    box.fill(str(value))
    box.press("Enter")


def downscale_shot(page, a) -> int:
    """The Downscale tab after a real run on its default sample (the page's own widgets, as a user sets them)."""
    page.get_by_text("Downscale my field", exact=True).first.click()
    if a.time:
        fill(page, "w-ds-time", a.time)
        page.get_by_text(f"time step {a.time}").first.wait_for()
    fill(page, "w-ds-members", a.members)
    if a.iters:
        fill(page, "w-ds-iters", a.iters)
    time.sleep(1)  # the boxes' values reach the server before the click
    t0 = time.time()
    page.get_by_role("button", name="Downscale", exact=True).click()
    page.get_by_text("done in").first.wait_for(timeout=a.timeout * 1000)
    took = time.time() - t0
    time.sleep(3)  # the last maps and the curve reach the page
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=a.out, full_page=a.full_page)
    status = page.locator(".ds-status").first.inner_text().strip()
    print(f"wrote {a.out} ({took:.0f} s from the click to the end): {status}\nload after: {uptime()}")
    return 0


def uptime() -> str:
    """The machine's load as ``uptime`` says it: a time means little without it."""
    import subprocess

    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load %.2f %.2f %.2f" % os.getloadavg()


if __name__ == "__main__":
    sys.exit(main())
