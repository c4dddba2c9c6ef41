"""Loading SSH from NetCDF: variable detection, units, land masks, time steps, crops, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.io import Field, find_ssh_variable, inspect_file, load_field
from dipcore.samples import get_sample


def _grid(ny=24, nx=40, lat0=30.0, lon0=-70.0, d=0.25):
    return np.arange(ny) * d + lat0, np.arange(nx) * d + lon0


def _ds(name="foo", attrs=None, ny=24, nx=40, time=None, coords=("latitude", "longitude"), values=None):
    lat, lon = _grid(ny, nx)
    v = values if values is not None else np.add.outer(np.sin(lat), np.cos(lon)).astype(np.float32)
    dims = ("y", "x")
    if time:
        v = np.stack([v + t for t in range(time)])
        dims = ("time", "y", "x")
    ds = xr.Dataset({name: (dims, v, {"units": "m", **(attrs or {})})},  # metres unless a test says otherwise
                    coords={coords[0]: ("y", lat, {"units": "degrees_north"}),
                            coords[1]: ("x", lon, {"units": "degrees_east"})})
    ds["sst"] = (("y", "x"), np.ones((ny, nx), np.float32), {"standard_name": "sea_surface_temperature"})
    return ds


@pytest.mark.parametrize("name, attrs", [
    ("foo", {"standard_name": "sea_surface_height_above_geoid"}),
    ("bar", {"standard_name": "sea_surface_height_above_sea_level"}),
    ("adt", {}), ("sla", {}), ("zos", {}), ("SSH", {}), ("sossheig", {}), ("zeta", {}), ("eta", {}),
])
def test_ssh_variable_found_by_standard_name_then_name(tmp_path, name, attrs):
    path = tmp_path / "f.nc"
    _ds(name, attrs).to_netcdf(path)
    f = load_field(path)
    assert f.name == name and f.shape == (24, 40) and f.data.attrs["units"] == "m"


def test_standard_name_beats_a_common_name():
    ds = _ds("adt")
    ds["my_ssh"] = ds["adt"].copy()
    ds["my_ssh"].attrs["standard_name"] = "sea_surface_height"
    assert find_ssh_variable(ds) == "my_ssh"


def test_user_named_variable_and_missing_one(tmp_path):
    path = tmp_path / "f.nc"
    _ds("foo").to_netcdf(path)
    assert load_field(path, var="foo").name == "foo"
    with pytest.raises(SSHDipError, match=r"'nope' not found in .*f\.nc \(variables: foo, sst\)"):
        load_field(path, var="nope")
    with pytest.raises(SSHDipError, match="no sea surface height variable found"):
        load_field(path)


def test_centimetres_are_converted_and_fill_values_become_land(tmp_path):
    v = np.full((16, 16), 25.0, np.float32)
    v[8:] = 30.0
    v[0, 0] = 9.96e36  # an undecoded fill value
    v[1, 1] = np.nan
    path = tmp_path / "cm.nc"
    _ds("ssh", {"units": "cm"}, ny=16, nx=16, values=v).to_netcdf(path)
    with pytest.warns(SSHDipWarning, match="1 non-finite or fill-value cells"):
        f = load_field(path)
    assert f.values[5, 5] == pytest.approx(0.25)
    assert np.isnan(f.values[0, 0]) and np.isnan(f.values[1, 1]) and f.mask.sum() == 254


def test_time_steps_and_out_of_range(tmp_path):
    path = tmp_path / "t.nc"
    _ds("adt", time=3).to_netcdf(path)
    a, b = load_field(path, time=0), load_field(path, time=2)
    np.testing.assert_allclose(b.values - a.values, 2.0, rtol=1e-5)
    with pytest.raises(SSHDipError, match="out of range.*3 steps"):
        load_field(path, time=3)


def test_bytes_load_like_a_path():
    path = get_sample("blacksea").path
    a, b = load_field(path), load_field(path.read_bytes())
    np.testing.assert_array_equal(a.values, b.values)
    assert b.source == "<upload>"


def test_real_samples_keep_coordinates_and_land():
    gs = load_field(get_sample("gulfstream").path)
    assert gs.shape == (128, 256) and "latitude" in gs.data.coords
    assert 0.1 < gs.land_fraction < 0.2
    dy, dx = gs.spacing_km
    assert 27 < dy < 29 and 19 < dx < 23  # 0.25° at ~41°N


def test_curvilinear_roms_loads_with_2d_coordinates():
    f = load_field(get_sample("roms_txla").path, time=1)
    assert f.shape == (191, 300) and f.data.coords["lat_rho"].ndim == 2
    assert f.land_fraction == pytest.approx(0.278, abs=0.002)
    dy, dx = f.spacing_km
    assert 0.4 < dy < 3 and 0.5 < dx < 3


def test_crop_by_lat_lon_box_and_by_index():
    path = get_sample("gulfstream").path
    f = load_field(path, crop=(35, 40, -70, -60))  # -180..180 box on a 0..360 grid
    lat = f.data.latitude.values
    lon = f.data.longitude.values
    assert lat.min() >= 35 and lat.max() <= 40 and lon.min() >= 290 and lon.max() <= 300
    g = load_field(path, index_crop=(10, 42, 20, 84))
    assert g.shape == (32, 64)


def test_curvilinear_box_crop_is_the_bounding_index_box():
    f = load_field(get_sample("roms_txla").path, crop=(28.0, 29.0, -92.0, -90.0))
    lat, lon = f.data.lat_rho.values, f.data.lon_rho.values
    assert f.shape[0] < 191 and f.shape[1] < 300
    inside = (lat >= 28) & (lat <= 29) & (lon >= -92) & (lon <= -90)
    assert inside.any() and inside[0].any() | inside[:, 0].any()


@pytest.mark.parametrize("kwargs, words", [
    (dict(crop=(-60, -50, 10, 20)), "contains no grid cell"),
    (dict(index_crop=(0, 500, 0, 10)), "outside the"),
    (dict(index_crop=(0, 4, 0, 4)), "at least 8×8"),
    (dict(index_crop=(120, 128, 0, 20)), "all land"),
    (dict(crop=(1, 2, 3)), "four numbers"),
])
def test_bad_crops_are_user_errors(kwargs, words):
    with pytest.raises(SSHDipError, match=words):
        load_field(get_sample("gulfstream").path, **kwargs)


@pytest.mark.parametrize("content", [b"", b"CDF\x01garbage", b"\x89HDF\r\n\x1a\n" + b"\0" * 64, b"hello"])
def test_broken_files_name_the_file(tmp_path, content):
    path = tmp_path / "broken.nc"
    path.write_bytes(content)
    # a netCDF-3 magic number with junk after it opens as an empty dataset: said as such
    with pytest.raises(SSHDipError, match="(cannot read .*broken.nc as NetCDF|broken.nc holds no data var|"
                                          "broken.nc is empty)"):
        load_field(path)
    with pytest.raises(SSHDipError, match="(cannot read <upload> as NetCDF|<upload> holds no data var|"
                                          "<upload> is empty)"):
        load_field(content)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SSHDipError, match="file not found"):
        load_field(tmp_path / "nope.nc")
    with pytest.raises(SSHDipError, match="is a folder"):
        load_field(tmp_path)


def test_variable_without_a_grid_is_refused(tmp_path):
    path = tmp_path / "one_d.nc"
    xr.Dataset({"ssh": (("x",), np.zeros(10, np.float32))}).to_netcdf(path)
    with pytest.raises(SSHDipError, match="no sea surface height variable|2-D"):
        load_field(path)
    with pytest.raises(SSHDipError, match="2-D"):
        load_field(path, var="ssh")


def test_field_from_array_and_huge_grid_guard():
    f = Field.from_array(np.zeros((16, 20)), dx_km=2.0)
    assert f.spacing_km == (2.0, 2.0)
    big = Field.from_array(np.zeros((10, 10)))
    big.data = big.data.pad(y=(0, 5000), x=(0, 4000), constant_values=0.0)
    with pytest.raises(SSHDipError, match="crop a region first"):
        big.check()


def test_inspect_reports_the_facts():
    info = inspect_file(get_sample("mediterranean").path)
    assert info["variable"] == "adt" and info["time_steps"] == 7 and info["grid"] == [128, 344]
    assert 0.5 < info["land_fraction"] < 0.7 and info["spacing_km"][0] == pytest.approx(13.9, abs=0.1)
