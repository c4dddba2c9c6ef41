"""Downscaling real coarse SSH with no truth (``dipcore.downscale``, ``ssh-dip downscale`` for one map): the fine
grid and its coordinates, the land rule, data consistency, CF metadata, time series and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from test_cli import run_cli  # noqa: E402  (tests/ is on sys.path under pytest)
from dipcore.degrade import pool
from dipcore.cf import ssh_standard_name
from dipcore.downscale import MASK_RULE, downscale, open_coarse, parse_times
from dipcore.errors import SSHDipError
from dipcore.export import write_netcdf
from dipcore.samples import get_sample, load_sample

FAST = dict(members=2, iters=3, device="cpu", seed=0)


def _pooled(field, r: int) -> xr.DataArray:
    """A real coarse input: a fine sample field average-pooled by ``r`` (coordinates: block means)."""
    da = field.data
    ydim, xdim = da.dims
    coarse = xr.DataArray(pool(da.values, r), dims=da.dims, name=field.name, attrs=dict(da.attrs))
    coarse = coarse.assign_coords({ydim: (ydim, da[ydim].values.reshape(-1, r).mean(1), da[ydim].attrs),
                                   xdim: (xdim, da[xdim].values.reshape(-1, r).mean(1), da[xdim].attrs)})
    return coarse.assign_coords(time=da.time)


@pytest.fixture(scope="module")
def med_fine():
    """A 64×96 crop of the Mediterranean sample (1/8°) with coast and islands."""
    return load_sample("mediterranean", index_crop=(40, 104, 100, 196))


@pytest.fixture(scope="module")
def med_result(med_fine):
    coarse = _pooled(med_fine, 4)
    return coarse, downscale(coarse, 4, **FAST, provenance={"input": "mediterranean", "variable": "adt"})


def test_downscale_pooled_real_map(med_fine, med_result):
    coarse, ds = med_result
    h, w = coarse.shape
    assert ds.estimate.shape == (4 * h, 4 * w) == med_fine.shape
    assert ds.estimate.dims == ("latitude", "longitude") and ds.observation.dims == ("latitude_lr", "longitude_lr")
    # coordinates: monotone, each fine centre inside its coarse cell; here the fine sample's own grid exactly
    for dim in ("latitude", "longitude"):
        fine, c = ds[dim].values.astype(float), coarse[dim].values.astype(float)
        assert np.all(np.diff(fine) > 0)
        half = np.abs(np.diff(c)).mean() / 2
        assert np.all(np.abs(fine.reshape(-1, 4) - c[:, None]) < half + 1e-6)
        np.testing.assert_allclose(fine, med_fine.data[dim].values, atol=1e-5)
        np.testing.assert_array_equal(ds[f"{dim}_lr"].values, coarse[dim].values)
    # land: a fine cell is ocean iff its coarse parent is; finite everywhere on ocean
    ocean = np.kron(np.isfinite(coarse.values), np.ones((4, 4), bool))
    for v in ("estimate", "std", "bicubic", "ibp"):
        assert np.array_equal(np.isfinite(ds[v].values), ocean), v
    assert 0 < ocean.mean() < 1 and ds.attrs["fine_mask_rule"] == MASK_RULE
    np.testing.assert_array_equal(ds.observation.values, coarse.values)
    # the default recipe back-projects its answer onto the data: the block means are the input
    ok = np.isfinite(coarse.values)
    err = pool(ds.estimate.values, 4)[ok] - coarse.values[ok]
    assert np.abs(err).max() < 1e-3 * np.nanstd(coarse.values)
    assert ds.attrs["misfit_max_abs_m"] == pytest.approx(np.abs(err).max(), rel=1e-3, abs=1e-9)
    assert ds.attrs["misfit_rms_m"] == pytest.approx(np.sqrt(np.mean(err.astype(float) ** 2)), rel=1e-3, abs=1e-9)
    assert np.nanmax(ds["std"].values) > 0
    a = ds.attrs
    assert a["factor"] == 4 and a["members"] == 2 and a["iters"] == 3 and a["seed"] == 0 and a["recipe"] == "dip"
    assert a["input_file"] == "mediterranean" and a["input_variable"] == "adt"
    assert a["input_time"] == "2005-04-01T00:00:00Z" and a["ssh_dip_version"]
    assert json.loads(a["configuration"])["factor"] == 4
    assert ds.estimate.attrs["units"] == "m" and ds.estimate.attrs["standard_name"] == ssh_standard_name(coarse.attrs)
    assert ds["std"].attrs["standard_name"].endswith("standard_error")
    assert "No truth is known" in a["summary"]


def test_downscale_output_is_cf_compliant(med_result, tmp_path):
    try:
        from test_cf import assert_compliant
    except BaseException as exc:  # compliance-checker missing: test_cf skips itself at import
        pytest.skip(f"compliance checker unavailable ({exc})")
    assert_compliant(write_netcdf(med_result[1], tmp_path / "down.nc"))


def test_user_fine_mask_and_members(med_fine):
    coarse = _pooled(med_fine, 4)
    mask = med_fine.mask
    ds = downscale(coarse, 4, **FAST, mask=mask, keep_members=True)
    assert np.array_equal(np.isfinite(ds.estimate.values), mask)
    assert ds.members.dims == ("member", "latitude", "longitude") and ds.members.shape[0] == 2
    assert "given by the user" in ds.attrs["fine_mask_rule"]
    with pytest.raises(SSHDipError, match="fine mask"):
        downscale(coarse, 4, **FAST, mask=mask[:-1])


def test_curvilinear_coordinates_interpolated():
    f = load_sample("roms_txla", index_crop=(0, 16, 0, 24))     # a curvilinear grid taken as the coarse field
    ds = downscale(f.data, 2, members=1, iters=3, device="cpu")
    assert ds.estimate.shape == (32, 48) and "std" not in ds
    lat, lat_c = ds.lat_rho.values.astype(float), f.data.lat_rho.values.astype(float)
    assert ds.lat_rho.dims == ("eta_rho", "xi_rho") and ds.lat_rho_lr.dims == ("eta_rho_lr", "xi_rho_lr")
    np.testing.assert_allclose(pool(lat, 2), lat_c, atol=1e-4)   # block means are the coarse centres
    assert np.all(np.diff(lat, axis=0) > 0)
    assert ds.lat_rho.attrs["units"] == "degrees_north"


def test_time_series_in_process_skips_bad_snapshot():
    da, prov = open_coarse(get_sample("mediterranean").path, times="0:3", index_crop=(40, 56, 100, 124))
    da[1] = np.nan                                              # an all-missing day
    with pytest.warns(UserWarning, match="snapshot 1 skipped"):
        ds = downscale(da, 4, **FAST, provenance=prov)
    assert ds.estimate.dims == ("time", "latitude", "longitude") and ds.estimate.shape == (3, 64, 96)
    assert list(ds.time_index.values) == [0, 1, 2]
    assert json.loads(ds.attrs["skipped"]) == {"1": "all land or all missing: the snapshot has no ocean value"}
    assert np.isnan(ds.estimate[1]).all() and np.isfinite(ds.estimate[2]).any()
    assert np.isnan(ds.attrs["misfit_rms_m_by_snapshot"][1]) and ds.attrs["misfit_rms_m_by_snapshot"][2] < 1e-4
    assert ds.attrs["time_coverage_end"] == "2005-05-01T00:00:00Z"
    # a snapshot's result does not depend on the others: the same as downscaling that day alone
    one = downscale(da.isel(time=2), 4, **FAST)
    np.testing.assert_array_equal(ds.estimate[2].values, one.estimate.values)


def test_open_coarse_times_and_crop():
    path = get_sample("mediterranean").path
    da, prov = open_coarse(path, times="all", crop=(35, 40, 5, 12))
    assert da.dims == ("time", "latitude", "longitude") and da.shape[0] == 7
    assert da.latitude.min() >= 35 and da.longitude.max() <= 12 and prov["variable"] == "adt"
    assert parse_times("2:5", 7) == [2, 3, 4] and parse_times(-1, 7) == [6] and parse_times(":2", 7) == [0, 1]
    for bad in ("7", "5:2", "a:b"):
        with pytest.raises(SSHDipError):
            parse_times(bad, 7)


@pytest.mark.parametrize("kwargs, match", [
    (dict(factor=3), "factor must be one of"),
    (dict(factor=4, recipe="nope"), "unknown recipe"),
    (dict(factor=4, noise_sigma=-1.0), "noise sigma"),
])
def test_bad_options_refused(med_result, kwargs, match):
    with pytest.raises(SSHDipError, match=match):
        downscale(med_result[0], **{"members": 1, "iters": 1, "device": "cpu", **kwargs})


def test_all_land_refused(med_result):
    with pytest.raises(SSHDipError, match="no ocean value"):
        downscale(med_result[0] * np.nan, 4, members=1, iters=1, device="cpu")


_cli = run_cli  # the CLI in-process, as tests/test_cli.py runs it


def test_cli_one_map(capsys, tmp_path):
    out = tmp_path / "bs.nc"
    code, stdout, err = _cli(capsys, "downscale", "blacksea", "--factor", "4", "--members", "2", "--iters", "3",
                             "--device", "cpu", "--out", str(out), "--quiet")
    assert code == 0, err
    assert "56×120 → 224×480" in stdout and "misfit" in stdout
    with xr.open_dataset(out) as ds:
        assert ds.estimate.shape == (224, 480) and ds.observation.shape == (56, 120)
        assert ds.attrs["input_file"] == "blacksea" and "ssh-dip downscale blacksea" in ds.attrs["history"]
        assert not (tmp_path / "bs.nc.parts").exists()               # one map: in-process, no Dask


@pytest.mark.parametrize("argv, match", [
    (["nosuchfile.nc", "--factor", "4"], "neither an existing file nor a sample"),
    (["blacksea", "--factor", "3"], "invalid choice"),
    (["blacksea", "--factor", "4", "--time", "3"], "out of range"),
    (["blacksea", "--factor", "4", "--crop", "0", "1", "0", "1"], "contains no grid cell"),
    (["mediterranean", "--factor", "4", "--times", "9:12"], "select no time step"),
    (["blacksea", "--factor", "4", "--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with"),
])
def test_cli_bad_input_one_line_exit_2(capsys, tmp_path, argv, match):
    code, _, err = _cli(capsys, "downscale", *argv, "--out", str(tmp_path / "x.nc"))
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1, err
