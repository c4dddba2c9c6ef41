"""Server-side tests of the explorer app (no browser): runs, stop, failures, sessions, the page, the downloads
(the state alone: tests/test_state.py; the background job: tests/test_jobs.py).

Fits are real (``dipcore.solver.fit``) or stand-ins injected into the app (``ExplorerApp(fit=…)``); the tests read
the app's public state (parameters, ``feed``, ``job``, ``live``, ``session.stats``), never its private attributes."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import xarray as xr

from explorer.app import ExplorerApp

CROP = "0 32 0 64"  # a small ocean box of the Gulf Stream sample: fits stay around a second per step on a busy CPU


@pytest.fixture
def make_app():
    """``make_app(fit=None, **params)``: a new app (with ``fit`` injected into its jobs), stopped at the end."""
    apps = []

    def make(fit=None, **params) -> ExplorerApp:
        apps.append(ExplorerApp(fit=fit, **params))
        return apps[-1]

    yield make
    for a in apps:
        a.stop()
        a.wait(30)


@pytest.fixture
def app(make_app):
    return make_app()


def small(a: ExplorerApp, iters: int = 6, members: int = 2) -> ExplorerApp:
    a.index_crop = CROP
    a.param.update(iters=iters, members=members, device="cpu", ratio=8)
    assert a.error == "" and a.field.shape == (32, 64)
    return a


def flush_until_step(a: ExplorerApp, step: int, timeout: float = 120.0) -> None:
    """Play the session's periodic flush until the page shows ``step`` (or the timeout passes)."""
    deadline = time.time() + timeout
    while a.step < step and time.time() < deadline:
        time.sleep(0.05)
        a.flush()


def test_run_streams_estimates_curves_and_a_netcdf_download(app):
    # 60 steps: the default recipe's steps take ~6 ms on this crop, and the page must see some before the end
    small(app, iters=60, members=2)
    assert app.run()
    seen = set()
    deadline = time.time() + 120
    while app.running and time.time() < deadline:
        time.sleep(0.02)
        app.flush()
        seen.add(app.step)
    assert not app.running and app.error == ""
    p = app.result
    assert p is not None and p.done and p.step <= 60   # all its steps, or fewer when the recipe found it settled
    assert len(seen - {0}) >= 2                       # the page saw intermediate steps, not only the end
    assert p.estimate.shape == (32, 64) and p.member_std is not None and p.members.shape == (2, 32, 64)
    steps, values, refs = app.feed["rmse"]
    assert list(steps) == list(range(1, p.step + 1)) and np.all(np.isfinite(values))
    assert set(refs) == {"bicubic", "ibp"} and np.all(np.isfinite(list(refs.values())))
    assert app.feed["estimate"] is p.estimate
    assert f"done at step {p.step}/60" in app.progress_text and "IBP" in app.progress_text
    assert "IBP" in app.verdict and app.best in ("estimate", "ibp", "bicubic", "level")
    assert "Without the truth the fit expected" in app.verdict and ".." not in app.verdict, app.verdict

    data = app.netcdf()
    ds = xr.open_dataset(io.BytesIO(data), engine="h5netcdf") if _has("h5netcdf") else _open_nc(data)
    assert {"truth", "bicubic", "ibp", "estimate", "std", "lowres"} <= set(ds.data_vars)
    np.testing.assert_allclose(ds["estimate"].values, p.estimate, equal_nan=True)
    assert ds["estimate"].attrs["units"] == "m"
    png = app.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    # per-pixel uncertainty and a transect
    app.tap_at(float(app.geom.xs[40]), float(app.geom.ys[10]))
    info = app.pixel_info()
    assert app.tap == (10, 40)
    assert len(info["members"]) == 2 and np.isclose(info["mean"], p.estimate[10, 40])
    assert np.isclose(info["truth"], app.twin.truth[10, 40]) and len(info["hist_steps"]) >= 2
    assert np.isclose(info["ibp"], app.twin.ibp[10, 40])
    app.tap_at(float(app.geom.xs[5]), float(app.geom.ys[30]))
    tr = app.transect_info()
    assert tr["distance"][-1] > 100              # km along a 35-cell line at ~25 km
    assert np.isclose(tr["truth"][0], app.twin.truth[10, 40]) and np.isclose(tr["ibp"][0], app.twin.ibp[10, 40])
    # the band along it is the fit's calibrated σ (a finished fit has one), not the members' spread
    assert tr["band"] == "uncertainty σ" and np.isclose(tr["std"][0], p.uncertainty[10, 40])


def fake_fit(make_estimate, calls: list | None = None):
    """A stand-in for ``dipcore.solver.fit``: three events whose estimate is ``make_estimate(truth)``; the recipe it
    was given is appended to ``calls``."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fake(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        if calls is not None:
            calls.append(recipe)
        est = make_estimate(truth).astype(np.float32)
        for step in range(1, iters + 1):
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est, member_std=None,
                           elapsed=0.01 * step, metrics={"rmse": metrics.rmse(est, truth),
                                                         "ssim": metrics.ssim(est, truth)}, done=step == iters)
    return fake


def test_a_finished_run_says_which_estimate_won(make_app):
    offset = [0.001]                                                                   # near-perfect
    app = small(make_app(fit=fake_fit(lambda truth: truth + offset[0])), iters=3, members=1)
    assert app.run() and app.wait(30) and app.error == ""
    assert app.best == "estimate" and "the network beats IBP" in app.verdict, app.verdict
    assert app.summary()["best"] == "estimate"
    offset[0] = 0.3                                                                    # 30 cm off everywhere
    assert app.run()
    assert app.verdict == ""                                                           # cleared by a new run
    assert app.wait(30) and app.best == "ibp"
    assert "IBP (no network) is better than the network here" in app.verdict, app.verdict
    app.ratio = 4
    assert app.verdict == ""                                                           # and by a new field


def test_architecture_choice_follows_the_recipe_and_reaches_the_fit(make_app):
    from dipcore.generators import ARCHITECTURES
    from dipcore.solver import DEFAULT_RECIPE, Recipe, get_recipe

    calls = []
    app = make_app(fit=fake_fit(lambda truth: truth, calls))
    assert app.param.arch.objects == list(ARCHITECTURES)
    assert app.recipe == DEFAULT_RECIPE and app.arch == get_recipe(DEFAULT_RECIPE).arch
    small(app, iters=2, members=1)
    assert app.run() and app.wait(30)
    assert calls[-1] is get_recipe(DEFAULT_RECIPE)         # the recipe's own architecture: the recipe as named
    other = next(a for a in ARCHITECTURES if a != app.arch)
    app.arch = other
    assert app.run() and app.wait(30) and app.error == ""
    rec = calls[-1]
    assert isinstance(rec, Recipe) and rec.arch == other and rec.arch_opts == ()
    assert rec.holdout == get_recipe(DEFAULT_RECIPE).holdout          # everything else is the recipe's
    assert app.run_config["arch"] == other and app.summary()["arch"] == other
    for name in [n for n in app.param.recipe.objects if n != app.recipe] + [app.recipe]:
        app.recipe = name                                  # picking a recipe resets the choice to its own
        assert app.arch == get_recipe(name).arch


def test_latent_samples_give_a_latent_std_map(app):
    small(app, iters=3, members=1)
    app.latent_samples = 4
    app.run()
    assert app.wait(120)
    p = app.result
    assert p.latent_std is not None and np.nanmax(p.latent_std) > 0
    assert app.feed["latent"] is p.latent_std


def test_the_uncertainty_tab_checks_the_calibrated_sigma_against_the_truth(make_app):
    """The fit's calibrated ``uncertainty`` (its last event) is the uncertainty: the σ map shows it once the fit
    ends (the members' spread, by its name, before); the Uncertainty tab reads its coverage, its CRPS beside a flat
    σ's, the expected RMSE beside the real one, and the members' spread under its own name; no "total std"."""
    from dipcore.metrics import calibration
    from explorer.ui.uncertainty import uncertainty_view
    from explorer.ui.views import calibration_text

    app = small(make_app(fit=stand_in_members(spread=2e-3, sigma=0.01)), iters=4, members=3)
    app.__panel__()
    assert "Run a fit to the end" in uncertainty_view(app).object
    assert app.run() and app.wait(30)
    p, t = app.result, app.run_twin
    assert app.feed["uncertainty"] is p.uncertainty
    live = app.live
    assert live.maps["std"].fig.title.text.startswith("Uncertainty σ (expected RMSE ≈ 1.00 cm)")
    c = calibration(p.uncertainty, p.estimate, t.truth)
    text = calibration_text(p, t)
    assert f"**{c['coverage_1sigma']:.0%}**" in text and f"**{c['coverage_2sigma']:.0%}**" in text
    assert f"{c['crps_cm']:.3f} cm against {c['crps_flat_cm']:.3f} cm for a flat σ" in text
    assert "Expected RMSE ≈ 1.00 cm" in text and f"against the real {c['rmse'] * 100:.2f} cm" in text
    assert "Members' spread" in text and "total std" not in text.lower()
    assert "Without the truth the fit expected ≈ 1.00 cm" in app.verdict   # twin mode: expected beside the real


def test_stop_halts_within_a_second_and_keeps_the_estimate(app):
    small(app, iters=5000, members=2)
    app.run()
    flush_until_step(app, 2)
    assert app.step >= 2
    t0 = time.perf_counter()
    app.stop()
    app.flush()                                       # the session's next periodic flush (≤ 200 ms later)
    halted = time.perf_counter() - t0
    assert not app.running and halted < 1.0, f"stop took {halted:.2f} s"
    shown = app.step
    assert app.result is not None and app.result.step == shown < 5000
    assert np.isfinite(app.result.estimate).any() and "stopped" in app.progress_text
    assert app.feed["estimate"] is app.result.estimate   # the last estimate stays on screen
    assert app.job.join(60)                           # the worker ends after the step it was computing
    assert not app.job.alive and app.job.stop_requested
    app.flush()
    assert app.step == shown and app.feed["estimate"] is app.result.estimate


def test_worker_exception_is_shown_and_the_session_lives_on(make_app):
    from dipcore.solver import fit

    calls = []

    def fails_once(*a, **k):  # the first fit fails at its first step, the next one is the real fit
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("simulated failure")
        yield from fit(*a, **k)

    app = small(make_app(fit=fails_once), iters=3, members=1)
    app.run()
    assert app.wait(30)
    assert "simulated failure" in app.error and not app.running
    assert app.twin.truth.shape == (32, 64)
    assert app.run() and app.wait(120) and app.result.done


def test_out_of_gpu_memory_is_a_message_and_the_session_lives_on(app, monkeypatch):
    """torch's OutOfMemoryError, raised inside the real dipcore.solver, reaches the page as dipcore's message (the
    one place a test patches the solver: to make its own OOM handling run)."""
    import importlib

    import torch

    fitmod = importlib.import_module("dipcore.solver")

    def oom(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    small(app, iters=3, members=2)
    monkeypatch.setattr(fitmod, "holdout_cells", oom)  # called inside fit()'s guarded block
    assert app.run()
    assert app.wait(60)
    assert "out of GPU memory" in app.error and "fewer members" in app.error, app.error
    assert "Traceback" not in app.error and not app.running and app.result is None
    assert app.twin.truth.shape == (32, 64)           # the field stays loaded
    monkeypatch.undo()
    assert app.run() and app.wait(120) and app.result.done and app.result.step == 3
    assert app.error == ""                            # a new run clears the message


def test_cuda_request_without_gpu_is_a_message(app):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    app.device = "cuda"
    assert not app.run()
    assert "CUDA" in app.error and not app.running


def test_two_apps_do_not_share_state(make_app):
    a, b = make_app(), make_app()
    a.ratio = 4
    b.sample = "blacksea"
    assert a.twin.truth.shape == (128, 256) and b.twin.truth.shape == (56, 120)
    assert a.twin.degradation.ratio == 4 and b.twin.degradation.ratio == 8
    assert a.feed is not b.feed and a.feed["truth"] is not b.feed["truth"]
    small(a, iters=4, members=1)
    a.run()
    assert b.running is False and b.step == 0
    assert a.wait(120) and a.result is not None and b.result is None


def test_experiments_tab_falls_back_when_missing(monkeypatch):
    import builtins

    from explorer.ui.layout import experiments_tab

    real = builtins.__import__

    def no_module(name, *args, **kw):
        if name == "explorer.ui.experiments":
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_module)
    assert "not installed" in experiments_tab().object


def test_page_builds(app):
    from bokeh.document import Document
    from bokeh.models import ColorBar

    assert app.live is None                                # built with the page
    root = app.__panel__().get_root(Document())
    assert root is not None
    live = app.live
    for curve in (live.rmse, live.ssim):                   # DIP, bicubic and IBP on both score curves
        labels = [item.label.value for item in curve.fig.legend[0].items]
        assert labels == ["DIP", "bicubic", "IBP"]
        assert np.isfinite(curve.refs["ibp"].data["y"]).all()
    # the std scale starts at 0 and its colour bar has plain ticks (no 4.00e-4)
    std = live.maps["std"]
    assert std.mapper.low == 0
    assert all(not c.formatter.use_scientific for c in std.fig.select({"type": ColorBar}))


def test_uncertainty_views_use_plain_ticks_from_zero():
    import holoviews as hv
    from bokeh.document import Document
    from bokeh.models import ColorBar

    from explorer.data.geometry import Geometry
    from explorer.ui.views import AMP, image

    g = Geometry(np.arange(8.0), np.arange(6.0), "x", "y")
    # into a document of its own: hv.render's default, bokeh's curdoc(), is process-wide state that another test's
    # server may have left behind (Bokeh keeps a document whose callback raised as every thread's curdoc())
    img = image(np.full((6, 8), 4e-6), g, "Latent std", "std", cmap=AMP, clim=(0, 1e-3))
    plot = hv.renderer("bokeh").instance(mode="server").get_plot(img, doc=Document()).state
    bars = [r for r in plot.right if isinstance(r, ColorBar)]
    assert bars and not bars[0].formatter.use_scientific and bars[0].color_mapper.low == 0


def _has(mod: str) -> bool:
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def _open_nc(data: bytes) -> xr.Dataset:
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".nc")
    os.write(fd, data)
    os.close(fd)
    try:
        return xr.open_dataset(path, engine="netcdf4").load()
    finally:
        os.unlink(path)


def test_closing_the_session_stops_the_fit(app):
    small(app, iters=5000, members=1)
    app.run()
    flush_until_step(app, 1)
    app.close()                                      # what the end of the browser session calls
    assert app.job.join(60)
    assert not app.job.alive and app.job.events < 5000


def test_a_busy_display_holds_image_updates_back_but_never_the_end(make_app):
    """The session pushes through a registered display (the page's LiveMaps): nothing while the browser paints
    the previous update, the last event of a run always; the display's paint acknowledgements call the flush."""
    from contextlib import nullcontext

    class Display:
        def __init__(self):
            self.painting, self.sent, self.listeners = True, 0, []

        def hold(self):
            return nullcontext()

        def busy(self, now):
            return self.painting

        def mark_sent(self):
            self.sent += 1

        def on_painted(self, fn):
            self.listeners.append(fn)

    app = small(make_app(fit=slow_fit(200.0)), iters=30, members=1)
    shown = Display()
    app.session.attach_display(shown)
    assert shown.listeners == [app.session.flush]
    assert app.run()
    deadline = time.time() + 30
    while app.job.events < 3 and time.time() < deadline:
        time.sleep(0.01)
    app.flush()
    assert app.step == 0 and shown.sent == 0                   # held back: the browser is still painting
    shown.painting = False
    shown.listeners[0]()                                       # the browser painted: the session flushes
    assert app.step >= 3 and shown.sent == 1
    shown.painting = True
    assert app.job.join(30)
    app.flush()
    assert app.step == 30 and shown.sent == 2 and not app.running and app.result.done   # the end is never held


def test_the_end_line_goes_out_before_the_buttons_and_the_result(make_app):
    """A run's "done"/"stopped" line leaves in a document message of its own; re-enabling Run and publishing the
    result (the slow part: ~0.3 s of server time for a 1024² field) follow in the next, so the page says it at once."""
    from contextlib import contextmanager

    messages = []

    class Display:
        @contextmanager
        def hold(self):
            yield
            messages.append((app.progress_text, app.running, app.result is not None))

        def busy(self, now):
            return False

        def mark_sent(self):
            pass

        def on_painted(self, fn):
            pass

    app = small(make_app(fit=slow_fit(200.0)), iters=5, members=1)
    app.session.attach_display(Display())
    assert app.run() and app.wait(30)
    ends = [m for m in messages if m[0].startswith("done")]   # (a later flush may add an empty message)
    assert len(ends) >= 2, messages
    assert ends[0][0].startswith("done at step 5/5") and ends[0][1:] == (True, False)   # the line alone
    assert ends[1] == (ends[0][0], False, True)                # then Run is back and the result is out


# ---- issue 10: the explorer as a teacher and a scientist meet it ----------------------------------------------

def slow_fit(rate: float = 50.0, stop_early_at: int | None = None, stop_reason: str | None = None):
    """A stand-in for ``dipcore.solver.fit`` at ``rate`` events/s; with ``stop_early_at`` it ends there with
    ``done=True`` (what a held-out recipe's early stop looks like, each member's best step in ``selected``; with
    ``stop_reason="settled"`` a settling recipe's stop, the answer from that step)."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fake(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        t0 = time.perf_counter()
        for step in range(1, iters + 1):
            time.sleep(1 / rate)
            est = (truth + 0.01 / step).astype(np.float32)
            last = step == iters or step == stop_early_at
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=None, elapsed=time.perf_counter() - t0,
                           metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9}, done=last,
                           selected=np.array([step - 2] * members) if last and stop_early_at and not stop_reason
                           else None, stop_reason=stop_reason if last else None)
            if last:
                return
    return fake


def _nc_attrs(app) -> dict:
    data = app.netcdf()
    ds = xr.open_dataset(io.BytesIO(data), engine="h5netcdf") if _has("h5netcdf") else _open_nc(data)
    return dict(ds.attrs)


def test_a_stopped_run_says_where_its_estimate_comes_from_in_the_file_and_on_the_page(make_app):
    app = small(make_app(fit=slow_fit(50.0)), iters=300, members=1)
    assert app.run()
    flush_until_step(app, 5)
    app.stop()
    assert app.wait(30) and app.result is not None
    step = app.result.step
    assert 5 <= step < 300
    attrs = _nc_attrs(app)
    assert attrs["config_iters"] == 300                       # what was asked for …
    assert attrs["config_last_step"] == step                  # … and where the run ended, and why
    assert attrs["config_end_reason"] == "stopped by the user"
    assert str(attrs["config_estimate_steps"]) == str(step)
    assert app.progress_text.startswith(f"stopped at step {step}/300")
    assert "stopped by the user" in app.progress_text and f"estimate from step {step}" in app.progress_text
    assert app.summary()["best"] in ("estimate", "ibp", "bicubic", "level")


@pytest.mark.parametrize("early, why, reason, words", [
    (None, None, "finished", "finished"),
    (4, None, "early-stopped", "stopped itself at step 4 of at most 8 (the held-out cells stopped improving)"),
    (5, "settled", "settled", "settled at step 5 of at most 8 (the estimate no longer moved)")])
def test_a_run_that_ends_by_itself_says_why(make_app, early, why, reason, words):
    app = small(make_app(fit=slow_fit(200.0, stop_early_at=early, stop_reason=why)), iters=8, members=1)
    assert app.run() and app.wait(30) and app.error == ""
    attrs = _nc_attrs(app)
    last = early or 8
    assert attrs["config_last_step"] == last and attrs["config_end_reason"] == reason
    assert app.progress_text.startswith(f"done at step {last}/8") and words in app.progress_text
    assert words in app.message
    if early and not why:  # a held-out recipe's answer is each member's best step, and the page says which
        assert str(attrs["config_estimate_steps"]) == str(early - 2)
        assert f"estimate from step {early - 2}" in app.progress_text


def test_eta_waits_for_a_few_steps_and_uses_recent_speed():
    from explorer.data.progress import ETA_AFTER, eta_text, recent_rate

    # a slow first step (warm-up: 10 s), then 10 steps/s: the speed is the recent one, not 1134 s to go
    times = [(1, 10.0)] + [(s, 10.0 + (s - 1) * 0.1) for s in range(2, 40)]
    assert recent_rate(times) == pytest.approx(10.0)
    assert eta_text(39, 300, recent_rate(times)) == "ETA 26 s"
    assert eta_text(ETA_AFTER - 1, 300, 10.0) == ""          # no guess from the first steps
    assert np.isnan(recent_rate(times[:1]))
    assert eta_text(10, 10_000, 1.0) == "ETA 2.8 h"
    assert eta_text(39, 300, recent_rate(times), cap=True) == "at most 26 s left"  # a recipe that stops itself


def test_the_pixel_inspector_shows_one_estimate_and_says_land(make_app):
    app = small(make_app(fit=slow_fit(200.0)), iters=6, members=2)
    assert app.run() and app.wait(30)
    ocean = np.argwhere(np.isfinite(app.twin.truth))[0]
    x, y = app.geom.point_of(*ocean)
    app.tap_at(x, y)                                          # a tap after the run: the final estimate
    info = app.pixel_info()
    assert info["mean"] == pytest.approx(float(app.result.estimate[tuple(ocean)]))
    assert info["hist_mean"][-1] == pytest.approx(info["mean"]) and info["hist_steps"][-1] == app.result.step
    assert "°W" in info["where"] and "°N" in info["where"]   # lon/lat as people write them
    # the plots: the title, the dots' mean and the line's end read the same number
    from explorer.ui.pixel import PixelPlots

    plots = PixelPlots().follow(app.feed)                    # what the page shows: the feed's pixel data
    assert plots.members.title.text.startswith("cell [")
    plots.show_pixel(info)
    shown = f"DIP {info['mean'] * 100:.1f}"
    assert shown in plots.members.title.text
    assert plots.e_src.data["y"][-1] == pytest.approx(info["mean"] * 100)
    # land: a message, no NaN lines
    land = np.argwhere(np.isnan(app.twin.truth))
    if land.size == 0:
        app.reset_crop()                                     # the full sample has land
        land = np.argwhere(np.isnan(app.twin.truth))
    app.tap_at(*app.geom.point_of(*land[0]))
    info = app.pixel_info()
    assert info.get("land") and "mean" not in info
    plots.show_pixel(info)
    assert plots.members.title.text.startswith("land (no data) at ") and "°" in plots.members.title.text
    assert len(plots.m_truth.data["y"]) == 0


def test_the_png_figure_has_a_full_title_labelled_axes_and_a_std_scale_of_its_own(make_app):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    app = small(make_app(fit=stand_in_members(spread=1e-5)), iters=4, members=3)
    assert app.run() and app.wait(30)
    assert app.png()[:4] == b"\x89PNG"
    fig = app.png_figure()                                    # what png() saves
    fig.canvas.draw()
    title = next(t for t in fig.get_children() if isinstance(t, Text) and t.get_text() == fig.get_suptitle())
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, "the title is cut"
    assert "Copernicus" in title.get_text() and "finished at step 4/4" in title.get_text().replace("\n", " ")
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    lo, hi = axes["Members' spread (not the uncertainty)"].images[0].get_clim()
    assert lo == 0 and 0 < hi < 0.01                          # its own range (cm), not the 0–35 cm of the errors
    lo, hi = axes["What the network changed: DIP − IBP"].images[0].get_clim()
    assert lo == -hi and hi > 0                               # symmetric, its own
    assert "Uncertainty σ (from the observation alone)" in axes
    assert any(ax.get_xlabel().startswith("Longitude") for ax in axes.values())
    assert any(ax.get_ylabel().startswith("Latitude") for ax in axes.values())
    plt.close(fig)


def stand_in_members(spread: float, sigma: float = 0.01):
    """Three members of the truth plus tiny noise (std ~``spread`` m); the last event carries a flat calibrated
    ``uncertainty`` of ``sigma`` m (its expected RMSE)."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fake(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        rng = np.random.default_rng(0)
        for step in range(1, iters + 1):
            mem = (truth[None] + rng.standard_normal((members, *truth.shape)) * spread).astype(np.float32)
            est = mem.mean(axis=0)
            last = step == iters
            unc = np.where(np.isfinite(truth), sigma, np.nan).astype(np.float32) if last else None
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=mem.std(axis=0, ddof=1), elapsed=0.01 * step, members=mem,
                           metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9}, done=last,
                           uncertainty=unc, expected_rmse=sigma if last else None,
                           uncertainty_prior="mapped" if last else None)
    return fake


def test_the_credit_stays_after_a_run_and_the_experiments_tab_sweeps_the_sidebar_sample(make_app):
    from bokeh.document import Document

    from dipcore.samples import parse_spec
    from explorer.ui.layout import sample_spec

    app = make_app(fit=slow_fit(200.0))
    app.__panel__().get_root(Document())
    assert "Copernicus" in app.credit
    small(app, iters=2, members=1)
    assert app.run() and app.wait(30)
    assert "Copernicus" in app.credit and "Copernicus" not in app.message   # its own line, not the message's
    assert sample_spec(app) == "gulfstream@0:32,0:64"
    assert parse_spec(sample_spec(app).split("@")[0]) == ("gulfstream", app.time_index)  # dipcore reads it back
    sizes = {m.fig.title.text_font_size for m in app.live.maps.values()}
    app.sample = "blacksea"
    assert sample_spec(app) == "blacksea" and "Copernicus" in app.credit
    # the map titles keep one size whatever their text (a new sample's titles must not jump)
    assert {m.fig.title.text_font_size for m in app.live.maps.values()} == sizes and len(sizes) == 1
    tab = app.view.experiments
    assert tab.cases() == ["blacksea"]
    assert tab.run_button.label == "Run sweep" and tab.stop_button.label == "Stop sweep"
    tab.use_sidebar_sample = False
    assert tab.cases() is None

