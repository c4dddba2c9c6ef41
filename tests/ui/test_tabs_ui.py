"""Issue 24 in headless Chromium at 1440×900: every tab fits the window with no sideways scroll and shows one start
button and its own Stop on the first screen, the sidebar following the tab; Ctrl+Enter and Esc act on the tab shown;
after a run the Explore tab's curves and its DIP − IBP map are on the first screen and the verdict moved nothing; a
failed upload never leaves an earlier result's download unlabelled.

Fits are stand-ins (``serve_fit``, a Downscale stand-in put into the page's tab): the page's pipeline without the
fits' cost (the real default fit: tests/ui/test_explorer_ui.py)."""

from __future__ import annotations

import os
import re
import time

import pytest
from pageutil import IMAGE_JS, horizontal_scroll, on_first_screen, set_input
from test_downscale_tab import fake_downscale  # tests/ is on sys.path (pytest's rootdir mode)
from test_explorer_ui import _open

pytestmark = pytest.mark.ui

W, H = 1440, 900
STARTS = ("Run", "Downscale", "Run sweep")
# each tab: its start button and its Stop (None: a tab with no run of its own)
TABS = {"Explore": ("Run", "Stop"), "Uncertainty": ("Run", "Stop"), "Resolution ladder": ("Run", "Stop"),
        "Compare & replay": ("Run", "Stop"), "Downscale my field": ("Downscale", "Stop"),
        "Experiments": ("Run sweep", "Stop sweep"), "About": (None, None)}


def _tab(page, name: str) -> None:
    """Show tab ``name`` and wait (at most 10 s) until the sidebar has followed: its start button shown, the others
    gone (the server sends the sidebar's change once the browser has said which tab is shown)."""
    from playwright.sync_api import expect

    page.get_by_text(name, exact=True).first.click()
    start = TABS.get(name, (None, None))[0]
    for other in STARTS:
        button = page.get_by_role("button", name=other, exact=True)
        if other == start:
            button.first.wait_for(state="visible", timeout=10_000)
        else:
            expect(button).to_have_count(0, timeout=10_000)
    time.sleep(0.3)  # the tab's own content lays out


def _text(locator, words: str = "junk.nc") -> str:
    """The text of the paragraph of a Panel pane that holds ``words`` (Playwright reaches into its shadow root)."""
    return locator.get_by_text(re.compile(re.escape(words))).first.inner_text()


def _visible_buttons(page, names) -> list[str]:
    return [n for n in names if page.get_by_role("button", name=n, exact=True).count()
            and page.get_by_role("button", name=n, exact=True).first.is_visible()]


def _every_download_names_its_result(page) -> None:
    """Every NetCDF download the page shows names the result it gives ('×8 run on …' or the file's name); none is
    the label of an empty one ('… (after a run)') while a result is held."""
    from explorer.ui.downscale_controls import NO_DOWNLOAD
    from explorer.ui.sidebar import NO_RESULT

    labels = [t.strip() for t in page.get_by_role("button", name=re.compile(r"^Download")).all_inner_texts()]
    netcdf = [t for t in labels if "NetCDF" in t or t.endswith(".nc")]
    assert netcdf, labels
    assert all(t not in (NO_RESULT, NO_DOWNLOAD) and (" run on " in t or t.endswith(".nc")) for t in netcdf), labels


def _check_tab(page, name: str) -> None:
    start, stop = TABS[name]
    width, inner = horizontal_scroll(page)
    assert width <= inner, f"{name}: the page is {width} px wide in a {inner} px window"
    shown = _visible_buttons(page, STARTS)
    assert shown == ([start] if start else []), f"{name}: start buttons shown {shown}"
    if start:
        for button in (start, stop):
            loc = page.get_by_role("button", name=button, exact=True).first
            assert on_first_screen(loc, W, H), f"{name}: {button} is not on the first screen"
    stops = _visible_buttons(page, ("Stop", "Stop sweep"))
    assert stops == ([stop] if stop else []), f"{name}: Stop buttons shown {stops}"


def test_every_tab_fits_and_shows_its_own_start_and_stop(screen, server, serve_fit, ui_helpers, artifacts):
    serve_fit(ui_helpers.stand_in_fit(40.0))
    page = screen
    _open(page, server)
    app = server["apps"][-1]
    set_input(page, "w-iters", "30")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(".ssh-progress pre").get_by_text("done at step 30/30").wait_for()
    time.sleep(1.0)
    for name in TABS:
        _tab(page, name)
        _check_tab(page, name)
        page.screenshot(path=os.path.join(artifacts, f"ui_tab_{name.split()[0].lower()}.png"))
    # the sidebar follows the tab: on Downscale its own controls, not the twin's
    _tab(page, "Downscale my field")
    assert page.locator(".sidebar-downscale").is_visible()
    assert not page.locator(".sidebar-run").is_visible() and not page.locator(".sidebar-data").is_visible()
    assert app.result is not None


def test_after_a_run_the_curves_and_the_network_s_change_are_on_the_first_screen(screen, server, serve_fit,
                                                                                 ui_helpers, artifacts):
    """The verdict's box has its height before the run: nothing moves when it fills; the RMSE axis starts at 0."""
    serve_fit(ui_helpers.stand_in_fit(40.0))
    page = screen
    _open(page, server)
    app = server["apps"][-1]
    before = page.locator(".map-estimate").first.bounding_box()
    assert page.locator(".ssh-verdict").get_by_text("When a run ends").is_visible()
    set_input(page, "w-iters", "30")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(".ssh-progress pre").get_by_text("done at step 30/30").wait_for()
    page.locator(".ssh-verdict").get_by_text("RMSE: DIP").wait_for()
    time.sleep(1.0)
    after = page.locator(".map-estimate").first.bounding_box()
    assert abs(after["y"] - before["y"]) < 2, f"the maps moved by {after['y'] - before['y']:.0f} px"
    for cls in ("curve-rmse", "curve-ssim", "map-change", "map-uncertainty"):
        assert on_first_screen(page.locator(f".{cls} canvas").first), f"{cls} is not on the first screen"
    # what the network changed: DIP − IBP, drawn, on a symmetric scale of its own
    change = app.live.maps["change"]
    assert change.fig.title.text == "What the network changed: DIP − IBP"
    assert change.mapper.low == -change.mapper.high and change.mapper.high > 0
    page.wait_for_function(f"({IMAGE_JS})('ssh-change') > 0")  # the browser has it, drawn
    assert app.live.rmse.fig.y_range.start == 0
    assert "Uncertainty σ (expected RMSE" in app.live.maps["std"].fig.title.text
    width, inner = horizontal_scroll(page)
    assert width <= inner
    page.screenshot(path=os.path.join(artifacts, "ui_after_run_1440x900.png"))


def test_the_keys_act_on_the_tab_shown(screen, server, serve_fit, ui_helpers):
    """Issue 24: Ctrl+Enter on the Downscale tab started a hidden Explore fit. Now it downscales, Esc stops that,
    and the Explore fit never starts; back on Explore the keys run and stop the fit."""
    serve_fit(ui_helpers.stand_in_fit(10.0))
    page = screen
    _open(page, server)
    app = server["apps"][-1]
    tab = app.view.downscale
    tab.session.fit = fake_downscale(delay=0.1, steps=2000)
    _tab(page, "Downscale my field")
    page.locator(".ds-plan").first.click()                   # focus off any box: a key for the whole page
    page.keyboard.press("Control+Enter")
    page.locator(".ds-status").get_by_text("running: step").wait_for()
    assert tab.state.running and not app.running and app.job is None
    page.keyboard.press("Escape")
    page.locator(".ds-status").get_by_text("stopped at step").wait_for(timeout=10_000)
    assert not app.running and app.job is None and app.view.shortcuts.pressed == 2
    _tab(page, "Explore")
    set_input(page, "w-iters", "2000")
    page.locator(".ssh-keys").first.click()
    page.keyboard.press("Control+Enter")
    page.locator(".ssh-progress pre").get_by_text(re.compile(r"^step \d+/2000")).wait_for(timeout=30_000)
    assert app.running and not tab.state.running
    page.keyboard.press("Escape")
    page.locator(".ssh-progress pre").get_by_text("stopped").wait_for(timeout=10_000)
    assert app.wait(30) and app.end_reason == "stopped by the user"


def test_a_failed_upload_never_offers_an_earlier_result_unlabelled(screen, server, serve_fit, ui_helpers, tmp_path,
                                                                    artifacts):
    """After a run, a file that cannot be read: the message says what is still shown and that the download holds
    its result, the download's label names that result, and the chooser no longer names the failed file; the
    message speaks the page's language (no errno, no flags). In both tabs."""
    serve_fit(ui_helpers.stand_in_fit(40.0))
    page = screen
    _open(page, server)
    app = server["apps"][-1]
    junk = tmp_path / "junk.nc"
    junk.write_bytes(os.urandom(4096))
    # the twin's tabs
    set_input(page, "w-iters", "10")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="Download NetCDF: ×8 run on gulfstream").wait_for()
    page.locator(".w-upload input[type=file]").first.set_input_files(str(junk))
    alert = page.locator(".ssh-error").first
    alert.get_by_text("junk.nc is not a NetCDF file this page can read").wait_for()
    text = _text(alert, "Still shown")
    assert "Still shown: sample gulfstream (its maps and downloads are unchanged)" in text, text
    assert "errno" not in text.lower() and "--" not in text
    assert page.get_by_role("button", name="Download NetCDF: ×8 run on gulfstream").is_enabled()
    _every_download_names_its_result(page)
    # the chooser forgot the failed file (the name a file input shows is not page text: ask the input itself)
    assert page.locator(".w-upload input[type=file]").first.evaluate("e => e.files.length") == 0
    # the Downscale tab
    tab = app.view.downscale
    tab.session.fit = fake_downscale(delay=0.02, steps=6)
    _tab(page, "Downscale my field")
    page.get_by_role("button", name="Downscale", exact=True).click()
    page.locator(".ds-status").get_by_text("done in").wait_for()
    held = tab.state.filename
    page.get_by_role("button", name=f"Download {held}").wait_for()
    page.locator(".w-ds-upload input[type=file]").first.set_input_files(str(junk))
    ds_alert = page.locator(".ds-error").first
    ds_alert.get_by_text("junk.nc is not a NetCDF file this page can read").wait_for()
    assert "the download holds its ×4 result" in _text(ds_alert, "Still shown")
    with page.expect_download() as got:
        page.get_by_role("button", name=f"Download {held}").click()
    assert got.value.suggested_filename == held
    assert held.startswith("mediterranean") and held.endswith("_x4_downscaled.nc")  # a sample of days: "_t0" too
    _every_download_names_its_result(page)
    page.screenshot(path=os.path.join(artifacts, "ui_failed_upload_downscale.png"))
