"""Which 2-D map of a variable a run reads (``dipcore.selection``): the time step, and the level of a variable with
one more dimension (a depth…), the shallowest unless one is chosen, through ``load_field`` and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dipcore.cli import main
from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.io import inspect_file, load_field
from dipcore.selection import split_dims

NT, NZ, NY, NX = 2, 3, 16, 24


def _values(nt: int = NT, nz: int = NZ) -> np.ndarray:
    """(time, level, y, x) SSH-like values in metres: 1·t + 0.01·z + a smooth ramp."""
    t, z = np.arange(nt)[:, None, None, None], np.arange(nz)[None, :, None, None]
    ramp = np.sin(np.add.outer(np.arange(NY) / 5.0, np.arange(NX) / 7.0))[None, None]
    return (1.0 * t + 0.01 * z + 0.1 * ramp).astype(np.float32)


def _write(tmp_path, values: np.ndarray, dims: tuple[str, ...], **coords) -> str:
    grid = {"latitude": ("latitude", 30 + 0.25 * np.arange(NY), {"units": "degrees_north"}),
            "longitude": ("longitude", -60 + 0.25 * np.arange(NX), {"units": "degrees_east"})}
    path = tmp_path / "four_d.nc"
    xr.Dataset({"zos": (dims, values, {"units": "m"})}, coords={**grid, **coords}).to_netcdf(path)
    return str(path)


def _four_d(tmp_path, depth=(5.0, 0.5, 20.0)) -> str:
    time = np.array(["2021-06-01", "2021-06-02"], dtype="datetime64[ns]")
    coords = {"time": ("time", time)}
    if depth is not None:
        coords["depth"] = ("depth", np.asarray(depth), {"units": "m", "positive": "down"})
    return _write(tmp_path, _values(), ("time", "depth", "latitude", "longitude"), **coords)


def test_the_shallowest_level_is_taken_with_a_warning_naming_it(tmp_path):
    path = _four_d(tmp_path)
    with pytest.warns(SSHDipWarning, match=r"3 levels along 'depth': the shallowest, depth = 0.5 m \(index 1\), "
                                           r"was taken; choose another with --level N"):
        f = load_field(path, time=1)
    np.testing.assert_allclose(f.values, _values()[1, 1], rtol=1e-6)
    assert f.attrs["time"] == "2021-06-02T00:00:00" and "depth" not in f.data.dims


def test_a_chosen_level_is_read_without_a_warning(tmp_path, recwarn):
    f = load_field(_four_d(tmp_path), time=0, level=2)
    np.testing.assert_allclose(f.values, _values()[0, 2], rtol=1e-6)
    f = load_field(_four_d(tmp_path), level=-1)                     # Python indexing, as for the time
    np.testing.assert_allclose(f.values, _values()[0, 2], rtol=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, SSHDipWarning)]


def test_heights_count_by_their_distance_to_the_surface(tmp_path):
    with pytest.warns(SSHDipWarning, match=r"depth = -0.2 m \(index 2\)"):
        f = load_field(_four_d(tmp_path, depth=(-10.0, -3.0, -0.2)))
    np.testing.assert_allclose(f.values, _values()[0, 2], rtol=1e-6)


def test_a_level_without_coordinate_values_is_index_0(tmp_path):
    with pytest.warns(SSHDipWarning, match=r"along 'depth': the shallowest, index 0 \(its coordinate has no values\)"):
        f = load_field(_four_d(tmp_path, depth=None))
    np.testing.assert_allclose(f.values, _values()[0, 0], rtol=1e-6)


def test_a_depth_only_variable_has_one_time_step(tmp_path):
    path = _write(tmp_path, _values(1)[0], ("depth", "latitude", "longitude"), depth=("depth", [1.0, 2.0, 3.0]))
    with pytest.warns(SSHDipWarning, match="depth = 1"):
        f = load_field(path)
    np.testing.assert_allclose(f.values, _values()[0, 0], rtol=1e-6)
    with pytest.raises(SSHDipError, match="single time step"):          # before, depth was read as the time
        load_field(path, time=1)


@pytest.mark.parametrize("level, words", [(3, r"level 3 is out of range: .* 3 levels along 'depth' \(0..2\)"),
                                          (-4, "level -4 is out of range")])
def test_a_level_out_of_range_is_refused(tmp_path, level, words):
    with pytest.raises(SSHDipError, match=words):
        load_field(_four_d(tmp_path), level=level)


def test_two_extra_dimensions_are_refused(tmp_path):
    v = np.broadcast_to(_values()[:, :, None], (NT, NZ, 2, NY, NX)).copy()
    path = _write(tmp_path, v, ("time", "depth", "member", "latitude", "longitude"))
    with pytest.raises(SSHDipError, match=r"one time and one level dimension can be chosen, but time \(2\), "
                                          r"depth \(3\), member \(2\) have several values"):
        load_field(path)


def test_a_bare_record_dimension_is_the_time(tmp_path, recwarn):
    path = _write(tmp_path, _values(3, 1)[:, 0], ("record", "latitude", "longitude"))
    np.testing.assert_allclose(load_field(path, time=2).values, _values(3, 1)[2, 0], rtol=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, SSHDipWarning)]


@pytest.mark.parametrize("dims, coords, expected", [
    (("time", "depth", "y", "x"), {}, ("time", "depth")),
    (("record", "y", "x"), {}, ("record", None)),
    (("lev", "y", "x"), {}, (None, "lev")),
    (("ocean_time", "s_rho", "eta_rho", "xi_rho"), {}, ("ocean_time", "s_rho")),
    (("step", "k", "y", "x"), {"k": ("k", [0.0, 1.0], {"axis": "Z"})}, ("step", "k")),
    (("a", "b", "y", "x"), {"b": ("b", np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[ns]"))}, ("b", "a")),
    (("time", "y", "x"), {}, (None, None)),                              # one time step: nothing to choose
])
def test_time_and_level_dimensions_are_told_apart(dims, coords, expected):
    shape = tuple(1 if d == "time" and len(dims) == 3 else (2 if d not in ("y", "x", "eta_rho", "xi_rho") else 4)
                  for d in dims)
    da = xr.DataArray(np.zeros(shape), dims=dims, coords=coords, name="v")
    assert split_dims(da, "f.nc") == expected


def test_inspect_counts_the_time_steps_of_a_file_with_levels(tmp_path):
    with pytest.warns(SSHDipWarning, match="shallowest"):
        info = inspect_file(_four_d(tmp_path))
    assert info["time_steps"] == NT and info["dims"] == ["time", "depth", "latitude", "longitude"]


def test_the_cli_takes_a_level(tmp_path, capsys):
    path = _four_d(tmp_path)
    out = tmp_path / "out.nc"
    fast = ["--members", "1", "--iters", "2", "--device", "cpu", "--quiet", "--out", str(out)]
    assert main(["downscale", path, "--factor", "2", "--level", "2", *fast]) == 0
    _, err = capsys.readouterr()
    assert "warning" not in err
    with xr.open_dataset(out) as ds:
        np.testing.assert_allclose(ds.observation.values, _values()[0, 2], rtol=1e-6)
    assert main(["downscale", path, "--factor", "2", "--level", "9", *fast]) == 2
    assert "level 9 is out of range" in capsys.readouterr().err
    assert main(["fit", path, "--ratio", "2", "--time", "1", *fast]) == 0
    assert "the shallowest, depth = 0.5 m (index 1)" in capsys.readouterr().err
