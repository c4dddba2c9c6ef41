"""The explorer for a class, in headless Chromium (issue 10): Ctrl+Enter runs and Escape stops; the guided first
run (hint under an emphasised Run, a caption under each map as it fills, "what just happened" when a run ends);
the comparison map's toggle changes the image; after a run the fit plays back and downloads as a GIF.

Fits are stand-ins (``serve_fit``): the pipeline of a real run without its cost."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from pageutil import TITLES_JS, progress_text as _progress, set_input as _set, wait_enabled

pytestmark = pytest.mark.ui

SHOTS = "/tmp/shots"
# sum of squares of the finite cells of a named data source's image, as the browser has it (null when absent)
IMAGE_SUM_JS = """(name) => {
    for (const doc of Bokeh.documents) for (const m of doc.all_models) {
        if (m.name !== name || !m.data || !m.data.image) continue;
        const img = m.data.image[0];
        let s = 0;
        for (const v of img) if (Number.isFinite(v)) s += v * v;
        return s;
    }
    return null;
}"""


def _open(page, server) -> None:
    page.goto(server["url"])
    for n in ("truth", "observation", "bicubic"):
        page.locator(f".map-{n} canvas").first.wait_for(state="visible")
    page.get_by_text("Loaded sample gulfstream").wait_for()




def _quiet(page) -> list[str]:
    """Console warnings and errors of ``page`` from now on (the browser's own GPU notes left out)."""
    noise: list[str] = []
    skip = re.compile(r"GL Driver Message|GPU stall due to ReadPixels")
    page.on("console", lambda m: m.type in ("warning", "error") and not skip.search(m.text)
            and noise.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: noise.append(f"pageerror: {e}"))
    return noise


def test_ctrl_enter_runs_and_escape_stops(page, server, serve_fit, ui_helpers):
    serve_fit(ui_helpers.stand_in_fit(10.0))
    noise = _quiet(page)
    _open(page, server)
    app = server["apps"][-1]
    _set(page, "w-iters", "2000")
    page.locator(".ssh-keys").first.click()                  # focus off the text box: a key for the whole page
    assert page.locator(".ssh-keys").get_by_text("Ctrl+Enter").is_visible()
    page.keyboard.press("Control+Enter")
    page.locator(".ssh-progress pre").get_by_text(re.compile(r"^step \d+/2000")).wait_for(timeout=30_000)
    assert app.running and page.get_by_role("button", name="Run", exact=True).is_disabled()
    page.keyboard.press("Escape")
    page.locator(".ssh-progress pre").get_by_text("stopped").wait_for(timeout=10_000)
    assert app.wait(30) and not app.running and app.end_reason == "stopped by the user"
    assert app.view.shortcuts.pressed == 2                   # one message per key press, not per listener
    wait_enabled(page, "Run")
    page.keyboard.press("Escape")                            # nothing runs: Escape changes nothing
    time.sleep(0.5)
    assert not app.running and "stopped" in _progress(page)
    assert noise == [], "\n".join(noise)


def test_a_guided_first_run_then_compare_and_replay(browser, server, serve_fit, ui_helpers, tmp_path):
    serve_fit(ui_helpers.stand_in_fit(40.0))
    os.makedirs(SHOTS, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    noise = _quiet(page)
    try:
        _open(page, server)
        app = server["apps"][-1]
        # one obvious first action: an outlined Run with a hint under it, both on the first screen
        hint = page.locator(".ssh-first-hint")
        hint.get_by_text("Start here").wait_for()
        assert page.locator(".ssh-first-run").count() == 1
        box = hint.bounding_box()
        assert box["y"] + box["height"] <= 900, box
        # captions: the maps that have data say what they show; the estimate's waits for the estimate
        page.locator(".caption-truth").get_by_text("real sea surface height").wait_for()
        assert page.locator(".caption-obs").is_visible() and not page.locator(".caption-estimate").is_visible()
        page.screenshot(path=os.path.join(SHOTS, "teaching_before_run.png"))
        _set(page, "w-iters", "30")
        page.get_by_role("button", name="Run", exact=True).click()
        page.locator(".ssh-progress pre").get_by_text("done at step 30/30").wait_for()
        assert not hint.is_visible() and page.locator(".ssh-first-run").count() == 0
        page.locator(".caption-estimate").get_by_text("learnt from the coarse map").wait_for()
        told = page.locator(".ssh-what-happened")
        told.get_by_text("What just happened").wait_for()
        text = told.evaluate("el => el.shadowRoot.textContent")
        rmse_cm = app.result.metrics["rmse"] * 100
        assert f"{rmse_cm:.2f} cm" in text and "IBP" in text and "bicubic" in text, text
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1440, f"the page is {width} px wide"
        page.screenshot(path=os.path.join(SHOTS, "teaching_after_run.png"))

        page.get_by_text("Compare & replay", exact=True).first.click()
        page.locator(".map-compare canvas").first.wait_for(state="visible")
        page.wait_for_function(f"({IMAGE_SUM_JS})('ssh-compare') > 0")
        shown = {}
        for label, title in (("Truth", "Truth"), ("IBP", "IBP from"), ("Bicubic", "Bicubic from"),
                             ("DIP estimate", "DIP estimate from")):
            page.locator(".w-compare").get_by_role("button", name=label, exact=True).click()
            page.wait_for_function(f"({TITLES_JS})().some(t => t.startsWith({title!r}))")
            time.sleep(0.3)
            shown[label] = page.evaluate(IMAGE_SUM_JS, "ssh-compare")
        assert len(set(shown.values())) == 4, f"the toggle did not change the image: {shown}"
        # the replay: its map shows the last frame; the player moves it; the GIF downloads
        page.locator(".map-replay canvas").first.wait_for(state="visible")
        page.wait_for_function(f"({TITLES_JS})().some(t => t.includes('step 30/30'))")
        gif = page.get_by_role("button", name=re.compile("Download the fit as a GIF"))
        gif.wait_for()
        page.screenshot(path=os.path.join(SHOTS, "teaching_compare_replay.png"), full_page=True)
        with page.expect_download(timeout=60_000) as got:     # the server builds the GIF on the click
            gif.click()
        data = Path(got.value.path()).read_bytes()
        from PIL import Image

        assert data[:4] == b"GIF8" and Image.open(io.BytesIO(data)).n_frames > 1
        assert got.value.suggested_filename == "ssh-dip-fit.gif"
        assert noise == [], "\n".join(noise)
    finally:
        ctx.close()
