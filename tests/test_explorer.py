"""Server-side tests of the explorer's state (no browser): loading, degradation, errors, runs, stop, sessions."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import xarray as xr

from dipcore.errors import SSHDipError
from dipcore.twin import make_twin
from explorer.app import MAX_UPLOAD_BYTES, ExplorerApp

CROP = "0 32 0 64"  # a small ocean box of the Gulf Stream sample: fits stay around a second per step on a busy CPU


@pytest.fixture
def app():
    a = ExplorerApp()
    yield a
    a.stop()
    a.wait(30)


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


def test_default_sample_loads_truth_observation_bicubic(app):
    assert app.sample == "gulfstream" and app.error == ""
    t = app.twin
    assert t.truth.shape == (128, 256)
    assert t.observation.shape == (16, 32)          # ×8 by default
    assert t.bicubic.shape == t.truth.shape
    assert np.isnan(t.truth).any() and np.isfinite(t.truth).mean() > 0.5  # land and ocean
    # the bicubic baseline is a fair, imperfect reconstruction (a few cm off, in metres here)
    err = np.sqrt(np.nanmean((t.bicubic - t.truth) ** 2))
    assert 0.01 < err < 0.5
    assert app.geom.xlabel.startswith("Longitude") and app.geom.xs.size == 256
    lo, hi = app.ssh_clim
    assert lo < 0 < hi and app.err_lim > 0
    assert "Copernicus" in app.source


def test_ratio_and_noise_update_the_observation(app):
    obs8 = app.twin.observation.copy()
    app.ratio = 4
    assert app.twin.observation.shape == (32, 64)
    app.ratio = 8
    np.testing.assert_allclose(app.twin.observation, obs8)  # noiseless: same observation back
    app.noise = 0.2
    diff = app.twin.observation - obs8
    ocean = np.isfinite(diff)
    sd = float(np.nanstd(app.twin.truth))
    assert 0.1 * sd < np.std(diff[ocean]) < 0.3 * sd  # white noise of 0.2 × the field's std
    app.seed = 1
    assert not np.allclose(app.twin.observation[ocean], (obs8 + diff)[ocean])  # another noise draw


def test_ratio_too_large_for_the_crop_is_refused_and_the_previous_setting_stays(app):
    app.index_crop = "0 16 0 16"
    assert app.field.shape == (16, 16) and app.error == ""
    twin = app.twin
    app.ratio = 16                                    # 16×16 at ×16 is a 1×1 observation
    assert "too small" in app.error
    assert app.ratio == 8 and app.twin is twin


def test_bad_uploads_set_an_error_and_keep_the_field(app):
    field, twin = app.field, app.twin
    assert not app.load_upload(np.random.default_rng(0).bytes(5000), "noise.nc")
    assert "cannot read" in app.error and app.field is field and app.twin is twin

    app.error = ""
    ds = xr.Dataset({"temperature": (("lat", "lon"), np.ones((20, 20), np.float32))},
                    coords={"lat": np.arange(20.0), "lon": np.arange(20.0)})
    assert not app.load_upload(ds.to_netcdf(), "sst.nc")
    assert "no sea surface height variable" in app.error and app.field is field

    app.error = ""
    assert not app.load_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "huge.nc")
    assert "limit" in app.error and "MB" in app.error and app.field is field
    assert app.twin.truth.shape == (128, 256)


def test_good_upload_replaces_the_field(app, tmp_path):
    ny, nx = 40, 48
    yy, xx = np.meshgrid(np.linspace(0, 1, ny), np.linspace(0, 1, nx), indexing="ij")
    ssh = (np.sin(6 * xx) * np.cos(4 * yy)).astype(np.float32)
    ds = xr.Dataset({"zos": (("time", "lat", "lon"), np.stack([ssh, 2 * ssh]), {"units": "m"})},
                    coords={"lat": 30 + np.arange(ny) * 0.25, "lon": -70 + np.arange(nx) * 0.25})
    assert app.load_upload(ds.to_netcdf(), "mine.nc"), app.error
    assert app.field.shape == (ny, nx) and app.variable == "zos"
    assert app.param.time_index.bounds == (0, 1)
    app.time_index = 1
    np.testing.assert_allclose(app.field.values, 2 * ssh, rtol=1e-6)


def test_run_streams_estimates_curves_and_a_netcdf_download(app):
    small(app, iters=6, members=2)
    assert app.run()
    seen = set()
    deadline = time.time() + 120
    while app.running and time.time() < deadline:
        time.sleep(0.1)
        app.flush()
        seen.add(app.step)
    assert not app.running and app.error == ""
    p = app.result
    assert p is not None and p.done and p.step == 6
    assert len(seen - {0}) >= 2                       # the page saw intermediate steps, not only the end
    assert p.estimate.shape == (32, 64) and p.member_std is not None and p.members.shape == (2, 32, 64)
    steps, values, refs = app._pipes["rmse"].data
    assert list(steps) == [1, 2, 3, 4, 5, 6] and np.all(np.isfinite(values))
    assert set(refs) == {"bicubic", "ibp"} and np.all(np.isfinite(list(refs.values())))
    assert app._pipes["estimate"].data is p.estimate
    assert "done at step 6/6" in app.progress_text and "IBP" in app.progress_text
    assert "IBP" in app.verdict and app.best in ("estimate", "ibp", "bicubic", "level")

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


def _fit_module():
    import importlib

    return importlib.import_module("dipcore.solver")  # the package re-exports fit(), shadowing the module


def test_baseline_scores_include_ibp_and_are_cached_per_twin(app):
    from dipcore.metrics import rmse, ssim

    t = app.twin
    assert t.ibp.shape == t.bicubic.shape
    sc = app.baseline_scores()
    assert np.isclose(sc["ibp"][0], rmse(t.ibp, t.truth)) and np.isclose(sc["ibp"][1], ssim(t.ibp, t.truth))
    assert np.isclose(sc["bicubic"][0], rmse(t.bicubic, t.truth))
    assert sc["ibp"][0] < sc["bicubic"][0]                 # IBP is the stronger baseline on the sample
    assert app.baseline_scores() is sc                     # computed once per twin
    # the score curves carry both reference lines before any run
    assert app._pipes["rmse"].data[2] == {"bicubic": sc["bicubic"][0] * 100, "ibp": sc["ibp"][0] * 100}
    app.ratio = 4                                          # a new twin: new scores, never the old ones
    sc4 = app.baseline_scores()
    assert sc4 is not sc and np.isclose(sc4["ibp"][0], rmse(app.twin.ibp, app.twin.truth))
    # the baseline map shows bicubic or IBP; before a run the error map follows it
    app.baseline_map = "ibp"
    assert app._pipes["bicubic"].data is app.twin.ibp
    np.testing.assert_allclose(app._pipes["error"].data, app.twin.ibp - app.twin.truth)
    app.baseline_map = "bicubic"
    assert app._pipes["bicubic"].data is app.twin.bicubic


@pytest.mark.parametrize("dip, ibp, best, words", [
    (7.9, 8.0, "estimate", "the network beats IBP and bicubic"),
    (8.3, 8.0, "ibp", "IBP (no network) is better than the network here; the network still beats bicubic"),
    (8.9, 8.0, "ibp", "IBP (no network) is better than the network here."),
    (9.0, 8.8, "bicubic", "bicubic (no network) is better than the network here"),
    (8.02, 8.0, "level", "level with IBP"),
    (float("nan"), 8.0, "ibp", "IBP (no network) is better"),
])
def test_verdict_names_the_better_estimate(dip, ibp, best, words):
    from explorer.app import best_of, verdict

    assert best_of(dip, ibp, 8.6) == best
    text = verdict(dip, ibp, 8.6)
    assert words in text and f"IBP {ibp:.2f} cm" in text and "bicubic 8.60 cm" in text


def test_a_finished_run_says_which_estimate_won(app, monkeypatch):
    small(app, iters=3, members=1)
    monkeypatch.setattr(_fit_module(), "fit", fake_fit(lambda truth: truth + 0.001))   # near-perfect
    assert app.run() and app.wait(30) and app.error == ""
    assert app.best == "estimate" and "the network beats IBP" in app.verdict, app.verdict
    assert app.summary()["best"] == "estimate"
    monkeypatch.setattr(_fit_module(), "fit", fake_fit(lambda truth: truth + 0.3))     # 30 cm off everywhere
    assert app.run()
    assert app.verdict == ""                                                           # cleared by a new run
    assert app.wait(30) and app.best == "ibp"
    assert "IBP (no network) is better than the network here" in app.verdict, app.verdict
    app.ratio = 4
    assert app.verdict == ""                                                           # and by a new field


def test_architecture_choice_follows_the_recipe_and_reaches_the_fit(app, monkeypatch):
    from dipcore.solver import DEFAULT_RECIPE, Recipe, get_recipe
    from dipcore.generators import ARCHITECTURES

    assert app.param.arch.objects == list(ARCHITECTURES)
    assert app.recipe == DEFAULT_RECIPE and app.arch == get_recipe(DEFAULT_RECIPE).arch
    calls = []
    small(app, iters=2, members=1)
    monkeypatch.setattr(_fit_module(), "fit", fake_fit(lambda truth: truth, calls))
    assert app.run() and app.wait(30)
    assert calls[-1] == DEFAULT_RECIPE                     # the recipe's own architecture: the recipe as named
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
    assert app._pipes["latent"].data is p.latent_std


def test_uncertainty_tab_scores_the_total_std(app):
    from explorer.app import uncertainty_text

    assert app.total_std() is None and "Run a fit" in uncertainty_text(app)
    small(app, iters=3, members=2)
    assert app.run() and app.wait(120)
    tot, p = app.total_std(), app.result
    ocean = np.isfinite(p.estimate)
    # the sub-grid part makes the total std larger than the members' spread wherever the field has a slope
    assert tot.shape == p.estimate.shape and (tot[ocean] >= p.member_std[ocean] - 1e-7).all()
    assert np.nanmean(tot) > 2 * np.nanmean(p.member_std)
    assert app.total_std() is tot                                   # cached per result
    text = uncertainty_text(app)
    assert "Ensemble std" in text and "Total std" in text and "spread/skill" in text


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
    assert app._pipes["estimate"].data is app.result.estimate   # the last estimate stays on screen
    app._thread.join(60)                              # the worker ends after the step it was computing
    assert not app._thread.is_alive()
    app.flush()
    assert app.step == shown and app._pipes["estimate"].data is app.result.estimate


def test_worker_exception_is_shown_and_the_session_lives_on(app, monkeypatch):
    import importlib

    fitmod = importlib.import_module("dipcore.solver")  # the package re-exports fit(), shadowing the module

    def boom(*a, **k):
        raise RuntimeError("simulated failure")
        yield  # noqa: unreachable (a generator)

    small(app, iters=3, members=1)
    monkeypatch.setattr(fitmod, "fit", boom)
    app.run()
    assert app.wait(30)
    assert "simulated failure" in app.error and not app.running
    assert app.twin.truth.shape == (32, 64)
    monkeypatch.undo()
    assert app.run() and app.wait(120) and app.result.done


def test_out_of_gpu_memory_is_a_message_and_the_session_lives_on(app, monkeypatch):
    """torch's OutOfMemoryError, raised inside the real dipcore.solver, reaches the page as dipcore's message."""
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


def test_two_apps_do_not_share_state():
    a, b = ExplorerApp(), ExplorerApp()
    a.ratio = 4
    b.sample = "blacksea"
    assert a.twin.truth.shape == (128, 256) and b.twin.truth.shape == (56, 120)
    assert a.twin.degradation.ratio == 4 and b.twin.degradation.ratio == 8
    assert a._pipes["truth"] is not b._pipes["truth"]
    small(a, iters=4, members=1)
    a.run()
    assert b.running is False and b.step == 0
    assert a.wait(120) and a.result is not None and b.result is None


def test_experiments_tab_falls_back_when_missing(monkeypatch):
    import builtins

    from explorer.layout import experiments_tab

    real = builtins.__import__

    def no_module(name, *args, **kw):
        if name == "explorer.experiments_tab":
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_module)
    assert "not installed" in experiments_tab().object


def test_page_builds(app):
    from bokeh.document import Document
    from bokeh.models import ColorBar

    root = app.__panel__().get_root(Document())
    assert root is not None
    live = app._live
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
    from bokeh.models import ColorBar

    from explorer.views import AMP, Geometry, image

    g = Geometry(np.arange(8.0), np.arange(6.0), "x", "y")
    plot = hv.render(image(np.full((6, 8), 4e-6), g, "Latent std", "std", cmap=AMP, clim=(0, 1e-3)))
    bars = [r for r in plot.right if isinstance(r, ColorBar)]
    assert bars and not bars[0].formatter.use_scientific and bars[0].color_mapper.low == 0


def test_make_twin_error_message_is_user_facing():
    from dipcore.io import Field

    with pytest.raises(SSHDipError):
        make_twin(Field.from_array(np.ones((8, 8), np.float32)), 32)


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


def test_box_selection_crops_in_lon_lat_and_a_bad_box_keeps_the_field(app):
    lon, lat = app.geom.xs, app.geom.ys
    assert app.crop(box=(float(lon[10]), float(lat[20]), float(lon[73]), float(lat[51])))
    assert app.field.shape == (32, 64), app.field.shape
    field = app.field
    assert not app.crop(box=(0.0, -89.0, 1.0, -88.0))  # nowhere near the Gulf Stream
    assert "contains no grid cell" in app.error and app.field is field
    app.reset_crop()
    assert app.field.shape == (128, 256)


def test_closing_the_session_stops_the_fit(app):
    small(app, iters=5000, members=1)
    app.run()
    flush_until_step(app, 1)
    app._on_destroyed(None)                          # what pn.state.on_session_destroyed calls
    app._thread.join(60)
    assert not app._thread.is_alive() and app._run.events < 5000


# ---- issue 10: the explorer as a teacher and a scientist meet it ----------------------------------------------

def slow_fit(rate: float = 50.0, stop_early_at: int | None = None):
    """A stand-in for ``dipcore.solver.fit`` at ``rate`` events/s; with ``stop_early_at`` it ends there with
    ``done=True`` (what a held-out recipe's early stop looks like), each member's best step in ``selected``."""
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
                           selected=np.array([step - 2] * members) if last and stop_early_at else None)
            if last:
                return
    return fake


def _nc_attrs(app) -> dict:
    data = app.netcdf()
    ds = xr.open_dataset(io.BytesIO(data), engine="h5netcdf") if _has("h5netcdf") else _open_nc(data)
    return dict(ds.attrs)


def test_a_stopped_run_says_where_its_estimate_comes_from_in_the_file_and_on_the_page(app, monkeypatch):
    small(app, iters=300, members=1)
    monkeypatch.setattr(_fit_module(), "fit", slow_fit(50.0))
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


@pytest.mark.parametrize("early, reason", [(None, "finished"), (4, "early-stopped")])
def test_a_run_that_ends_by_itself_says_why(app, monkeypatch, early, reason):
    small(app, iters=8, members=1)
    monkeypatch.setattr(_fit_module(), "fit", slow_fit(200.0, stop_early_at=early))
    assert app.run() and app.wait(30) and app.error == ""
    attrs = _nc_attrs(app)
    last = early or 8
    assert attrs["config_last_step"] == last and attrs["config_end_reason"] == reason
    assert app.progress_text.startswith(f"done at step {last}/8") and reason in app.progress_text
    if early:  # a held-out recipe's answer is each member's best step, and the page says which
        assert str(attrs["config_estimate_steps"]) == str(early - 2)
        assert f"estimate from step {early - 2}" in app.progress_text


def test_eta_waits_for_a_few_steps_and_uses_recent_speed():
    from explorer.progress import ETA_AFTER, eta_text, recent_rate

    # a slow first step (warm-up: 10 s), then 10 steps/s: the speed is the recent one, not 1134 s to go
    times = [(1, 10.0)] + [(s, 10.0 + (s - 1) * 0.1) for s in range(2, 40)]
    assert recent_rate(times) == pytest.approx(10.0)
    assert eta_text(39, 300, recent_rate(times)) == "ETA 26 s"
    assert eta_text(ETA_AFTER - 1, 300, 10.0) == ""          # no guess from the first steps
    assert np.isnan(recent_rate(times[:1]))
    assert eta_text(10, 10_000, 1.0) == "ETA 166.5 min"


def test_the_pixel_inspector_shows_one_estimate_and_says_land(app, monkeypatch):
    small(app, iters=6, members=2)
    monkeypatch.setattr(_fit_module(), "fit", slow_fit(200.0))
    assert app.run() and app.wait(30)
    ocean = np.argwhere(np.isfinite(app.twin.truth))[0]
    x, y = app.geom.point_of(*ocean)
    app.tap_at(x, y)                                          # a tap after the run: the final estimate
    info = app.pixel_info()
    assert info["mean"] == pytest.approx(float(app.result.estimate[tuple(ocean)]))
    assert info["hist_mean"][-1] == pytest.approx(info["mean"]) and info["hist_steps"][-1] == app.result.step
    assert "°W" in info["where"] and "°N" in info["where"]   # lon/lat as people write them
    # the plots: the title, the dots' mean and the line's end read the same number
    from explorer.live import PixelPlots

    plots = PixelPlots(app)
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


def test_longitudes_read_minus_180_to_180_unless_the_grid_crosses_the_antimeridian(app):
    from explorer.views import place, signed_longitudes

    assert app.geom.xs.min() < -60 and app.geom.xs.max() < 0       # the Gulf Stream sample: 280–343 °E stored
    np.testing.assert_allclose(signed_longitudes(np.arange(280.0, 300.0, 5)), np.arange(-80.0, -60.0, 5))
    across = np.arange(170.0, 200.0, 5)                            # across the antimeridian: continuous 0–360
    np.testing.assert_allclose(signed_longitudes(across), across)
    assert place(-75.5, 35.25, app.geom) == "75.50°W 35.25°N"
    # box selection in the shown (signed) longitudes still crops the 0–360 grid
    lon, lat = app.geom.xs, app.geom.ys
    assert app.crop(box=(float(lon[10]), float(lat[20]), float(lon[73]), float(lat[51]))), app.error
    assert app.field.shape == (32, 64)


def test_the_png_figure_has_a_full_title_labelled_axes_and_a_std_scale_of_its_own(app, monkeypatch):
    import matplotlib.pyplot as plt

    from explorer import views

    small(app, iters=4, members=3)
    monkeypatch.setattr(_fit_module(), "fit", stand_in_members(spread=1e-5))
    assert app.run() and app.wait(30)
    figs = []
    real = views.figure
    monkeypatch.setattr(views, "figure", lambda *a, **k: figs.append(real(*a, **k)) or figs[-1])
    assert app.png()[:4] == b"\x89PNG"
    fig = figs[-1]
    fig.canvas.draw()
    title = fig._suptitle
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, "the title is cut"
    assert "Copernicus" in title.get_text() and "finished at step 4/4" in title.get_text().replace("\n", " ")
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    lo, hi = axes["Ensemble std"].images[0].get_clim()
    assert lo == 0 and 0 < hi < 0.01                          # its own range (cm), not the 0–35 cm of the errors
    assert any(ax.get_xlabel().startswith("Longitude") for ax in axes.values())
    assert any(ax.get_ylabel().startswith("Latitude") for ax in axes.values())
    plt.close(fig)


def stand_in_members(spread: float):
    """Three members of the truth plus tiny noise (std ~``spread`` m)."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fake(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        rng = np.random.default_rng(0)
        for step in range(1, iters + 1):
            mem = (truth[None] + rng.standard_normal((members, *truth.shape)) * spread).astype(np.float32)
            est = mem.mean(axis=0)
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=mem.std(axis=0, ddof=1), elapsed=0.01 * step, members=mem,
                           metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9}, done=step == iters)
    return fake


def test_the_credit_stays_after_a_run_and_the_experiments_tab_sweeps_the_sidebar_sample(app, monkeypatch):
    from bokeh.document import Document

    from explorer.layout import sample_spec

    app.__panel__().get_root(Document())
    assert "Copernicus" in app.credit
    small(app, iters=2, members=1)
    monkeypatch.setattr(_fit_module(), "fit", slow_fit(200.0))
    assert app.run() and app.wait(30)
    assert "Copernicus" in app.credit and "Copernicus" not in app.message   # its own line, not the message's
    assert sample_spec(app) == "gulfstream@0:32,0:64"
    sizes = {m.fig.title.text_font_size for m in app._live.maps.values()}
    app.sample = "blacksea"
    assert sample_spec(app) == "blacksea" and "Copernicus" in app.credit
    # the map titles keep one size whatever their text (a new sample's titles must not jump)
    assert {m.fig.title.text_font_size for m in app._live.maps.values()} == sizes and len(sizes) == 1
    tab = app._experiments_tab
    assert tab.cases() == ["blacksea"]
    assert tab.run_button.label == "Run sweep" and tab.stop_button.label == "Stop sweep"
    tab.use_sidebar_sample = False
    assert tab.cases() is None

