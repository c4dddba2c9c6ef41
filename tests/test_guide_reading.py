"""Reading a guide map (dipcore.guide.reading): the variable by CF name or by name, units to °C, the time step
nearest the SSH's, the surface level, land, and one-line refusals of what cannot be read."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.guide import load_guide, parse_guide_spec
from dipcore.guide.reading import find_guide_variable

ROMS_SST = Path(__file__).resolve().parent.parent / "assets" / "roms_txla_sst.nc"


def sst_file(path: Path, *, name: str = "analysed_sst", units: str | None = "kelvin", times: int = 3,
             standard_name: str | None = "sea_surface_temperature") -> Path:
    """A small SST file: (time, lat, lon) in kelvin, a land corner, daily steps from 2016-07-05."""
    lat, lon = np.linspace(40, 44, 24), np.linspace(28, 34, 36)
    t = np.datetime64("2016-07-05") + np.arange(times) * np.timedelta64(1, "D")
    v = 293.15 + np.arange(times)[:, None, None] + 0.1 * lat[None, :, None] + 0.0 * lon[None, None, :]
    v[:, :4, :4] = np.nan
    attrs = {k: a for k, a in (("units", units), ("standard_name", standard_name)) if a is not None}
    ds = xr.Dataset({name: (("time", "lat", "lon"), v.astype(np.float32), attrs),
                     "other": (("lat", "lon"), np.zeros((24, 36), np.float32))},
                    coords={"time": t, "lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"})})
    ds.to_netcdf(path)
    return path


def test_the_sst_variable_is_found_by_its_cf_name_and_comes_in_celsius_at_the_nearest_time(tmp_path):
    path = sst_file(tmp_path / "sst.nc", name="foo")
    g = load_guide(path, when="2016-07-06T10:00:00")
    assert g.name == "foo" and g.units == "degC" and g.time.startswith("2016-07-06") and g.time_index == 1
    v = g.data.values
    assert np.isnan(v[:4, :4]).all() and np.isfinite(v[4:, 4:]).all()          # land stays NaN
    expected = 20.0 + 1 + 0.1 * g.data["lat"].values                            # 293.15 K + 1 K = 21 °C at lat 0
    np.testing.assert_allclose(v[10], expected[10], atol=1e-4)


def test_a_product_name_is_found_without_a_standard_name_and_celsius_stay_celsius(tmp_path):
    path = sst_file(tmp_path / "sst.nc", name="sst", units="degrees_C", standard_name=None)
    g = load_guide(path, time=0)
    assert g.name == "sst" and g.units == "degC"
    assert 293 < float(np.nanmean(g.data.values)) < 298                         # no kelvin offset applied


def test_a_guide_without_units_is_used_as_it_is_with_a_warning(tmp_path):
    path = sst_file(tmp_path / "sst.nc", units=None)
    with pytest.warns(SSHDipWarning, match="no units"):
        g = load_guide(path, time=0)
    assert g.units == "" and float(np.nanmean(g.data.values)) > 290


def test_the_roms_asset_gives_its_surface_temperature_and_the_requested_step():
    g = load_guide(ROMS_SST, var="temp", time=1)
    assert g.data.shape == (191, 300) and g.units == "degC" and g.time.endswith("16:00:00")
    assert 0.2 < float(np.isnan(g.data.values).mean()) < 0.35                   # the shelf's land
    assert "lat_rho" in g.data.coords


def test_file_colon_variable_parses_and_an_existing_path_wins(tmp_path):
    assert parse_guide_spec("a.nc:sst") == ("a.nc", "sst")
    assert parse_guide_spec("a.nc") == ("a.nc", None)
    odd = tmp_path / "x:y.nc"
    odd.write_bytes(b"")
    assert parse_guide_spec(str(odd)) == (str(odd), None)
    with pytest.raises(SSHDipError, match="empty"):
        parse_guide_spec("  ")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"not a netcdf file at all"), "cannot read"),
    (lambda p: None, "file not found"),
    (lambda p: xr.Dataset({"zz": (("y", "x"), np.zeros((4, 4)))}).to_netcdf(p), "no sea surface temperature"),
])
def test_a_bad_guide_file_gets_one_clear_message(tmp_path, make, message):
    p = tmp_path / "bad.nc"
    make(p)
    with pytest.raises(SSHDipError, match=message):
        load_guide(p)


def test_a_missing_variable_or_time_is_refused_naming_what_there_is(tmp_path):
    path = sst_file(tmp_path / "sst.nc")
    with pytest.raises(SSHDipError, match="variables: analysed_sst, other"):
        load_guide(path, var="nope")
    with pytest.raises(SSHDipError, match="out of range"):
        load_guide(path, time=7)


def test_the_search_lists_the_grids_it_saw():
    ds = xr.Dataset({"chl": (("y", "x"), np.ones((3, 3)))})
    with pytest.raises(SSHDipError, match=r"chl\('y', 'x'\)"):
        find_guide_variable(ds, "f.nc")


def test_reading_issues_no_warning_for_a_clean_file(tmp_path):
    path = sst_file(tmp_path / "sst.nc", times=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SSHDipWarning)
        load_guide(path)
