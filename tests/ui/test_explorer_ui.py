"""The explorer in headless Chromium: page load, live streaming, Stop, and a bad upload followed by a good run."""

from __future__ import annotations

import os
import shutil
import time

import pytest

pytestmark = pytest.mark.ui


def _open(page, server, artifacts=None, name=None) -> float:
    t0 = time.perf_counter()
    page.goto(server["url"])
    for n in ("truth", "observation", "bicubic"):
        page.locator(f".map-{n} canvas").first.wait_for(state="visible")
    page.get_by_text("Loaded sample gulfstream").wait_for()
    return time.perf_counter() - t0


def _progress(page) -> str:
    return page.locator(".ssh-progress pre").first.inner_text().strip()


def _set(page, cls: str, value: str) -> None:
    box = page.locator(f".{cls} input").first
    box.fill(value)
    box.press("Enter")


def _crop_small(page, box: str = "0 64 0 128") -> None:
    _set(page, "w-crop", box)
    y0, y1, x0, x1 = (int(v) for v in box.split())
    page.get_by_text(f"Cropped to {y1 - y0}×{x1 - x0} cells").wait_for()


def test_page_loads_with_the_sample(page, server, artifacts):
    elapsed = _open(page, server)
    page.screenshot(path=os.path.join(artifacts, "ui_loaded.png"), full_page=True)
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    assert page.get_by_role("button", name="Stop", exact=True).is_disabled()
    assert "idle" in _progress(page)
    print(f"page with the three maps visible after {elapsed:.2f} s")
    assert elapsed < 30  # generous on a loaded 2-core CI box; measured typical value is reported by the benchmark


def test_run_streams_and_stop_halts(page, server, artifacts):
    _open(page, server)
    _crop_small(page, "0 64 0 128")
    _set(page, "w-iters", "2000")
    handle = page.locator(".w-members .noUi-handle").first
    handle.focus()
    handle.press("ArrowLeft")
    handle.press("ArrowLeft")                          # K = 2: half the work per step on a busy CPU
    page.get_by_text("Ensemble members K: 2").wait_for()
    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.time() + 120
    while not _progress(page).startswith("step 2/") and time.time() < deadline:
        time.sleep(0.1)                                # a curve needs two points
    # tap two cells on the estimate map: pixel view and transect follow the run
    box = page.locator(".map-estimate canvas").first.bounding_box()
    app = server["apps"][-1]
    for fx, fy in ((0.30, 0.35), (0.55, 0.75)):
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        time.sleep(0.3)
    t_tap = time.time() + 10
    while len(app.points) < 2 and time.time() < t_tap:
        time.sleep(0.1)
    assert len(app.points) == 2 and app.tap == app.points[-1], "taps on the map did not reach the app"
    assert "members" in app.pixel_info() and len(app.transect_info()["distance"]) > 2
    texts, shots = [], []
    est = page.locator(".map-estimate").first
    curve = page.locator(".curve-rmse").first
    shots.append((est.screenshot(), curve.screenshot()))
    time.sleep(1.0)
    page.screenshot(path=os.path.join(artifacts, "ui_running.png"), full_page=True)
    t_end = time.time() + 6
    while time.time() < t_end or len({t.split("·")[0] for t in texts}) < 2 and time.time() < deadline:
        texts.append(_progress(page))
        time.sleep(0.25)
    shots.append((est.screenshot(path=os.path.join(artifacts, "ui_estimate.png")),
                  curve.screenshot(path=os.path.join(artifacts, "ui_rmse.png"))))
    steps = {t.split("·")[0] for t in texts if t.startswith("step")}
    assert len(steps) >= 2, f"progress did not advance: {texts[:3]} … {texts[-3:]}"
    assert shots[0][0] != shots[1][0], "the estimate map did not change while running"
    assert shots[0][1] != shots[1][1], "the RMSE curve did not change while running"

    page.get_by_role("button", name="Stop", exact=True).click()
    t0 = time.perf_counter()
    while "stopped" not in _progress(page) and time.perf_counter() - t0 < 5:
        time.sleep(0.05)
    reacted = time.perf_counter() - t0
    frozen = _progress(page)
    app = server["apps"][-1]
    print(f"server: Stop click handled after {app.stats.get('stop_called', float('nan')) - t0:.2f} s, "
          f"page state 'stopped' after {app.stats.get('finished', float('nan')) - t0:.2f} s; browser showed it "
          f"after {reacted:.2f} s")
    # the server halts at its next flush (< 0.2 s, asserted in tests/test_explorer.py); the browser may lag
    # behind on a loaded 2-core machine, so the page gets 2 s here
    assert "stopped" in frozen and reacted < 2.0, f"Stop took {reacted:.2f} s: {frozen}"
    time.sleep(2.5)
    assert _progress(page) == frozen, "the progress kept changing after Stop"
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    page.screenshot(path=os.path.join(artifacts, "ui_stopped.png"), full_page=True)
    print(f"Stop reacted in {reacted:.2f} s; {len(steps)} distinct steps seen in 8 s")


def test_bad_upload_shows_a_message_and_a_good_run_follows(page, server, artifacts, tmp_path):
    _open(page, server)
    junk = tmp_path / "junk.nc"
    junk.write_bytes(os.urandom(4096))
    page.locator(".w-upload input[type=file]").first.set_input_files(str(junk))
    alert = page.locator(".ssh-error").get_by_text("cannot read").first
    alert.wait_for(state="visible")
    page.screenshot(path=os.path.join(artifacts, "ui_bad_upload.png"), full_page=False)
    # the sample is still loaded and a short run works
    _crop_small(page, "0 32 0 64")
    _set(page, "w-iters", "3")
    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.time() + 180
    while "done at step 3/3" not in _progress(page) and time.time() < deadline:
        time.sleep(0.2)
    assert "done at step 3/3" in _progress(page), _progress(page)
    assert not alert.is_visible()
    assert page.get_by_role("button", name="Download NetCDF").is_enabled()
