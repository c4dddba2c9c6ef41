"""Putting a guide onto the fine grid (dipcore.guide.regrid): regular and curvilinear grids, longitude conventions,
and the checks that refuse or warn: overlap, coverage, a constant guide, time, a guide coarser than the grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.guide import Guide, GuideSource, check_guide, guide_on_grid, load_guide
from dipcore.io import load_field

ROMS_SST = Path(__file__).resolve().parent.parent / "assets" / "roms_txla_sst.nc"


def grid(lat: np.ndarray, lon: np.ndarray, values: np.ndarray | None = None, time: str | None = None
         ) -> xr.DataArray:
    v = np.zeros((lat.size, lon.size), np.float32) if values is None else values.astype(np.float32)
    da = xr.DataArray(v, dims=("latitude", "longitude"),
                      coords={"latitude": ("latitude", lat, {"units": "degrees_north"}),
                              "longitude": ("longitude", lon, {"units": "degrees_east"})})
    if time:
        da.attrs["time"] = time
    return da


def source(lat, lon, fn, time=None) -> GuideSource:
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    da = xr.DataArray(fn(la, lo).astype(np.float32), dims=("lat", "lon"),
                      coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                              "lon": ("lon", lon, {"units": "degrees_east"})})
    return GuideSource(da, "sst", "sst.nc", "degC", "sea_surface_temperature", time=time)


FINE_LAT, FINE_LON = np.arange(40.0, 44.0, 0.125) + 0.0625, np.arange(28.0, 34.0, 0.125) + 0.0625


def test_a_finer_regular_guide_lands_on_the_grid_and_a_plane_stays_a_plane():
    lat, lon = np.arange(39.0, 45.0, 1 / 24), np.arange(27.0, 35.0, 1 / 24)
    g = guide_on_grid(source(lat, lon, lambda a, o: 20 + 0.5 * a - 0.2 * o), grid(FINE_LAT, FINE_LON))
    la, lo = np.meshgrid(FINE_LAT, FINE_LON, indexing="ij")
    np.testing.assert_allclose(g.values, 20 + 0.5 * la - 0.2 * lo, atol=2e-3)  # linear + smoothing: exact for planes
    assert g.coverage == 1.0 and g.units == "degC" and g.grid_km is not None


def test_longitudes_0_360_meet_a_field_in_minus_180_180():
    lat, lon = np.arange(39.0, 45.0, 0.05), np.arange(0.0, 360.0, 0.05)
    src = source(lat, lon, lambda a, o: np.where(o > 180, o - 360, o))   # the value is the longitude (−180..180)
    west = np.arange(-70.0, -60.0, 0.25)
    g = guide_on_grid(src, grid(FINE_LAT, west))
    np.testing.assert_allclose(g.values[5], west, atol=0.02)


def test_a_guide_elsewhere_is_refused_saying_where_each_lies():
    src = source(np.arange(-10.0, 0.0, 0.1), np.arange(100.0, 110.0, 0.1), lambda a, o: a + o)
    with pytest.raises(SSHDipError, match="does not overlap the field"):
        guide_on_grid(src, grid(FINE_LAT, FINE_LON))


def test_too_little_coverage_is_refused_and_partial_coverage_is_said_and_filled():
    lat = np.arange(39.0, 45.0, 0.05)
    half = source(lat, np.arange(27.0, 29.2, 0.05), lambda a, o: a + o)      # covers ~20 % of the field
    with pytest.raises(SSHDipError, match=r"covers only \d+ %"):
        guide_on_grid(half, grid(FINE_LAT, FINE_LON))
    most = source(lat, np.arange(27.0, 33.0, 0.05), lambda a, o: a + o)      # ~84 %
    with pytest.warns(SSHDipWarning, match="filled from the nearest"):
        g = guide_on_grid(most, grid(FINE_LAT, FINE_LON))
    assert 0.75 < g.coverage < 0.9 and np.isfinite(g.values).all()


def test_a_constant_guide_carries_nothing_and_is_refused():
    with pytest.raises(SSHDipError, match="constant"):
        check_guide(np.full((8, 8), 3.0), np.ones((8, 8), bool), "g.nc:sst")


def test_a_guide_days_from_the_ssh_and_a_coarse_guide_are_said():
    lat, lon = np.arange(39.0, 45.0, 0.5), np.arange(27.0, 35.0, 0.5)      # 0.5°: four times the grid's spacing
    src = source(lat, lon, lambda a, o: a * o, time="2016-07-10T00:00:00")
    with pytest.warns(SSHDipWarning) as rec:
        g = guide_on_grid(src, grid(FINE_LAT, FINE_LON, time="2016-07-07T00:00:00"))
    said = " ".join(str(w.message) for w in rec)
    assert "3.0 days" in said and "coarser than the fine grid" in said
    assert g.time_offset_days == pytest.approx(3.0)


def test_the_roms_guide_is_taken_cell_for_cell_on_a_crop_of_its_own_grid():
    field = load_field(ROMS_SST, var="zeta", index_crop=(100, 164, 120, 248))
    assert 0.1 < field.land_fraction < 0.9
    src = load_guide(ROMS_SST, var="temp", when=field.attrs["time"])
    g = guide_on_grid(src, field.data, field.mask, when=field.attrs["time"])
    raw = xr.open_dataset(ROMS_SST)["temp"].isel(ocean_time=0).values[100:164, 120:248]
    np.testing.assert_array_equal(g.values[field.mask], raw[field.mask])
    assert np.isnan(g.values[~field.mask]).all() and g.time_offset_days == 0.0


def test_a_curvilinear_guide_on_another_grid_is_interpolated():
    field = load_field(ROMS_SST, var="zeta", index_crop=(40, 104, 60, 188))
    src = load_guide(ROMS_SST, var="temp")
    shifted = src.data.isel(eta_rho=slice(1, None), xi_rho=slice(1, None))   # not a block the field matches
    moved = GuideSource(shifted, src.name, src.source, src.units)
    g = guide_on_grid(moved, field.data, field.mask)
    direct = src.data.values[40:104, 60:188]
    ok = field.mask & np.isfinite(direct)
    assert g.coverage > 0.9
    assert np.corrcoef(g.values[ok], direct[ok])[0, 1] > 0.99


def test_a_guide_without_coordinates_must_have_the_fields_shape():
    bare = GuideSource(xr.DataArray(np.random.default_rng(0).random((5, 7)), dims=("y", "x")), "g", "g.nc")
    with pytest.raises(SSHDipError, match="no latitude/longitude"):
        guide_on_grid(bare, xr.DataArray(np.zeros((8, 8)), dims=("y", "x")))


def test_an_array_guide_must_be_a_map():
    with pytest.raises(SSHDipError, match="2-D map"):
        Guide.from_array(np.zeros(5))


def test_a_guide_is_read_and_regridded_in_one_call_from_a_path_or_an_uploads_bytes():
    field = load_field(ROMS_SST, var="zeta", time=1, index_crop=(100, 164, 120, 248))
    from dipcore.guide import load_guide_on

    by_spec = load_guide_on(f"{ROMS_SST}:temp", field.data, field.mask)
    by_bytes = load_guide_on(ROMS_SST.read_bytes(), field.data, field.mask, var="temp")
    np.testing.assert_array_equal(by_spec.values, by_bytes.values)
    assert by_spec.time.endswith("16:00:00") and by_spec.time_offset_days == 0.0   # the field's own step, time 1
    assert by_bytes.source == "<upload>"
