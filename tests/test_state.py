"""The explorer's state without a page or a fit (explorer/data/state.py): loading, degradation, uploads, crops,
baselines and coordinates (the explorer's module structure: tests/test_explorer_structure.py)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dipcore.errors import SSHDipError
from dipcore.twin import make_twin
from explorer.data.loading import MAX_UPLOAD_BYTES
from explorer.data.state import ExplorerState


def two_maps(ny: int = 40, nx: int = 48) -> tuple[xr.Dataset, np.ndarray]:
    """A NetCDF-ready dataset of two daily maps (``zos``, m, on a lat/lon grid): a smooth pattern and twice it."""
    yy, xx = np.meshgrid(np.linspace(0, 1, ny), np.linspace(0, 1, nx), indexing="ij")
    ssh = (0.3 * np.sin(6 * xx) * np.cos(4 * yy)).astype(np.float32)
    ds = xr.Dataset({"zos": (("time", "lat", "lon"), np.stack([ssh, 2 * ssh]), {"units": "m"})},
                    coords={"lat": 30 + np.arange(ny) * 0.25, "lon": -70 + np.arange(nx) * 0.25})
    return ds, ssh


@pytest.fixture
def state():
    return ExplorerState()


def test_default_sample_loads_truth_observation_bicubic(state):
    assert state.sample == "gulfstream" and state.error == ""
    t = state.twin
    assert t.truth.shape == (128, 256)
    assert t.observation.shape == (16, 32)          # ×8 by default
    assert t.bicubic.shape == t.truth.shape
    assert np.isnan(t.truth).any() and np.isfinite(t.truth).mean() > 0.5  # land and ocean
    # the bicubic baseline is a fair, imperfect reconstruction (a few cm off, in metres here)
    err = np.sqrt(np.nanmean((t.bicubic - t.truth) ** 2))
    assert 0.01 < err < 0.5
    assert state.geom.xlabel.startswith("Longitude") and state.geom.xs.size == 256
    lo, hi = state.ssh_clim
    assert lo < 0 < hi and state.err_lim > 0
    assert "Copernicus" in state.source


def test_ratio_and_noise_update_the_observation(state):
    obs8 = state.twin.observation.copy()
    state.ratio = 4
    assert state.twin.observation.shape == (32, 64)
    state.ratio = 8
    np.testing.assert_allclose(state.twin.observation, obs8)  # noiseless: same observation back
    state.noise = 0.2
    diff = state.twin.observation - obs8
    ocean = np.isfinite(diff)
    sd = float(np.nanstd(state.twin.truth))
    assert 0.1 * sd < np.std(diff[ocean]) < 0.3 * sd  # white noise of 0.2 × the field's std
    state.seed = 1
    assert not np.allclose(state.twin.observation[ocean], (obs8 + diff)[ocean])  # another noise draw


def test_ratio_too_large_for_the_crop_is_refused_and_the_previous_setting_stays(state):
    state.index_crop = "0 16 0 16"
    assert state.field.shape == (16, 16) and state.error == ""
    twin = state.twin
    state.ratio = 16                                    # 16×16 at ×16 is a 1×1 observation
    assert "too small" in state.error
    assert state.ratio == 8 and state.twin is twin


def test_bad_uploads_set_an_error_and_keep_the_field(state):
    field, twin = state.field, state.twin
    assert not state.load_upload(np.random.default_rng(0).bytes(5000), "noise.nc")
    assert "noise.nc is not a NetCDF file this page can read" in state.error, state.error
    assert "errno" not in state.error.lower() and "OSError" not in state.error  # the page's words, no library's
    assert "Still shown: sample gulfstream" in state.error and state.field is field and state.twin is twin

    state.error = ""
    assert not state.load_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "huge.nc")
    assert "limit" in state.error and "MB" in state.error and state.field is field
    assert state.twin.truth.shape == (128, 256)


def test_a_file_whose_variable_cannot_be_told_is_loaded_by_choosing_it_in_the_variable_box(state):
    """A file of maps none named like SSH: the page offers them in the Variable box (never "--var"); what is shown
    stays until one is chosen; choosing one loads it; a later failed load puts the box back."""
    field = state.field
    yy, xx = np.mgrid[0:20, 0:24]
    ds = xr.Dataset({"temperature": (("lat", "lon"), np.ones((20, 24), np.float32)),
                     "height": (("lat", "lon"), (0.1 * np.sin(yy / 3.0) * np.cos(xx / 4.0)).astype(np.float32))},
                    coords={"lat": np.arange(20.0), "lon": np.arange(24.0)})
    assert not state.load_upload(ds.to_netcdf(), "model.nc")
    assert "Variable box (height, temperature)" in state.error and "--var" not in state.error, state.error
    assert state.field is field and state.param.variable.objects == ["", "height", "temperature"]
    assert state.config()["variable"] == "adt"  # what a run now would fit: the field shown
    state.variable = "height"
    assert state.error == "" and state.field.shape == (20, 24) and state.source.startswith("upload model.nc: height")
    assert state.pending is None and state.param.variable.objects == ["height", "temperature"]
    # a file waiting for its variable, then another that cannot be read: the box lists what is shown again
    assert not state.load_upload(ds.rename(height="depth_of_x").to_netcdf(), "other.nc")
    assert state.pending is not None
    assert not state.load_upload(b"junk" * 100, "junk.nc")
    assert state.pending is None and state.param.variable.objects == ["height", "temperature"]
    assert state.variable == "height"


def test_the_iterations_are_the_recipes_own_and_follow_it(state):
    from dipcore.recipes import get_recipe

    assert state.iters == get_recipe(state.recipe).iters == 1500  # the CLI's count: a cap for 'dip'
    state.recipe = "paper"
    assert state.iters == get_recipe("paper").iters
    state.iters = 40
    assert state.iters == 40                                       # the user may still change it


def test_good_upload_replaces_the_field(state, tmp_path):
    ds, ssh = two_maps()
    ny, nx = ssh.shape
    assert state.load_upload(ds.to_netcdf(), "mine.nc"), state.error
    assert state.field.shape == (ny, nx) and state.variable == "zos"
    assert state.param.time_index.bounds == (0, 1)
    state.time_index = 1
    np.testing.assert_allclose(state.field.values, 2 * ssh, rtol=1e-6)
    # another source with the variable and the time step both changing at once (once a TypeError)
    assert state.load_sample("kuroshio") and state.error == "" and state.time_index == 0


def test_a_server_file_is_chosen_by_name_with_its_time_steps_and_a_bad_one_keeps_the_field(tmp_path):
    from explorer.ui.layout import sample_spec
    from explorer.data.server_files import DataDir

    ds, ssh = two_maps()
    ny, nx = ssh.shape
    ds.to_netcdf(tmp_path / "sample_days.nc")  # 'sample' in its name: still no sample to name as a case
    (tmp_path / "broken.nc").write_bytes(b"not netcdf")
    state = ExplorerState(data_dir=DataDir(tmp_path.resolve()))
    assert state.param.server_file.objects == ["", "broken.nc", "sample_days.nc"] and state.origin == "sample"
    state.server_file = "sample_days.nc"
    assert state.error == "" and state.origin == "file" and state.field.shape == (ny, nx)
    assert state.source.startswith("server file sample_days.nc") and str(tmp_path) not in state.source
    assert state.config()["file"] == "sample_days.nc" and state.config()["sample"] is None
    assert sample_spec(state) == ""
    state.time_index = 1  # read again from the folder
    np.testing.assert_allclose(state.field.values, 2 * ssh, rtol=1e-6)
    field = state.field
    state.server_file = "broken.nc"  # the message names the file, never the server's folder; the field stays
    assert "broken.nc" in state.error and str(tmp_path) not in state.error
    assert state.field is field and state.server_file == "sample_days.nc"
    assert state.load_sample("gulfstream") and state.server_file == "" and sample_spec(state) == "gulfstream"
    with pytest.raises(ValueError):  # the page can only pick a listed name
        state.server_file = "../secret.nc"
    assert not state.load_server_file("../secret.nc") and "not one of the files" in state.error
    assert ExplorerState(load=False).param.server_file.objects == [""]  # no --data-dir: nothing offered


def test_baseline_scores_include_ibp_and_are_cached_per_twin(state):
    from dipcore.metrics import rmse, ssim

    t = state.twin
    assert t.ibp.shape == t.bicubic.shape
    sc = state.baseline_scores()
    assert np.isclose(sc["ibp"][0], rmse(t.ibp, t.truth)) and np.isclose(sc["ibp"][1], ssim(t.ibp, t.truth))
    assert np.isclose(sc["bicubic"][0], rmse(t.bicubic, t.truth))
    assert sc["ibp"][0] < sc["bicubic"][0]                 # IBP is the stronger baseline on the sample
    assert state.baseline_scores() is sc                     # computed once per twin
    # the score curves carry both reference lines before any run
    assert state.feed["rmse"][2] == {"bicubic": sc["bicubic"][0] * 100, "ibp": sc["ibp"][0] * 100}
    state.ratio = 4                                          # a new twin: new scores, never the old ones
    sc4 = state.baseline_scores()
    assert sc4 is not sc and np.isclose(sc4["ibp"][0], rmse(state.twin.ibp, state.twin.truth))
    # the baseline map shows bicubic or IBP; before a run the error map follows it
    state.baseline_map = "ibp"
    assert state.feed["bicubic"] is state.twin.ibp
    np.testing.assert_allclose(state.feed["error"], state.twin.ibp - state.twin.truth)
    state.baseline_map = "bicubic"
    assert state.feed["bicubic"] is state.twin.bicubic


def test_make_twin_error_message_is_user_facing():
    from dipcore.io import Field

    with pytest.raises(SSHDipError):
        make_twin(Field.from_array(np.ones((8, 8), np.float32)), 32)


def test_box_selection_crops_in_lon_lat_and_a_bad_box_keeps_the_field(state):
    lon, lat = state.geom.xs, state.geom.ys
    assert state.crop(box=(float(lon[10]), float(lat[20]), float(lon[73]), float(lat[51])))
    assert state.field.shape == (32, 64), state.field.shape
    field = state.field
    assert not state.crop(box=(0.0, -89.0, 1.0, -88.0))  # nowhere near the Gulf Stream
    assert "contains no grid cell" in state.error and state.field is field
    state.reset_crop()
    assert state.field.shape == (128, 256)


def test_longitudes_read_minus_180_to_180_unless_the_grid_crosses_the_antimeridian(state):
    from explorer.data.geometry import place, signed_longitudes

    assert state.geom.xs.min() < -60 and state.geom.xs.max() < 0       # the Gulf Stream sample: 280–343 °E stored
    np.testing.assert_allclose(signed_longitudes(np.arange(280.0, 300.0, 5)), np.arange(-80.0, -60.0, 5))
    across = np.arange(170.0, 200.0, 5)                            # across the antimeridian: continuous 0–360
    np.testing.assert_allclose(signed_longitudes(across), across)
    assert place(-75.5, 35.25, state.geom) == "75.50°W 35.25°N"
    # box selection in the shown (signed) longitudes still crops the 0–360 grid
    lon, lat = state.geom.xs, state.geom.ys
    assert state.crop(box=(float(lon[10]), float(lat[20]), float(lon[73]), float(lat[51]))), state.error
    assert state.field.shape == (32, 64)
