"""The coarse input of a downscaling run (``dipcore.downscale.source``): time steps, level, variable and crop of a
NetCDF file read as a (time, y, x) series in metres, and arrays taken to metres."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dipcore.downscale import open_coarse, parse_times
from dipcore.downscale.source import as_metres
from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.samples import get_sample

NT, NZ, NY, NX = 3, 4, 16, 20


def _file(tmp_path, *, depth: bool = True, units: str = "cm", depth_values=(5.0, 0.5, 20.0, 100.0)) -> str:
    """A (time, depth, lat, lon) SSH-like file: value = 100·t + z + a ramp, in ``units``; the surface is z = 1."""
    t, z = np.arange(NT)[:, None, None, None], np.arange(NZ)[None, :, None, None]
    ramp = np.add.outer(np.arange(NY), np.arange(NX))[None, None] / 10.0
    v = (100.0 * t + z + ramp).astype(np.float32)
    v[:, :, 0, 0] = np.nan                                         # one land cell
    dims = ("time", "depth", "lat", "lon")
    if not depth:
        v, dims = v[:, 0], ("time", "lat", "lon")
    coords = {"time": ("time", np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[ns]")),
              "lat": ("lat", 40.0 + 0.25 * np.arange(NY), {"units": "degrees_north"}),
              "lon": ("lon", 5.0 + 0.25 * np.arange(NX), {"units": "degrees_east"})}
    if depth:
        coords["depth"] = ("depth", np.asarray(depth_values), {"units": "m", "positive": "down"})
    path = tmp_path / "coarse.nc"
    xr.Dataset({"zos": (dims, v, {"units": units})}, coords=coords, attrs={"credit": "made here"}).to_netcdf(path)
    return str(path)


def test_parse_times():
    assert parse_times(None, 7) == [0] and parse_times(3, 7) == [3] and parse_times("all", 3) == [0, 1, 2]
    assert parse_times("2:5", 7) == [2, 3, 4] and parse_times(-1, 7) == [6] and parse_times(":2", 7) == [0, 1]
    with pytest.raises(SSHDipError, match="out of range"):
        parse_times("7", 7)
    with pytest.raises(SSHDipError, match="select no time step"):
        parse_times("5:2", 7)
    with pytest.raises(SSHDipError, match="must be an index"):
        parse_times("a:b", 7)


def test_a_series_in_metres_with_the_file_time_indices_and_provenance(tmp_path):
    path = _file(tmp_path, depth=False)
    da, prov = open_coarse(path, times="1:3")
    assert da.dims == ("time", "lat", "lon") and da.shape == (2, NY, NX) and da.dtype == np.float32
    assert list(da.time_index.values) == [1, 2] and da.attrs["units"] == "m"
    np.testing.assert_allclose(da.values[0, 1, 1], (100.0 + 0.2) / 100.0, rtol=1e-6)   # centimetres to metres
    assert np.isnan(da.values[:, 0, 0]).all()
    assert prov == {"input": path, "variable": "zos", "credit": "made here", "title": ""}


def test_one_crop_box_for_every_snapshot(tmp_path):
    da, prov = open_coarse(_file(tmp_path, depth=False), times="all", crop=(40.5, 42.5, 5.5, 8.0))
    assert da.shape == (NT, 9, 11) and float(da.lat.min()) >= 40.5 and float(da.lon.max()) <= 8.0
    assert prov["crop"] == [40.5, 42.5, 5.5, 8.0]
    da, prov = open_coarse(_file(tmp_path, depth=False), times="0", index_crop=(2, 12, 3, 15))
    assert da.shape == (1, 10, 12) and prov["index_crop"] == [2, 12, 3, 15]


def test_a_depth_dimension_gives_the_shallowest_level_with_a_warning(tmp_path):
    path = _file(tmp_path)
    with pytest.warns(SSHDipWarning, match=r"4 levels along 'depth': the shallowest, depth = 0.5 m \(index 1\)"):
        da, _ = open_coarse(path, times="all")
    assert da.dims == ("time", "lat", "lon") and da.shape == (NT, NY, NX) and "depth" not in da.coords
    np.testing.assert_allclose(da.values[:, 1, 1], (100.0 * np.arange(NT) + 1 + 0.2) / 100.0, rtol=1e-6)


def test_a_chosen_level_is_taken_silently(tmp_path, recwarn):
    da, _ = open_coarse(_file(tmp_path), times="0:2", level=3)
    assert not [w for w in recwarn if issubclass(w.category, SSHDipWarning)]
    np.testing.assert_allclose(da.values[:, 1, 1], (100.0 * np.arange(2) + 3 + 0.2) / 100.0, rtol=1e-6)
    with pytest.raises(SSHDipError, match=r"level 4 is out of range: .* 4 levels along 'depth' \(0..3\)"):
        open_coarse(_file(tmp_path), level=4)


def test_a_level_of_a_file_without_one_is_refused(tmp_path):
    with pytest.raises(SSHDipError, match="single level"):
        open_coarse(_file(tmp_path, depth=False), level=2)


def test_a_real_sample_reads_as_before():
    da, prov = open_coarse(get_sample("mediterranean").path, times="all")
    assert da.dims == ("time", "latitude", "longitude") and da.shape[0] == 7 and prov["variable"] == "adt"


@pytest.mark.parametrize("values, dims", [(np.ones((4, 5)), ("y", "x")), (np.ones((2, 4, 5)), ("time", "y", "x"))])
def test_plain_arrays_are_metres(values, dims):
    da = as_metres(values)
    assert da.dims == dims and da.attrs["units"] == "m" and da.dtype == np.float32


def test_units_are_converted_and_bad_inputs_refused():
    da = xr.DataArray(np.array([[1.0, np.inf], [np.nan, 250.0]]), dims=("y", "x"), attrs={"units": "cm"})
    out = as_metres(da)
    np.testing.assert_allclose(out.values, [[0.01, np.nan], [np.nan, 2.5]])
    assert da.attrs["units"] == "cm"                               # the input is left as it was
    with pytest.raises(SSHDipError, match="not a length"):
        as_metres(da.assign_attrs(units="furlongs"))
    with pytest.raises(SSHDipError, match="2-D .* or 3-D"):
        as_metres(xr.DataArray(np.ones((1, 2, 3, 4)), dims=("t", "z", "y", "x")))
    for shape in ((1, 2, 3, 4), (5,)):                             # a plain array too: a message, not xarray's
        with pytest.raises(SSHDipError, match="2-D .* or 3-D"):
            as_metres(np.ones(shape))
    with pytest.raises(SSHDipError, match="not numeric"):
        as_metres(xr.DataArray(np.array([["a", "b"], ["c", "d"]]), dims=("y", "x")))
