"""The Downscale tab served alone, in headless Chromium: Run streams the estimate, the std and the misfit curve,
Stop ends a slow run, and the NetCDF download comes once a run is done; a sample of several maps shows a Time step
box that loads the day typed into it."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from netutil import free_port, wait_port  # noqa: F401  (the servers' ports)
from pageutil import set_input
from test_downscale_tab import (  # tests/ is on sys.path (pytest's rootdir mode)
    fake_downscale,
    small_field,
)

pytestmark = pytest.mark.ui


def wait_until(cond, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def served():
    """``served(fit)`` → (url, tabs): a server whose page is one DownscaleTab per session running ``fit``."""
    pn = pytest.importorskip("panel")
    from explorer.ui.downscale import DownscaleTab

    servers, tabs = [], []

    def start(fit, sample: bool = False):
        def factory():
            tab = DownscaleTab(fit=fit, load=sample)  # sample: the tab's own default sample
            if not sample:
                tab.state.use_field(small_field(32, 48), "a test field")
            tabs.append(tab)
            return tab.__panel__()

        port = free_port()
        servers.append(pn.serve({"/": factory}, port=port, threaded=True, show=False, start=True))
        wait_port(port)
        return f"http://localhost:{port}/", tabs

    yield start
    for t in tabs:
        t.close()
    for s in servers:
        s.stop()


def test_run_streams_then_download_and_stop_in_the_browser(browser, served):
    url, tabs = served(fake_downscale(delay=0.3, steps=8))
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        page.get_by_role("button", name="Downscale", exact=True).click()
        wait_until(lambda: tabs and tabs[0].state.snapshot is not None)
        page.get_by_text("running: step").wait_for()
        page.get_by_text("done in").wait_for(timeout=30_000)
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download field_x4_downscaled.nc").click()  # the label names the file
        assert dl.value.suggested_filename == "field_x4_downscaled.nc"
        # a slow run: Stop ends it
        tabs[0].state.iters = 400
        page.get_by_role("button", name="Downscale", exact=True).click()
        page.get_by_text("running: step").wait_for()
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("stopped at step").wait_for(timeout=10_000)
        assert tabs[0].session.job.join(5)
    finally:
        ctx.close()


def test_a_sample_of_several_days_shows_a_time_step_box_that_loads_the_day(browser, served):
    url, tabs = served(fake_downscale(delay=0.05, steps=4), sample=True)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        wait_until(lambda: tabs and tabs[0].state.field is not None)
        s = tabs[0].state
        if s.time_steps < 2:
            pytest.skip(f"the default sample {s.sample!r} has one time step")
        box = page.locator(".w-ds-time input").first
        box.wait_for(state="visible")
        first = np.asarray(s.field.values).copy()
        set_input(page, "w-ds-time", "3")
        wait_until(lambda: s.time_index == 3)
        page.get_by_text("time step 3").first.wait_for()
        assert not np.array_equal(np.asarray(s.field.values), first, equal_nan=True), "the same map again"
        page.get_by_role("button", name="Downscale", exact=True).click()
        page.get_by_text("done in").wait_for(timeout=30_000)
        with page.expect_download() as dl:
            page.get_by_role("button", name=f"Download {s.sample}_t3_x4_downscaled.nc").click()
        assert dl.value.suggested_filename == f"{s.sample}_t3_x4_downscaled.nc"
        os.makedirs("/tmp/shots", exist_ok=True)
        page.screenshot(path="/tmp/shots/downscale_time_step.png", full_page=True)
    finally:
        ctx.close()
