"""The README's screenshot, remade: serve the explorer in this process, open it in headless Chromium at 1440×900,
run a real default fit (the sidebar's defaults, ``--iters`` iterations) and save the page.

    python scripts/screenshot.py [--iters 300] [--out docs/screenshot.png] [--full-page]

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
    p.add_argument("--iters", type=int, default=300, help="iterations of the fit shown (default 300)")
    p.add_argument("--out", default="docs/screenshot.png")
    p.add_argument("--full-page", action="store_true", help="the whole page, not only the first screen")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the fit to end")
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
            box = page.locator(".w-iters input").first
            box.fill(str(a.iters))
            box.press("Enter")
            page.get_by_role("button", name="Run", exact=True).click()
            t0 = time.time()
            while time.time() - t0 < a.timeout:  # the progress line says "finished" when the run has ended
                if "finished" in page.locator(".ssh-progress pre").first.inner_text():
                    break
                time.sleep(2)
            else:
                print("the fit did not finish in time", file=sys.stderr)
                return 1
            time.sleep(3)  # the last images and curves reach the page
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=a.out, full_page=a.full_page)
            print(f"wrote {a.out} ({time.time() - t0:.0f} s of fit and paint): "
                  f"{page.locator('.ssh-progress pre').first.inner_text().strip()}")
            browser.close()
    finally:
        for app in apps:
            app.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
