"""CF/ACDD metadata of downscaled results and the time series made of them (``dipcore.downscale.cf``), on
hand-made one-snapshot results (what :func:`dipcore.downscale.downscale` hands to :func:`finish`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from dipcore.constants import VERSION
from dipcore.downscale.cf import INDEX_COORD, combine, finish, time_dim, time_indices
from dipcore.downscale.finegrid import MASK_RULE, coarse_coords, fine_coords
from dipcore.errors import SSHDipError

F = 2  # refinement factor of the hand-made results
DAYS = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[ns]")


def _coarse(nt: int = 3) -> xr.DataArray:
    """A (time, lat, lon) coarse input of ``nt`` days with the file's time indices 5, 6, 7…"""
    lat = 40.0 + 0.5 * np.arange(3)
    lon = 5.0 + 0.5 * np.arange(4)
    v = np.arange(nt * 12, dtype=np.float32).reshape(nt, 3, 4) / 100.0
    return xr.DataArray(v, dims=("time", "lat", "lon"), name="zos", attrs={"units": "m"},
                        coords={"time": ("time", DAYS[:nt]), "lat": ("lat", lat, {"units": "degrees_north"}),
                                "lon": ("lon", lon, {"units": "degrees_east"}),
                                INDEX_COORD: ("time", 5 + np.arange(nt))})


def _result(snap: xr.DataArray, rms: float, std: bool = True) -> xr.Dataset:
    """A one-snapshot result of the coarse 2-D ``snap``, as the fit hands it over (variables and run attributes)."""
    fine = np.kron(snap.values, np.ones((F, F), np.float32))
    dims = snap.dims
    data = {"estimate": (dims, fine, {"units": "m"}), "observation": (("lat_lr", "lon_lr"), snap.values)}
    if std:
        data["std"] = (dims, np.full_like(fine, 0.01), {"units": "m"})
    ds = xr.Dataset(data).assign_coords(fine_coords(snap, F)).assign_coords(coarse_coords(snap))
    ds.attrs = {"factor": F, "members": 2, "recipe": "dip", "seed": 0, "iters": 3, "noise_sigma_m": 0.0,
                "device": "cpu", "seconds": 1.5, "fine_mask_rule": MASK_RULE, "observation_cells_dropped": 0,
                "misfit_rms_m": rms, "misfit_max_abs_m": 2 * rms, "params_per_member": 10}
    return ds


def test_time_dimension_and_indices():
    da = _coarse()
    assert time_dim(da) == "time" and time_indices(da) == [5, 6, 7]
    assert time_indices(da.drop_vars(INDEX_COORD)) == [0, 1, 2]


def test_a_snapshot_gets_cf_and_acdd_metadata_and_its_provenance():
    snap = _coarse().isel(time=1)
    prov = {"input": "my.nc", "variable": "zos", "credit": "Copernicus", "crop": [40, 41, 5, 6]}
    ds = finish(_result(snap, 1e-3), snap, prov)
    a = ds.attrs
    assert a["Conventions"] == "CF-1.11, ACDD-1.3" and a["title"] == "ssh-dip deep image prior downscaling of my.nc, x2"
    assert a["history"].endswith(f"dipcore.downscale.downscale (ssh-dip {VERSION})") and a["date_created"] in a["history"]
    assert a["time_coverage_start"] == a["time_coverage_end"] == a["input_time"] == "2020-01-02T00:00:00Z"
    assert a["input_time_index"] == 6 and a["input_file"] == "my.nc" and a["ssh_dip_version"] == VERSION
    assert a["credit"] == a["acknowledgement"] == "Copernicus"
    assert a["geospatial_lat_min"] == pytest.approx(float(ds.lat.min())) and a["geospatial_lon_units"] == "degrees_east"
    assert json.loads(a["configuration"])["crop"] == [40, 41, 5, 6] and a["misfit_rms_m"] == 1e-3  # run attributes kept
    assert "'std' the members' spread" in a["summary"] and "3x4 cells, 2020-01-02T00:00:00Z" in a["summary"]
    assert ds.lat_lr.attrs["long_name"] == "latitude of the input (coarse) grid cells"
    assert ds.lat.attrs["standard_name"] == "latitude" and ds.lat.attrs["axis"] == "Y"
    assert ds.time.attrs["units_metadata"] == "leap_seconds: none"
    assert ds.estimate.encoding["dtype"] == "float32" and np.isnan(ds.estimate.encoding["_FillValue"])


def test_a_given_history_keeps_one_version_and_no_std_no_spread_sentence():
    snap = _coarse().isel(time=0).drop_vars(INDEX_COORD)
    call = f"ssh-dip downscale x.nc --factor 2 (ssh-dip {VERSION})"
    ds = finish(_result(snap, 1e-3, std=False), snap, history=call)
    assert ds.attrs["history"].endswith(call) and ds.attrs["history"].count(VERSION) == 1
    assert "spread" not in ds.attrs["summary"] and "input_time_index" not in ds.attrs
    assert ds.attrs["input_file"] == "<array>" and ds.attrs["input_variable"] == "zos" and "acknowledgement" not in ds.attrs


def test_a_series_stacks_snapshots_and_lists_the_missing_ones():
    da = _coarse()
    done = {6: finish(_result(da.isel(time=1), 3e-3), da.isel(time=1))}
    out = combine(da, done, {5: "all land"}, failed={7: "RuntimeError: boom"}, history="ssh-dip downscale x.nc")
    assert out.estimate.dims == ("time", "lat", "lon") and out.estimate.shape == (3, 6, 8)
    assert np.isnan(out.estimate[0]).all() and np.isnan(out.estimate[2]).all()
    np.testing.assert_array_equal(out.estimate[1].values, done[6].estimate.values)
    assert list(out[INDEX_COORD].values) == [5, 6, 7] and out.estimate.attrs == done[6].estimate.attrs
    a = out.attrs
    assert json.loads(a["skipped"]) == {"5": "all land"} and json.loads(a["failed"]) == {"7": "RuntimeError: boom"}
    assert a["snapshots"] == 3 and a["snapshots_done"] == 1 and "seconds" not in a and "input_time" not in a
    assert a["misfit_rms_m"] == pytest.approx(3e-3) and a["misfit_max_abs_m"] == pytest.approx(6e-3)
    assert np.isnan(a["misfit_rms_m_by_snapshot"][0]) and a["misfit_rms_m_by_snapshot"][1] == pytest.approx(3e-3)
    assert a["time_coverage_start"] == a["time_coverage_end"] == "2020-01-02T00:00:00Z"   # the done snapshots only
    assert a["history"].endswith(" ssh-dip downscale x.nc")
    assert a["summary"].endswith("Time series of 3 snapshots; 2 skipped (NaN; see the 'skipped' attribute).")
    assert "each map of the time series on its own" in a["summary"]
    assert all(out.variables[c].encoding.get("_FillValue", None) is None for c in out.coords)


def test_the_misfit_of_a_series_is_the_rms_over_its_snapshots():
    da = _coarse()
    done = {i: finish(_result(da.isel(time=k), r), da.isel(time=k)) for k, (i, r) in enumerate([(5, 1e-3), (6, 3e-3),
                                                                                                 (7, 2e-3)])}
    out = combine(da, done, {})
    assert out.attrs["misfit_rms_m"] == pytest.approx(np.sqrt((1e-6 + 9e-6 + 4e-6) / 3))
    assert out.attrs["misfit_max_abs_m"] == pytest.approx(6e-3) and json.loads(out.attrs["skipped"]) == {}
    assert out.attrs["summary"].endswith("Time series of 3 snapshots.") and "failed" not in out.attrs


def test_a_series_with_no_snapshot_done_is_refused():
    with pytest.raises(SSHDipError, match="no snapshot could be downscaled .5: all land; 6: boom"):
        combine(_coarse(2), {}, {5: "all land"}, failed={6: "boom"})
