"""Issue 26 in headless Chromium at 1440×900: the guide map (SST) chosen in the page reaches the fit, its map shows
beside the estimate, the gate's line says whether the fit used it and why, and a guide file that cannot be used is
said in plain words while the loaded field (and the guide chosen before) stay. In the Explore and Downscale tabs.

Fits are stand-ins (the page's pipeline without a fit's cost) that run dipcore's real guide plan on what they are
given: the gate's decision and the guide on the fine grid are the real ones."""

from __future__ import annotations

import dataclasses
import os
import re
import time

import numpy as np
import pytest
from pageutil import IMAGE_JS, horizontal_scroll, on_first_screen, set_input

pytestmark = pytest.mark.ui

W, H = 1440, 900
OWN = "the sample's own SST"
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def guided_stand_in(stand_in, seen: dict):
    """``stand_in`` (the UI tests' fit) whose events carry dipcore's real report of the guide it is given
    (``Progress.guide``), as the real fit's do; ``seen["guide"]`` records what the page passed."""
    from dipcore.guide import plan_guide

    def fit(observation, degradation, recipe=None, *, guide=None, truth=None, **kw):
        seen["guide"] = guide
        report = None
        if guide is not None:
            report = plan_guide(guide, observation, degradation, np.isfinite(truth), [kw.get("seed", 0)]).report
        for p in stand_in(observation, degradation, recipe, truth=truth, **kw):
            yield dataclasses.replace(p, guide=report)
    return fit


def guided_downscale(seen: dict, steps: int = 3):
    """A stand-in of ``dipcore.downscale.downscale`` whose events carry the real report of its guide (no Dataset:
    the run shows its events, as a stopped one does)."""
    from dipcore.degrade import Degradation
    from dipcore.guide import plan_guide
    from dipcore.solver import Progress

    def fit(da, factor, *, progress=None, guide=None, members=1, **kw):
        seen["guide"] = guide
        obs = np.asarray(da.values, np.float32)
        fine = np.kron(obs, np.ones((factor, factor), np.float32))
        mask = np.isfinite(fine)
        report = plan_guide(guide, obs, Degradation(factor, mask=mask), mask, [0]).report if guide else None
        for step in range(1, steps + 1):
            progress(Progress(step=step, iters=steps, loss=np.zeros(1, np.float32), estimate=fine, member_std=None,
                              elapsed=0.01 * step, done=False, guide=report))
        return None
    return fit


def _choose(page, css: str, label: str) -> None:
    page.locator(f".{css} select").first.select_option(label)


def _text(locator, words: str) -> str:
    """The text of the paragraph of a Panel pane that holds ``words`` (Playwright reaches into its shadow root)."""
    return locator.get_by_text(re.compile(re.escape(words))).first.inner_text()


def _junk(tmp_path) -> str:
    junk = tmp_path / "junk.nc"
    junk.write_bytes(os.urandom(4096))
    return str(junk)


def test_explore_a_chosen_guide_reaches_the_fit_its_map_and_the_gate_line_show(screen, server, serve_fit,
                                                                                ui_helpers, tmp_path, artifacts):
    from dipcore.guide import Guide

    seen: dict = {}
    serve_fit(guided_stand_in(ui_helpers.stand_in_fit(40.0), seen))
    page = screen
    page.goto(server["url"])
    page.get_by_text("Loaded sample gulfstream").wait_for()
    app = server["apps"][-1]
    page.locator(".sidebar-data select").first.select_option("sqg_twin")
    page.get_by_text("Loaded sample sqg_twin").wait_for()
    assert page.locator(".map-guide").count() == 0  # no guide: the grid as before
    _choose(page, "w-guide", OWN)
    page.locator(".map-guide canvas").first.wait_for(state="visible")
    page.wait_for_function(f"({IMAGE_JS})('ssh-guide') === 128 * 128")  # the guide, drawn before any run
    assert page.locator(".map-change").count() == 0  # it took the place of "what the network changed"
    set_input(page, "w-iters", "20")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(".ssh-progress pre").get_by_text("done at step 20/20").wait_for()
    status = page.locator(".ssh-guide-status").first
    status.get_by_text("The gate used the guide").wait_for()
    assert re.search(r"it predicts \d+% of the coarse map's finest detail", _text(status, "The gate used"))
    g = seen["guide"]
    assert isinstance(g, Guide) and g.values.shape == app.twin.truth.shape  # the fit got it, on its fine grid
    assert app.result.guide is not None and app.result.guide.used
    for cls in ("map-estimate", "map-guide", "ssh-guide-status"):
        assert on_first_screen(page.locator(f".{cls}").first, W, H), f"{cls} is not on the first screen"
    for button in ("Run", "Stop"):
        assert on_first_screen(page.get_by_role("button", name=button, exact=True).first, W, H)
    width, inner = horizontal_scroll(page)
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"
    page.screenshot(path=os.path.join(artifacts, "ui_guide_explore.png"))
    # a file that is no guide: said in plain words; the field, its run and the guide chosen stay
    page.locator(".w-guide-upload input[type=file]").first.set_input_files(_junk(tmp_path))
    alert = page.locator(".ssh-error").first
    alert.get_by_text("Could not use junk.nc as the guide").wait_for()
    text = _text(alert, "Could not use junk.nc")
    assert "is not a NetCDF file this page can read" in text and "The guide is still sqg_twin.nc:sst" in text
    assert "errno" not in text.lower() and "--" not in text and "/" not in text.replace("°", "")
    assert app.sample == "sqg_twin" and app.field.shape == (128, 128) and app.result is not None
    assert app.guide.choice == OWN and page.evaluate(f"({IMAGE_JS})('ssh-guide')") == 128 * 128
    # none again: the grid as before, and the fit gets no guide
    _choose(page, "w-guide", "none")
    page.locator(".map-change canvas").first.wait_for(state="visible")
    assert page.locator(".map-guide").count() == 0
    seen.clear()
    page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.time() + 30
    while "guide" not in seen and time.time() < deadline:  # the fit has started (the line still reads "done")
        time.sleep(0.05)
    assert "guide" in seen and seen["guide"] is None
    assert app.wait(30)


def test_downscale_an_uploaded_guide_reaches_the_run_and_a_bad_one_is_said(screen, server, tmp_path, artifacts):
    from dipcore.guide import Guide

    page = screen
    page.goto(server["url"])
    page.get_by_text("Loaded sample gulfstream").wait_for()
    app = server["apps"][-1]
    tab = app.view.downscale
    seen: dict = {}
    tab.session.fit = guided_downscale(seen)
    page.get_by_text("Downscale my field", exact=True).first.click()
    page.get_by_role("button", name="Downscale", exact=True).wait_for()
    page.locator(".sidebar-downscale select").first.select_option("roms_txla")
    page.locator(".ds-status").get_by_text("loaded sample roms_txla").wait_for()
    assert tab.state.guide.param.choice.objects == ["none", OWN]
    page.locator(".w-ds-guide-upload input[type=file]").first.set_input_files(
        os.path.join(ROOT, "assets", "roms_txla_sst.nc"))
    page.locator(".ds-guide-status").get_by_text("Guide: roms_txla_sst.nc").wait_for()
    assert tab.state.guide.choice == "file: roms_txla_sst.nc"
    page.locator(".ds-guide canvas").first.wait_for(state="visible")
    page.get_by_role("button", name="Downscale", exact=True).click()
    status = page.locator(".ds-guide-status").first
    status.get_by_text("The gate did not use the guide").wait_for()  # the ROMS SST: nothing below the coarse cell
    assert "The fit ran without it" in _text(status, "The gate did not")
    assert isinstance(seen["guide"], Guide)
    shape = seen["guide"].values.shape
    page.wait_for_function(f"({IMAGE_JS})('ds-guide') > 0")
    assert shape == (tab.state.field.shape[0] * 4, tab.state.field.shape[1] * 4)
    width, inner = horizontal_scroll(page)
    assert width <= inner
    page.screenshot(path=os.path.join(artifacts, "ui_guide_downscale.png"))
    # a file that is no guide: said in plain words; the map and the guide chosen stay
    page.locator(".w-ds-guide-upload input[type=file]").first.set_input_files(_junk(tmp_path))
    alert = page.locator(".ds-error").first
    alert.get_by_text("Could not use junk.nc as the guide").wait_for()
    text = _text(alert, "Could not use junk.nc")
    assert "The guide is still roms_txla_sst.nc; your map is unchanged" in text
    assert "errno" not in text.lower() and "--" not in text
    assert "roms_txla" in tab.state.source and tab.state.field is not None
    assert tab.state.guide.choice == "file: roms_txla_sst.nc"
    time.sleep(0.2)
