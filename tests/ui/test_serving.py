"""A server that many people open (issue 13), in headless Chromium: bad uploads are messages and a run follows;
a second tab waits in the server's queue and says so; closing a tab stops its fit within 2 s.

Fits are stand-ins injected into each page's app (``serve_fit``); the sessions of a test share one fit queue
(``serve_queue``), as those of ``panel serve explorer`` share the server's."""

from __future__ import annotations

import os
import time

import pytest
from bad_inputs import CASES
from pageutil import wait_enabled
from test_explorer_ui import _crop_small, _open, _set, _wait_step

from explorer.data.server_limits import Limits
from explorer.run.fitqueue import FitQueue

pytestmark = pytest.mark.ui


def _case_file(name: str, folder) -> str:
    case = next(c for c in CASES if c.name == name)
    path = folder / f"{name}{case.suffix}"
    case.make(path)
    return str(path)


def test_three_bad_uploads_are_messages_and_a_run_follows(page, server, artifacts, serve_fit, ui_helpers, tmp_path):
    serve_fit(ui_helpers.stand_in_fit(50.0))
    _open(page, server)
    app = server["apps"][-1]
    _crop_small(page, "0 32 0 64")
    field = app.field
    upload = page.locator(".w-upload input[type=file]").first
    alert = page.locator(".ssh-error")
    for name, words in (("not_netcdf", "not a NetCDF file"), ("all_nan", "all land"), ("constant_field", "constant")):
        upload.set_input_files(_case_file(name, tmp_path))
        alert.get_by_text(words).first.wait_for(state="visible")
        assert app.field is field and app.index_crop == "0 32 0 64", name    # what was loaded stays
    page.screenshot(path=os.path.join(artifacts, "ui_bad_uploads.png"), full_page=False)
    # a usable file with a repair: loaded, and the repair said in one line
    upload.set_input_files(_case_file("inf_values", tmp_path))
    page.locator(".ssh-note").get_by_text("non-finite").first.wait_for(state="visible")
    assert not alert.first.is_visible() and app.field.shape == (32, 48)
    _set(page, "w-iters", "20")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(".ssh-progress pre").get_by_text("done at step 20/20").wait_for()
    assert app.wait(30) and app.result.done and app.error == ""       # the result follows the "done" line


def test_a_second_tab_waits_in_the_queue_and_stop_leaves_it(page, server, serve_fit, serve_queue, ui_helpers):
    queue = FitQueue(1)
    serve_fit(ui_helpers.stand_in_fit(10.0))
    serve_queue(queue, Limits(max_concurrent_fits=1, max_iters=5000))
    _open(page, server)
    a = server["apps"][-1]
    other = page.context.new_page()
    _open(other, server)
    b = server["apps"][-1]
    for pg in (page, other):
        pg.locator(".ssh-limits").get_by_text("1 fit at a time").wait_for()
        _set(pg, "w-iters", "5000")
    page.get_by_role("button", name="Run", exact=True).click()
    _wait_step(page, 1)
    t0 = time.perf_counter()
    other.get_by_role("button", name="Run", exact=True).click()
    other.locator(".ssh-progress pre").get_by_text("queued, position 1").wait_for()
    shown = time.perf_counter() - t0
    assert b.queue_position == 1 and a.queue_position == 0
    # Stop on the queued tab: it leaves the queue, its Run is back
    other.get_by_role("button", name="Stop", exact=True).click()
    other.locator(".ssh-progress pre").get_by_text("stopped while queued").wait_for()
    wait_enabled(other, "Run")
    assert queue.counts() == (1, 0)
    # queued again, then admitted as soon as the first tab stops
    other.get_by_role("button", name="Run", exact=True).click()
    other.locator(".ssh-progress pre").get_by_text("queued, position 1").wait_for()
    t1 = time.perf_counter()
    page.get_by_role("button", name="Stop", exact=True).click()
    _wait_step(other, 1)
    started = time.perf_counter() - t1
    print(f"queue in the browser: 'queued, position 1' shown {shown:.2f} s after Run; the queued tab showed its "
          f"first step {started:.2f} s after Stop in the first tab (waited {b.job.ticket.waited:.2f} s)")
    other.get_by_role("button", name="Stop", exact=True).click()
    other.locator(".ssh-progress pre").get_by_text("stopped").wait_for()
    other.close()
    assert b.job.join(10) and queue.counts() == (0, 0)


def test_closing_a_tab_stops_its_fit_within_two_seconds(page, server, serve_fit, serve_queue, ui_helpers):
    """The explorer stops the fit of a tab whose connection has gone (explorer.run.lifecycle.GONE_S) without waiting
    for Bokeh to destroy the session (``unused_session_lifetime``: 15 s by default, 8 s in these tests)."""
    queue = FitQueue(1)
    serve_fit(ui_helpers.stand_in_fit(10.0))
    serve_queue(queue)
    _open(page, server)
    waiting = page.context.new_page()
    _open(waiting, server)
    other = page.context.new_page()
    _open(other, server)
    a, w, b = server["apps"][-3:]
    for pg in (page, waiting, other):
        _set(pg, "w-iters", "5000")
    other.get_by_role("button", name="Run", exact=True).click()
    _wait_step(other, 2)
    waiting.get_by_role("button", name="Run", exact=True).click()      # queued behind the running tab
    waiting.locator(".ssh-progress pre").get_by_text("queued, position 1").wait_for()
    job, queued = b.job, w.job
    t0 = time.perf_counter()
    waiting.close()
    other.close()
    while not (job.stop_requested and queued.stop_requested) and time.perf_counter() - t0 < 20:
        time.sleep(0.01)
    asked = time.perf_counter() - t0
    job.join(20)
    ended = time.perf_counter() - t0
    queued.join(20)  # its worker returns on its own thread once its cancelled ticket wakes it: a race to await
    print(f"closing two tabs: fits asked to stop {asked:.2f} s after the close, the running worker ended after "
          f"{ended:.2f} s (Bokeh destroys the sessions after {server['unused_s']:.0f} s unused)")
    assert job.stop_requested and not job.alive and queued.done and queue.counts() == (0, 0)
    assert ended < 2.0, f"closing the tab stopped its fit after {ended:.2f} s"
    assert job.events < 5000 and queued.ticket.admitted is None
    # the remaining tab still runs a fit at once
    page.get_by_role("button", name="Run", exact=True).click()
    _wait_step(page, 1)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator(".ssh-progress pre").get_by_text("stopped").wait_for()
    assert a.job.join(10)
