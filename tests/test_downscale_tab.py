"""The explorer's "Downscale my field (no truth)" tab (explorer/ui/downscale.py, explorer/downscale/): runs with a
stand-in downscale (the pipeline without the fit's cost), Stop, bad uploads, and one real run."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import xarray as xr

from dipcore.io import Field
from dipcore.solver import Progress
from explorer.downscale.session import DownscaleSession
from explorer.downscale.state import DownscaleState
from explorer.downscale.worker import misfit_rms
from explorer.ui.downscale import SIGMA_TITLE, DownscaleTab, fine_geometry


def fake_downscale(delay: float = 0.0, steps: int = 4, started: threading.Event | None = None,
                   seen: dict | None = None):
    """A stand-in with downscale's signature that settles like the default recipe: ``min(steps, iters)`` progress
    calls (``delay`` s apart; ``iters`` is a cap, as the recipe's), the last one with a flat calibrated uncertainty of
    1 cm, then a small Dataset whose estimate is the observation repeated per block (misfit 0) plus a decaying offset
    during the run."""
    def fit(da, factor, *, members=4, iters=None, progress=None, every=1, **kw):
        if seen is not None:
            seen.update(members=members, iters=iters, factor=factor, **kw)
        obs = np.asarray(da.values, np.float32)
        fine = np.kron(obs, np.ones((factor, factor), np.float32))
        cap = iters or 1500
        n = min(steps, cap)
        why = "settled" if n < cap else "iterations"
        unc = np.where(np.isfinite(fine), 0.01, np.nan).astype(np.float32)
        t0 = time.perf_counter()
        for step in range(1, n + 1):
            if started is not None and step == 1:
                started.set()
            time.sleep(delay)
            std = np.full_like(fine, 0.01 / step) if members > 1 else None
            last = step == n
            progress(Progress(step=step, iters=cap, loss=np.zeros(members, np.float32), estimate=fine + 0.01 / step,
                              member_std=std, elapsed=time.perf_counter() - t0, done=last,
                              uncertainty=unc if last else None, expected_rmse=0.01 if last else None,
                              stop_reason=why if last else None))
        dims = ("y", "x")
        ds = xr.Dataset({"estimate": (dims, fine), "bicubic": (dims, fine + 0.005), "ibp": (dims, fine),
                         "uncertainty": (dims, unc), "observation": (("y_lr", "x_lr"), obs)},
                        attrs={"factor": factor, "iters": n, "seconds": 0.1, "misfit_rms_m": 0.0,
                               "misfit_max_abs_m": 0.0, "expected_rmse_m": 0.01, "stop_reason": why})
        if members > 1:
            ds["std"] = (dims, np.full_like(fine, 0.01 / n))
        return ds
    return fit


def small_field(ny: int = 16, nx: int = 24) -> Field:
    yy, xx = np.mgrid[0:ny, 0:nx]
    v = (0.3 * np.sin(yy / 3.0) * np.cos(xx / 4.0)).astype(np.float32)
    v[:2, :3] = np.nan  # a bit of land
    return Field.from_array(v, dx_km=10.0)


def tab_with(fit, field: Field | None = None) -> DownscaleTab:
    tab = DownscaleTab(fit=fit, load=False)
    assert tab.state.use_field(field if field is not None else small_field(), "a test field")
    return tab


def test_a_run_ends_done_with_estimate_std_misfit_and_a_netcdf_file(tmp_path):
    seen: dict = {}
    tab = tab_with(fake_downscale(seen=seen, steps=5))
    s = tab.state
    s.factor, s.members, s.iters = 4, 2, 8
    tab.session.run()
    assert tab.session.wait(10)
    assert not s.running and s.status.startswith("done"), s.status
    assert "settled at step 5 of at most 8 (the estimate no longer moved)" in s.status, s.status
    assert seen["members"] == 2 and seen["iters"] == 8 and seen["factor"] == 4
    assert "/" not in seen["provenance"]["input"]  # the file never records a path of the server
    assert s.snapshot.estimate.shape == (64, 96) and s.snapshot.std.shape == (64, 96)
    # the networks' own misfit is the curve; the final answer is a point of its own (a projected one: ~0)
    steps, values = s.misfit
    assert list(steps) == [1, 2, 3, 4] and np.all(np.diff(values) < 0)  # from the events' estimates
    assert values[-1] == pytest.approx(0.01 / 4, rel=1e-3)
    assert tab.session.job.final_misfit() == (5, pytest.approx(0.01 / 5, rel=1e-3))
    assert tab.curve.final.data["x"] == [5] and tab.curve.final.data["y"][0] == pytest.approx(100 * 0.01 / 5, rel=1e-3)
    assert "reproduces your map to 0.25 cm RMS at step 4" in s.misfit_note, s.misfit_note
    assert "that last drop is the correction, not the networks' learning" in s.misfit_note
    # the calibrated uncertainty, truth-free: its map and its expected RMSE
    assert "Expected RMSE ≈ 1.00 cm" in s.status
    assert tab.maps["std"].fig.title.text == "Uncertainty σ (expected RMSE ≈ 1.00 cm)"
    assert tab.maps["std"].mapper.high == pytest.approx(1.0)
    (tmp_path / "dl.nc").write_bytes(s.netcdf_bytes())
    with xr.open_dataset(tmp_path / "dl.nc") as ds:
        assert "estimate" in ds and ds["estimate"].shape == (64, 96)
    # the page: buttons, download, maps and the curve reflect the run
    assert not tab.download.disabled and tab.download.filename.endswith("_x4_downscaled.nc")
    assert tab.run_button.disabled is False and tab.stop_button.disabled is True
    assert tab.download.label == "Download field_x4_downscaled.nc"  # what it holds, by name
    assert tab.curve.dip.data["y"][-1] == pytest.approx(100 * 0.01 / 4, rel=1e-3)  # cm
    assert tab.maps["estimate"].source.data["image"][0].shape == (64, 96)
    assert tab.maps["std"].mapper.low == 0.0 and tab.maps["std"].mapper.high > 0
    assert tab.progress.value == 100
    assert tab.netcdf_file().read(4) == b"\x89HDF"


def test_stop_during_a_slow_run_ends_the_job():
    started = threading.Event()
    tab = tab_with(fake_downscale(delay=0.2, steps=500, started=started))
    s = tab.state
    tab.session.run()
    assert s.running and tab.stop_button.disabled is False
    assert started.wait(10)
    time.sleep(0.5)
    tab.session.flush()
    assert s.status.startswith("running")
    t0 = time.perf_counter()
    tab.session.stop()
    assert tab.session.wait(5) and time.perf_counter() - t0 < 2.0
    assert not s.running and s.status.startswith("stopped") and s.result is None
    assert s.snapshot is not None and tab.download.disabled  # the estimate so far stays on the page
    assert not tab.session.job.alive
    tab.session.flush()
    assert tab.maps["std"].fig.title.text == SIGMA_TITLE["none"]  # a stopped run: no σ will come, and it says so


def test_a_bad_upload_shows_an_error_and_keeps_the_field():
    tab = tab_with(fake_downscale())
    s = tab.state
    before = s.field
    assert not s.upload(b"not netcdf", "junk.nc")
    assert s.error.startswith("Could not load upload junk.nc: junk.nc is not a NetCDF file") and tab.alert.visible
    assert "Still shown: a test field" in s.error and "errno" not in s.error.lower()
    assert s.field is before and "/tmp" not in s.error
    assert not s.upload(b"", "../../etc/empty.nc")  # an empty upload, a name with folders
    assert "empty.nc" in s.error and "etc" not in s.error
    tab.session.run()  # what was loaded still runs
    assert tab.session.wait(10) and s.status.startswith("done")
    # a failed load after a run: the download stays that run's, and both the message and the button say so
    assert not s.upload(b"still not netcdf", "other.nc")
    assert "the download holds its ×4 result" in s.error and s.result is not None
    assert tab.download.label == "Download field_x4_downscaled.nc" and "other" not in tab.download.filename


def test_an_upload_with_repairs_is_loaded_with_a_note(tmp_path):
    f = small_field(32, 32)
    v = f.data.values.copy()
    v[5, 5] = np.inf  # a non-finite cell: repaired to missing, with an SSHDipWarning
    da = xr.DataArray(v, dims=("lat", "lon"), coords={"lat": np.linspace(30, 33, 32), "lon": np.linspace(0, 3, 32)},
                      name="adt", attrs={"units": "m"})
    path = tmp_path / "mine.nc"
    da.to_dataset().to_netcdf(path)
    tab = tab_with(fake_downscale())
    assert tab.state.upload(path.read_bytes(), "mine.nc"), tab.state.error
    assert tab.state.notes and tab.note.visible
    assert tab.state.filename == "mine_x4_downscaled.nc"
    assert tab.x_range.start < 0.1 and tab.x_range.end > 2.9  # the maps follow the field's lon/lat


def test_a_field_too_large_for_the_factor_is_refused_with_a_message():
    tab = tab_with(fake_downscale(), small_field(200, 300))
    s = tab.state
    s.factor = 32
    tab.session.run()
    assert not s.running and tab.session.job is None and "more than" in s.error and tab.alert.visible


def test_a_failing_downscale_shows_its_message_and_keeps_the_field():
    from dipcore.errors import SSHDipError

    def fit(da, factor, **kw):
        raise SSHDipError("the input grid is too small")

    tab = tab_with(fit)
    s = tab.state
    tab.session.run()
    assert tab.session.wait(10)
    assert s.error == "the input grid is too small" and s.status.startswith("failed") and s.field is not None


def test_before_run_the_tab_says_the_recipes_cap_and_how_long_it_takes():
    """The iteration box holds the recipe's own count (the CLI's), named as a cap; the plan says that the recipe stops
    by itself and how long a run takes here, and follows the settings."""
    from dipcore.recipes import get_recipe

    tab = tab_with(fake_downscale())
    s = tab.state
    assert s.iters == get_recipe("dip").iters == 1500 and tab.iters_input.name == "Iterations (at most)"
    assert "stops by itself once the estimate settles" in s.plan and "1500 is a cap" in s.plan, s.plan
    assert "at most" in s.plan and tab.plan_pane.object == s.plan
    short = s.plan
    s.members = 8
    assert s.plan != short                              # more members: longer
    s.iters = 100                                       # below the recipe's minimum: it runs them all
    assert s.plan.startswith("100 steps of the recipe 'dip'")


def test_a_server_with_fewer_iterations_allowed_starts_at_its_limit_and_runs():
    """A server started with --max-iters below the recipe's count: the box starts at the limit and the first press
    runs (it used to be refused for the recipe's 1500)."""
    from explorer.data.server_limits import Limits

    tab = DownscaleTab(fit=fake_downscale(steps=3), load=False, limits=Limits(max_iters=1000))
    tab.state.use_field(small_field(), "a test field")
    assert tab.state.iters == 1000
    assert tab.session.run() and tab.session.wait(10)
    assert tab.state.error == "" and tab.state.result is not None


def test_while_running_the_count_is_a_cap_and_the_eta_says_at_most():
    started = threading.Event()
    tab = tab_with(fake_downscale(delay=0.05, steps=200, started=started))
    tab.session.run()
    assert started.wait(10)
    time.sleep(0.6)
    tab.session.flush()
    status = tab.state.status
    assert status.startswith("running: step") and "/1500 (a cap: it stops once the estimate settles)" in status
    assert "at most" in status and "left" in status, status
    tab.session.stop()
    assert tab.session.wait(10)


def test_fine_geometry_keeps_bounds_and_direction():
    from explorer.data.geometry import Geometry

    g = Geometry(np.array([0.0, 1.0, 2.0]), np.array([10.0, 9.0]), "Longitude (°E)", "Latitude (°N)")
    f = fine_geometry(g, 4)
    assert len(f.xs) == 12 and len(f.ys) == 8 and f.ys[0] > f.ys[-1]
    assert np.allclose(f.bounds, g.bounds)
    assert misfit_rms(np.kron(np.ones((2, 3)), np.ones((4, 4))), np.ones((2, 3)), 4) == 0.0


def test_the_real_downscale_on_a_small_crop_gives_a_grid_four_times_finer():
    from dipcore.samples import load_sample

    crop = load_sample("blacksea").crop_index(8, 40, 40, 88)  # 32×48 coarse cells
    s = DownscaleState(load=False)
    session = DownscaleSession(s)                            # the real dipcore.downscale.downscale
    assert s.use_field(crop, "blacksea crop")
    s.factor, s.members, s.iters = 4, 2, 5
    assert session.run()
    assert session.wait(300), "the real downscale did not finish"
    assert s.status.startswith("done"), (s.status, s.error)
    assert s.result["estimate"].shape == (128, 192) and s.snapshot.estimate.shape == (128, 192)
    assert s.result["std"].shape == (128, 192)
    assert len(s.misfit[0]) == 4 and np.all(np.isfinite(s.misfit[1]))   # the networks' own output …
    assert session.job.final_misfit()[0] == 5                           # … and the final answer's
    assert s.result["uncertainty"].shape == (128, 192) and s.error == "" and "Expected RMSE ≈" in s.status
    assert s.result.attrs["input_file"] == "blacksea crop"


def test_an_upload_with_several_time_steps_downscales_the_step_chosen_without_a_new_upload(tmp_path):
    f = small_field(16, 16)
    days = np.stack([f.data.values + 0.1 * k for k in range(3)])  # three daily maps, each 0.1 m higher
    da = xr.DataArray(days, dims=("time", "lat", "lon"), name="adt", attrs={"units": "m"},
                      coords={"time": np.array(["2020-01-01", "2020-01-02", "2020-01-03"], "datetime64[ns]"),
                              "lat": np.linspace(30, 33, 16), "lon": np.linspace(0, 3, 16)})
    da[1] = np.nan  # day 2 is all missing: choosing it must fail with a message and keep day 1
    path = tmp_path / "days.nc"
    da.to_dataset().to_netcdf(path)
    seen: dict = {}
    tab = tab_with(fake_downscale(seen=seen))
    s = tab.state
    assert s.upload(path.read_bytes(), "days.nc"), s.error
    assert s.time_steps == 3 and s.time_index == 0 and tab.time_input.visible
    assert any("3 time steps" in n for n in s.notes)
    first = np.nanmean(s.field.values)
    s.time_index = 1
    assert "Could not load upload days.nc, time step 1" in s.error
    assert s.time_index == 0 and np.nanmean(s.field.values) == pytest.approx(first)  # day 1 stays, and says so
    s.time_index = 2  # the widget's choice: read again from the kept bytes
    assert s.error == "" and s.time_steps == 3 and s.time_index == 2
    assert np.nanmean(s.field.values) == pytest.approx(first + 0.2, abs=1e-5)
    assert s.filename == "days_t2_x4_downscaled.nc"
    assert s.source.endswith("time step 2 of 0–2 (2020-01-03T00:00:00)"), s.source  # which day, in words
    tab.session.run()
    assert tab.session.wait(10) and s.status.startswith("done")
    assert seen["provenance"]["input"] == "upload days.nc, time step 2"
    assert s.param.time_index.bounds == (0, 2)  # the bounds follow the file: no step 5 to pick
    with pytest.raises(ValueError):
        s.time_index = 5
    assert tab.state.use_field(small_field(), "a 2-D field")  # one map only: the choice goes away
    assert s.time_steps == 1 and s.time_index == 0 and not tab.time_input.visible


def test_a_server_file_is_chosen_by_name_with_its_time_steps(tmp_path):
    from explorer.data.server_files import DataDir

    f = small_field(16, 16)
    da = xr.DataArray(np.stack([f.data.values + 0.1 * k for k in range(2)]), dims=("time", "lat", "lon"),
                      name="adt", attrs={"units": "m"},
                      coords={"lat": np.linspace(30, 33, 16), "lon": np.linspace(0, 3, 16)})
    (tmp_path / "two_days.nc").write_bytes(da.to_dataset().to_netcdf())
    (tmp_path / "broken.nc").write_bytes(b"not netcdf")
    seen: dict = {}
    tab = DownscaleTab(fit=fake_downscale(seen=seen), load=True, data_dir=DataDir(tmp_path.resolve()))
    s = tab.state
    assert s.param.server_file.objects == ["", "broken.nc", "two_days.nc"] and tab.file_select.visible
    s.server_file = "two_days.nc"
    assert s.error == "" and s.time_steps == 2 and s.source.startswith("server file two_days.nc")
    first = np.nanmean(s.field.values)
    s.time_index = 1
    assert np.nanmean(s.field.values) == pytest.approx(first + 0.1, abs=1e-5)
    tab.session.run()
    assert tab.session.wait(10) and s.status.startswith("done")
    assert seen["provenance"]["input"] == "server file two_days.nc, time step 1"
    assert s.filename == "two_days_t1_x4_downscaled.nc"
    kept = s.field
    s.server_file = "broken.nc"  # a bad file: a message naming it (never the server's path); the field stays
    assert s.error.startswith("Could not load file broken.nc") and str(tmp_path) not in s.error
    assert s.field is kept and s.server_file == "two_days.nc"
    assert s.load_sample(s.sample) and s.server_file == ""  # the file box no longer names what is shown
    assert not DownscaleTab(fit=fake_downscale(), load=False).file_select.visible  # no --data-dir: no box
