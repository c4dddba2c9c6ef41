"""The explorer in headless Chromium: page load, live streaming (with the bicubic and IBP reference lines), Stop, the
default recipe's RMSE moving during a run, a bad upload followed by a good run, two tabs running two fits, and a
1024² field (stand-in fit) that streams rasterised maps and stops."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest
from pageutil import TITLES_JS, progress_text as _progress, set_input as _set, wait_enabled

pytestmark = pytest.mark.ui


def _open(page, server, artifacts=None, name=None) -> float:
    t0 = time.perf_counter()
    page.goto(server["url"])
    for n in ("truth", "observation", "bicubic"):
        page.locator(f".map-{n} canvas").first.wait_for(state="visible")
    page.get_by_text("Loaded sample gulfstream").wait_for()
    return time.perf_counter() - t0




# Times, in the page, a pointer press and the first moment the progress text says "stopped" (no polling from here).
STOP_CLOCK_JS = """(host) => {
    window.__stopped_at = null;
    new MutationObserver(() => {
        if (window.__stopped_at === null && host.shadowRoot.textContent.includes("stopped"))
            window.__stopped_at = performance.now();
    }).observe(host.shadowRoot, {childList: true, characterData: true, subtree: true});
    document.addEventListener("pointerdown", () => { window.__pressed_at = performance.now(); }, true);
}"""


def _server_side(app) -> str:
    """What the server knows of a session's run, for a failure's message (did the Stop click arrive? did the page's
    text fall behind the server's?)."""
    job, st = app.session.job, app.session.stats
    return (f"server: running={app.running}, text={app.progress_text!r}, stop requested="
            f"{job is not None and job.stop_requested}, worker alive={job is not None and job.alive}, "
            f"pushes={st['pushes']}, stop_called={'stop_called' in st}, error={app.error!r}")


def _click_stop_timed(page, app) -> float:
    """Press Stop like a user (a mouse click on the button, which Playwright first checks is there and enabled)
    and return the seconds from the press until the page shows "stopped"."""
    page.locator(".ssh-progress").first.evaluate(STOP_CLOCK_JS)
    page.get_by_role("button", name="Stop", exact=True).click()
    try:
        page.wait_for_function("window.__stopped_at !== null", timeout=10_000)
    except Exception as exc:
        raise AssertionError(f"the page did not show 'stopped' within 10 s of the click; page: "
                             f"{_progress(page)!r}; {_server_side(app)}") from exc
    return page.evaluate("(window.__stopped_at - window.__pressed_at) / 1000")


def _stop_and_wait(page, app) -> None:
    """Bring the tab to the front (as a user must, to click in it), press Stop, wait for "stopped" on the page."""
    page.bring_to_front()
    page.get_by_role("button", name="Stop", exact=True).click()
    try:
        page.locator(".ssh-progress pre").get_by_text("stopped").wait_for(timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"the page did not show 'stopped' within 30 s of the click; page: "
                             f"{_progress(page)!r}; {_server_side(app)}") from exc
    assert app.wait(30), "the worker did not end within 30 s of 'stopped'"  # and the run's end is settled


def _wait_step(page, step: int, timeout: float = 120) -> None:
    """Wait until the progress text shows a running fit at ``step`` or later (not the "stopped at step …" line of
    a run that ended)."""
    page.wait_for_function(
        """([host, n]) => { const m = host.shadowRoot.textContent.match(/(?<!at )step (\\d+)\\//); return m && +m[1] >= n; }""",
        arg=[page.locator(".ssh-progress").first.element_handle(), step], timeout=timeout * 1000)


# The legends of the page's Bokeh figures as the browser has them, per legend: [[label, finite y values of its line]…]
LEGENDS_JS = """() => {
    const out = [];
    for (const doc of Bokeh.documents) for (const m of doc.all_models) {
        if (m.constructor.__name__ !== "Legend") continue;
        out.push(m.items.map(it => [it.label && it.label.value,
            it.renderers.reduce((n, r) => n + Array.from(r.data_source.data.y || []).filter(Number.isFinite).length,
                                0)]));
    }
    return out;
}"""


def _score_legends(page) -> list[dict]:
    """The legends whose first entry is the DIP curve (the RMSE and SSIM plots) as {label: finite points}."""
    return [dict(items) for items in page.evaluate(LEGENDS_JS) if items and items[0][0] == "DIP"]


def _count_colour(png: bytes, rgb: tuple[int, int, int], tol: int = 40) -> int:
    """Pixels of a screenshot within ``tol`` of colour ``rgb``."""
    import io

    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return int((np.abs(a - np.array(rgb)).sum(axis=-1) < tol).sum())


def _rmse_shown(page) -> tuple[int, float] | None:
    """(step, DIP RMSE in cm) from the progress text, or None while it shows no RMSE yet."""
    m = re.search(r"step (\d+)/\d+ .*?RMSE ([\d.]+) cm", _progress(page))
    return (int(m.group(1)), float(m.group(2))) if m else None


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
    # hovering a map shows the value there with its unit
    box = page.locator(".map-truth canvas").first.bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.45 * box["height"])
    value = page.get_by_text(re.compile(r"^-?\d+\.\d\d cm$")).first  # Bokeh's tooltip row "SSH: 61.23 cm"
    value.wait_for(state="visible", timeout=10_000)
    assert page.get_by_text("???").count() == 0
    print(f"page with the three maps visible after {elapsed:.2f} s")
    assert elapsed < 30  # generous on a loaded 2-core CI box; measured typical value is reported by the benchmark


def _run_small(page, app=None, recipe: str | None = None) -> None:
    """Start a 2000-step run with K = 2 on a 64×128 crop: half the work per step on a busy CPU. ``recipe``: picked
    first in ``app``'s page (its own iteration count comes with it, then 2000 replaces it)."""
    _crop_small(page, "0 64 0 128")
    if recipe is not None:
        page.locator(".w-recipe select").first.select_option(recipe)
        deadline = time.time() + 10
        while app.recipe != recipe and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)                                 # the recipe's own count reaches the box before ours
    _set(page, "w-iters", "2000")
    handle = page.locator(".w-members .noUi-handle").first
    handle.focus()
    handle.press("ArrowLeft")
    handle.press("ArrowLeft")
    page.get_by_text("Ensemble members K: 2").wait_for()
    page.get_by_role("button", name="Run", exact=True).click()


def test_run_streams_and_stop_halts(page, server, artifacts):
    """A real fit streams and Stop halts it. The recipe is 'dip1500', which has no stopping rule: the default
    'dip' now ends by itself (~step 360 here) and could end before the test presses Stop."""
    _open(page, server)
    app = server["apps"][-1]
    _run_small(page, app, recipe="dip1500")
    assert app.recipe == "dip1500" and app.iters == 2000
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
    # IBP is a named baseline: a legend entry and a drawn reference line on both score curves, and in the text
    legends = _score_legends(page)
    assert len(legends) == 2, legends
    for lg in legends:
        assert list(lg) == ["DIP", "bicubic", "IBP"] and lg["IBP"] == 2 and lg["bicubic"] == 2, lg
    assert _count_colour(shots[1][1], (0x2C, 0xA0, 0x2C)) > 50, "no IBP (green) line on the RMSE curve"
    assert "IBP" in texts[-1], texts[-1]

    app = server["apps"][-1]
    reacted = _click_stop_timed(page, app)
    frozen = _progress(page)
    stats = app.session.stats
    print(f"Stop: the page showed 'stopped' {reacted:.2f} s after the click (server: click handled "
          f"{stats.get('end_shown', float('nan')) - stats.get('stop_called', float('nan')):.2f} s before "
          "the 'stopped' message left)")
    # image updates wait for the browser's ack of the previous one (at most two in flight), so no backlog delays
    # the "stopped" message; measured 0.3-0.7 s on a 2-core box at load 6 (benchmarks/bench_explorer.py)
    assert "stopped" in frozen and reacted < 1.0, f"Stop took {reacted:.2f} s: {frozen}"
    assert app.wait(60) and app.result is not None                  # the worker ends after its current step
    assert app.feed["estimate"] is app.result.estimate               # the last estimate stays on screen
    time.sleep(2.5)
    assert _progress(page) == frozen, "the progress kept changing after Stop"
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    page.screenshot(path=os.path.join(artifacts, "ui_stopped.png"), full_page=True)
    print(f"Stop reacted in {reacted:.2f} s; {len(steps)} distinct steps seen in 8 s")
    assert server['apps'][-1].live.rtts, "the browser never acknowledged an image update"


def test_bad_upload_shows_a_message_and_a_good_run_follows(page, server, artifacts, tmp_path):
    _open(page, server)
    junk = tmp_path / "junk.nc"
    junk.write_bytes(os.urandom(4096))
    page.locator(".w-upload input[type=file]").first.set_input_files(str(junk))
    alert = page.locator(".ssh-error").get_by_text("not a NetCDF file this page can read").first
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
    wait_enabled(page, "Download NetCDF: ×8 run on gulfstream")


def test_two_tabs_run_two_fits_and_closing_one_stops_its_fit(page, server, serve_fit, ui_helpers):
    """Two tabs are two sessions: their fields, settings and fits are independent; closing a tab ends its fit.
    The fits are stand-ins at 10 events/s (the real fit's independence: tests/test_explorer.py)."""
    serve_fit(ui_helpers.stand_in_fit(10.0))
    apps = server["apps"]
    _open(page, server)
    a = apps[-1]
    other = page.context.new_page()                   # a second tab of the same browser window
    _open(other, server)
    b = apps[-1]
    assert a is not b and a.feed is not b.feed
    _crop_small(page, "0 32 0 64")
    _crop_small(other, "0 64 0 128")
    for pg in (page, other):
        _set(pg, "w-iters", "5000")
    page.get_by_role("button", name="Run", exact=True).click()
    other.get_by_role("button", name="Run", exact=True).click()
    _wait_step(page, 2)
    _wait_step(other, 2)
    assert a.running and b.running and a.job is not b.job
    assert a.run_twin.truth.shape == (32, 64) and b.run_twin.truth.shape == (64, 128)
    assert a.last.estimate.shape == (32, 64) and b.last.estimate.shape == (64, 128)
    # Stop in one tab leaves the other running
    _stop_and_wait(page, a)
    step_b = b.step
    other.bring_to_front()
    _wait_step(other, step_b + 1)
    assert not a.running and b.running
    # close the second tab: its session ends and its fit stops; the first tab still works
    b_job = b.job
    other.close()
    b_job.join(60 + server["unused_s"])
    assert not b_job.alive and b_job.stop_requested, "closing the tab did not stop its fit"
    assert b_job.events < 5000
    page.bring_to_front()
    page.get_by_role("button", name="Run", exact=True).click()
    _wait_step(page, 1)
    _stop_and_wait(page, a)


def test_a_1024_field_streams_rasterised_maps_and_stops(page, server, artifacts, serve_fit, ui_helpers):
    """A 1024² field (the sample tiled) with a stand-in fit at 20 events/s: maps are rasterised to at most
    MAX_DISPLAY cells a side, pushed at most every LARGE_PERIOD, and Stop still reacts within a second."""
    from dipcore.samples import load_sample
    from explorer.ui.figures import MAX_DISPLAY
    from explorer.run.fit_session import LARGE_PERIOD

    serve_fit(ui_helpers.stand_in_fit(20.0))
    _open(page, server)
    app = server["apps"][-1]
    t0 = time.perf_counter()
    assert app.load_field_object(ui_helpers.field_tiled(load_sample("gulfstream"), 1024), "tiled 1024x1024"), app.error
    page.get_by_text("Loaded tiled 1024x1024").wait_for()
    assert app.field.shape == (1024, 1024)
    _set(page, "w-iters", "20000")
    page.get_by_role("button", name="Run", exact=True).click()
    _wait_step(page, 1)
    print(f"1024²: loaded and first step shown {time.perf_counter() - t0:.2f} s after the load started")
    est = page.locator(".map-estimate").first
    first = est.screenshot()
    t1 = time.perf_counter()
    time.sleep(2.5)
    times = [t for t in app.session.stats["image_times"] if t >= t1]
    # it streams: image updates per second of the window, as counted before
    streamed = len(times) / (time.perf_counter() - t1)
    st = app.session.stats
    cost = st["push_seconds"] / max(st["pushes"], 1)       # server time per push (rasterise, serialise)
    rtt = np.median(app.live.rtts) if app.live.rtts else float("nan")   # sent → painted by the browser
    assert streamed > 0.5, f"{streamed:.2f} image updates/s (a push costs the server {cost:.2f} s, rtt {rtt:.2f} s)"
    # the throttle, on its own clock (when each image update was let through): a count over a 2.5 s window would
    # read 2.0/s for 5 pushes 0.6 s apart, so the bound is on the gaps and on the rate over whole intervals
    gaps = np.diff(times)
    rate = len(gaps) / (times[-1] - times[0]) if len(gaps) else 0.0
    assert len(gaps) and gaps.min() >= LARGE_PERIOD, f"image updates {np.round(gaps, 3)} s apart"
    second = est.screenshot(path=os.path.join(artifacts, "ui_1024_estimate.png"))
    img = app.live.maps["estimate"].source.data["image"][0]
    assert max(img.shape) <= MAX_DISPLAY and img.dtype == np.float32, img.shape
    assert first != second, "the 1024² estimate map did not change while running"
    assert rate <= 1 / LARGE_PERIOD, f"{rate:.2f} pushes/s"
    reacted = _click_stop_timed(page, app)
    print(f"1024²: {streamed:.2f} image updates/s in the window, {rate:.2f}/s over whole intervals (push {cost:.2f} s, "
          f"rtt {rtt:.2f} s); Stop shown {reacted:.2f} s after the click")
    assert reacted < 1.5, f"Stop took {reacted:.2f} s"
    assert app.wait(30) and app.feed["estimate"] is app.result.estimate


# what the browser itself says about its own GPU-less screenshots, not about the page
BROWSER_NOISE = re.compile(r"GL Driver Message|GPU stall due to ReadPixels")


def _fits(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_a_1440x900_screen_holds_the_page_and_the_console_stays_quiet(browser, server, artifacts, serve_fit,
                                                                       ui_helpers):
    """Issue 10: at 1440×900 no sideways scroll and Run on the first screen; one Run per tab; hover and pixel view
    speak lon/lat and say "land"; the credit stays after a run; and a load and a run log no console warning or
    error (the "could not set initial ranges" of empty auto ranges included)."""
    serve_fit(ui_helpers.stand_in_fit(20.0))
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    noise = []
    page.on("console", lambda m: m.type in ("warning", "error") and not BROWSER_NOISE.search(m.text)
            and noise.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: noise.append(f"pageerror: {e}"))
    try:
        _open(page, server)
        width, inner = _fits(page)
        assert width <= inner, f"the page is {width} px wide in a {inner} px window"
        run = page.get_by_role("button", name="Run", exact=True)
        box = run.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1440 and box["y"] + box["height"] <= 900, box
        assert page.locator(".ssh-credit").get_by_text("Copernicus").is_visible()
        # before any run the Uncertainty tab says what will be there, not an empty axis
        page.get_by_text("Uncertainty", exact=True).first.click()
        page.get_by_text(re.compile(r"Run a fit to the end to see its uncertainty")).first.wait_for()
        page.get_by_text("Explore", exact=True).first.click()
        page.locator(".map-truth canvas").first.wait_for(state="visible")
        time.sleep(0.5)
        # hover: the value in cm and where in lon/lat; "land" on land (the Gulf Stream sample's top left)
        truth = page.locator(".map-truth canvas").first.bounding_box()
        # the canvas holds title, axes and colour bar: its plot frame spans about 0.14-0.76 of its height here
        page.mouse.move(truth["x"] + 0.45 * truth["width"], truth["y"] + 0.55 * truth["height"])
        page.get_by_text(re.compile(r"^-?\d+\.\d\d cm$")).first.wait_for(state="visible", timeout=10_000)
        page.get_by_text(re.compile(r"^-?\d+\.\d\d °E$")).first.wait_for(state="visible", timeout=10_000)
        page.mouse.move(truth["x"] + 0.2 * truth["width"], truth["y"] + 0.2 * truth["height"])
        page.get_by_text("land", exact=True).first.wait_for(state="visible", timeout=10_000)

        _set(page, "w-iters", "20")
        run.click()
        page.locator(".ssh-progress pre").get_by_text("done at step 20/20").wait_for()
        assert "finished" in _progress(page) and "estimate from step 20" in _progress(page)
        assert page.locator(".ssh-credit").get_by_text("Copernicus").is_visible(), "the credit left with the run"
        # tap the ocean, then land: one estimate in the pixel view; land is named, not drawn as NaN
        est = page.locator(".map-estimate canvas").first.bounding_box()
        page.mouse.click(est["x"] + 0.45 * est["width"], est["y"] + 0.8 * est["height"])
        page.wait_for_function(f"({TITLES_JS})().some(t => t.includes('DIP ') && t.includes('°N'))")
        page.mouse.click(est["x"] + 0.15 * est["width"], est["y"] + 0.12 * est["height"])
        page.wait_for_function(f"({TITLES_JS})().some(t => t.startsWith('land (no data) at '))")
        width, inner = _fits(page)
        assert width <= inner, f"after a run the page is {width} px wide in a {inner} px window"

        page.get_by_text("Experiments", exact=True).first.click()
        page.get_by_role("button", name="Run sweep").wait_for()
        assert page.get_by_role("button", name="Run", exact=True).count() == 0     # the tab's own start only
        assert page.get_by_role("button", name="Stop", exact=True).count() == 0
        page.get_by_text("Run sweep uses gulfstream").wait_for()                  # the sidebar's sample
        width, inner = _fits(page)
        assert width <= inner, f"the Experiments tab is {width} px wide in a {inner} px window"
        time.sleep(1.0)                                                            # late repaints log too
        assert noise == [], "\n".join(noise)
        page.get_by_text("Explore", exact=True).first.click()
        page.locator(".map-estimate canvas").first.wait_for(state="visible")
        time.sleep(1.0)
        page.screenshot(path=os.path.join(artifacts, "ui_1440x900.png"))
    finally:
        ctx.close()
