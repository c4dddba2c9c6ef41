"""The fine grid of a downscaled field (``dipcore.downscale.finegrid``): coordinates refined at cell centres, the
observation's own coordinates, and the fine land mask."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dipcore.degrade import pool
from dipcore.downscale.finegrid import MASK_RULE, coarse_coords, coarse_names, fine_coords, refine_axis, refine_mask
from dipcore.errors import SSHDipError


def _coarse(ny: int = 3, nx: int = 4) -> xr.DataArray:
    """A coarse (lat, lon) map at 0.5° with a scalar time and a text label along longitude."""
    lat = 30.0 + 0.5 * np.arange(ny)
    lon = -60.0 + 0.5 * np.arange(nx)
    da = xr.DataArray(np.arange(ny * nx, dtype=np.float32).reshape(ny, nx), dims=("lat", "lon"),
                      coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                              "lon": ("lon", lon, {"units": "degrees_east"}),
                              "time": np.datetime64("2019-02-23"),
                              "label": ("lon", [f"c{i}" for i in range(nx)])})
    return da


def test_refine_axis_cell_centres():
    c = np.array([10.0, 10.5, 11.0, 11.5])
    fine = refine_axis(c, 4)
    assert np.allclose(fine[:4], 10 + (np.arange(4) + 0.5) / 4 * 0.5 - 0.25)
    assert np.allclose(fine.reshape(-1, 4).mean(1), c)            # the block means are the coarse centres
    irregular = np.array([0.0, 1.0, 3.0, 7.0])                    # fine centres stay inside their coarse cell
    f = refine_axis(irregular, 8).reshape(-1, 8)
    edges = np.r_[-0.5, (irregular[1:] + irregular[:-1]) / 2, 9.0]
    assert np.all(np.diff(f.ravel()) > 0)
    assert np.all((f >= edges[:-1, None]) & (f <= edges[1:, None]))
    two_d = refine_axis(refine_axis(np.add.outer(np.arange(3.0), 10 * np.arange(4.0)), 2, 0), 2, 1)
    assert two_d.shape == (6, 8) and np.allclose(two_d[0, :2], [-2.75, 2.25])  # linear, extrapolated at edges


def test_one_cell_cannot_be_refined():
    with pytest.raises(SSHDipError, match="at least 2 cells"):
        refine_axis(np.array([5.0]), 4)


def test_fine_coordinates_of_a_regular_grid():
    da = _coarse()
    out = fine_coords(da, 4)
    # the fine cells of a regular 0.5° grid are the 0.125° cells inside it; attributes travel along
    np.testing.assert_allclose(out["lat"].values, 30.0 - 0.1875 + 0.125 * np.arange(12))
    assert out["lon"].dims == ("lon",) and out["lon"].attrs["units"] == "degrees_east"
    assert out["time"].values == np.datetime64("2019-02-23")       # a scalar coordinate is kept
    assert "label" not in out                                      # labels on a grid axis cannot be refined


def test_curvilinear_longitudes_across_the_antimeridian_are_unwrapped():
    jj, ii = np.mgrid[0:3, 0:4]
    lon = (178.0 + 1.0 * ii + 0.1 * jj + 180.0) % 360.0 - 180.0    # 178, 179, -180, -179: crosses the seam
    lat = 10.0 + 1.0 * jj
    da = xr.DataArray(np.zeros((3, 4), np.float32), dims=("eta", "xi"),
                      coords={"lon": (("eta", "xi"), lon), "lat": (("eta", "xi"), lat)})
    out = fine_coords(da, 2)
    fine_lon = out["lon"].values
    assert fine_lon.shape == (6, 8)
    # refined along the unwrapped values: consecutive fine cells are 0.5° apart, never 359.5° (their block means
    # are the coarse centres, modulo 360°)
    np.testing.assert_allclose(np.diff(fine_lon, axis=1), 0.5, atol=1e-9)
    np.testing.assert_allclose(pool(fine_lon, 2) % 360.0, lon % 360.0, atol=1e-9)
    np.testing.assert_allclose(pool(out["lat"].values, 2), lat, atol=1e-12)


def test_regular_longitudes_across_the_antimeridian_stay_in_their_convention():
    lon = np.array([178.0, 179.0, -180.0, -179.0])
    da = xr.DataArray(np.zeros((2, 4), np.float32), dims=("lat", "lon"),
                      coords={"lat": ("lat", [0.0, 1.0], {"units": "degrees_north"}),
                              "lon": ("lon", lon, {"units": "degrees_east"})})
    fine_lon = fine_coords(da, 2)["lon"].values
    assert np.all((-180 <= fine_lon) & (fine_lon < 180))          # the input's −180…180, not 0…360
    np.testing.assert_allclose((np.diff(fine_lon) + 180.0) % 360.0 - 180.0, 0.5, atol=1e-9)


def test_the_observation_keeps_its_own_coordinates_on_renamed_dims():
    da = _coarse()
    assert coarse_names(da) == ("lat_lr", "lon_lr")
    out = coarse_coords(da)
    assert set(out) == {"lat_lr", "lon_lr"}                        # numeric grid coordinates only
    assert out["lat_lr"].dims == ("lat_lr",) and np.array_equal(out["lat_lr"].values, da.lat.values)
    assert out["lon_lr"].attrs["units"] == "degrees_east"


def test_the_default_mask_refines_the_coarse_land():
    obs = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    mask, rule = refine_mask(obs, 2, None)
    assert rule == MASK_RULE and mask.shape == (4, 4)
    np.testing.assert_array_equal(mask, np.kron(np.isfinite(obs), np.ones((2, 2), bool)))


@pytest.mark.parametrize("make", [lambda m: m, lambda m: m.astype(np.float32),
                                  lambda m: xr.DataArray(m.astype(np.int8), dims=("y", "x"))])
def test_a_user_mask_is_ocean_where_true_or_non_zero(make):
    obs = np.ones((2, 3), np.float32)
    given = np.zeros((4, 6), bool)
    given[:, :3] = True
    mask, rule = refine_mask(obs, 2, make(given))
    assert mask.dtype == bool and np.array_equal(mask, given) and "given by the user" in rule


def test_a_user_mask_of_another_shape_is_refused():
    with pytest.raises(SSHDipError, match=r"fine mask is 4×5 but the input ×2 is 4×6"):
        refine_mask(np.ones((2, 3), np.float32), 2, np.ones((4, 5), bool))
