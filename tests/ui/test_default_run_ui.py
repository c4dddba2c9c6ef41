"""Issues 25 and 23 in headless Chromium: a real fit with the page's defaults ends by itself, says where and why, and
the Uncertainty tab reads the coverage of its calibrated σ as dipcore computes it."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from pageutil import progress_text as _progress
from test_explorer_ui import _open, _rmse_shown

pytestmark = pytest.mark.ui

def _load() -> str:
    """The machine's load, as ``uptime`` says it (a run's time means little without it)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load %.2f %.2f %.2f" % os.getloadavg()


def _percentages(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"(\d+)%", text)]


def test_a_default_run_ends_by_itself_says_why_and_its_uncertainty_is_checked(page, server, artifacts):
    """Issues 25 and 23, a real fit with the page's defaults, which are the CLI's (the default recipe with its own
    count as a cap, the Gulf Stream ×8, K = 4): while it runs the page says the count is a cap; the network visibly
    learns (its RMSE moves by ≥ 5 %); it ends by itself, saying where and why; then the Uncertainty tab reads the
    calibrated σ's coverage, as dipcore computes it. Its wall time and the machine's load are printed (the issue's
    target on this sample is ≤ 90 s; a 2-core machine that other jobs keep busy is slower, so the bound here is
    generous: a fit that never settled would take ~5 times longer, at its cap)."""
    from dipcore.metrics import calibration
    from dipcore.recipes import DEFAULT_MEMBERS, DEFAULT_RECIPE, get_recipe

    _open(page, server)
    app = server["apps"][-1]
    rec = get_recipe(DEFAULT_RECIPE)
    assert (app.recipe, app.iters, app.members, app.ratio) == (DEFAULT_RECIPE, rec.iters, DEFAULT_MEMBERS, 8)
    before = _load()
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run", exact=True).click()
    progress = page.locator(".ssh-progress pre")
    progress.get_by_text(f"/{rec.iters} (a cap: it stops once the estimate settles)").wait_for(timeout=120_000)
    early = later = None
    eta_said = False
    deadline = time.time() + 1200
    while time.time() < deadline and not _progress(page).startswith("done"):
        shown = _rmse_shown(page)                      # the first reading is the early one, the last the later one
        early, later = early or shown, shown or later
        if shown and "at most" in _progress(page):
            eta_said = True
        time.sleep(0.5)
    took = time.perf_counter() - t0
    text = _progress(page)
    print(f"default run on the page: {took:.1f} s from the click to '{text[:60]}…'\n  before: {before}\n"
          f"  after:  {_load()}")
    page.screenshot(path=os.path.join(artifacts, "ui_default_run.png"))
    m = re.search(rf"settled at step (\d+) of at most {rec.iters} \(the estimate no longer moved\)", text)
    assert m, text
    step = int(m.group(1))
    assert rec.min_iters <= step < rec.iters and app.result.step == step and app.end_reason == "settled"
    assert eta_said, "the ETA never said 'at most'"
    assert early is not None and later is not None and later[0] > early[0], (early, later, text)
    change = abs(later[1] - early[1]) / early[1]
    print(f"RMSE {early[1]:.2f} cm at step {early[0]}, {later[1]:.2f} cm at step {later[0]} ({change:.1%})")
    assert change >= 0.05, f"the RMSE moved by {change:.1%} from step {early[0]} to {later[0]}"
    # the Uncertainty tab: the coverage of the fit's calibrated σ, as dipcore computes it
    page.get_by_text("Uncertainty", exact=True).first.click()
    line = page.locator(".ssh-coverage").first.get_by_text("within ±1σ").first
    line.wait_for()
    shown = _percentages(line.inner_text())       # the paragraph: "… within ±1σ … on 77% … within ±2σ on 95% …"
    c = calibration(app.result.uncertainty, app.result.estimate, app.run_twin.truth)
    assert shown[:2] == [int(f"{100 * c[k]:.0f}") for k in ("coverage_1sigma", "coverage_2sigma")], (shown, c)
    assert page.locator(".reliability").first.is_visible()
    print(f"coverage ±1σ {shown[0]}%, ±2σ {shown[1]}%; CRPS {c['crps_cm']:.3f} cm vs flat σ "
          f"{c['crps_flat_cm']:.3f} cm; expected RMSE {app.result.expected_rmse * 100:.2f} cm, real "
          f"{c['rmse'] * 100:.2f} cm")
    page.screenshot(path=os.path.join(artifacts, "ui_uncertainty_tab.png"))
