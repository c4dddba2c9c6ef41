"""A corpus of bad (and awkward but usable) inputs, built by code at test time: no binary blobs in the repository.

Each :class:`Bad` case is a file maker plus the CLI arguments that use it and what a user must see: ``"error"``
(exit 2, one line naming the problem), ``"warn"`` (the run goes on; one warning line says what was done) or
``"ok"`` (a usable input that must simply work). ``words`` must appear (case-insensitive) in that line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from dipcore.samples import get_sample

NY, NX = 32, 48  # a small good grid: ×4 leaves 8×12 coarse cells
FIT = ["--ratio", "4", "--members", "1", "--iters", "2", "--device", "cpu", "--quiet"]


def smooth(ny: int = NY, nx: int = NX, seed: int = 0) -> np.ndarray:
    """A smooth SSH-like field in metres (a few random Fourier modes)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:ny, 0:nx] / max(ny, nx)
    out = np.zeros((ny, nx))
    for _ in range(6):
        ky, kx, ph = rng.uniform(1, 5), rng.uniform(1, 5), rng.uniform(0, 6.3)
        out += 0.1 * np.sin(2 * np.pi * (ky * y + kx * x) + ph)
    return out.astype(np.float32)


def dataset(values: np.ndarray | None = None, *, name: str = "adt", units: str | None = "m", ssh: bool = True,
            lon0: float = -60.0, lons: np.ndarray | None = None, dims=("latitude", "longitude"),
            extra: dict | None = None) -> xr.Dataset:
    """A CF-ish dataset holding one SSH grid with 1-D latitude/longitude at 0.25°."""
    v = smooth() if values is None else values
    ny, nx = v.shape[-2:]
    lat = 30 + 0.25 * np.arange(ny)
    lon = lon0 + 0.25 * np.arange(nx) if lons is None else lons
    attrs = ({"standard_name": "sea_surface_height_above_geoid"} if ssh else {}) | \
        ({"units": units} if units is not None else {})
    coords = {dims[-2]: (dims[-2], lat, {"units": "degrees_north"}),
              dims[-1]: (dims[-1], lon, {"units": "degrees_east"})}
    ds = xr.Dataset({name: (dims[-v.ndim:], v, attrs)}, coords=coords)
    if extra:
        ds = ds.assign(extra)
    return ds


def _nc(ds: xr.Dataset, **kw) -> Callable[[Path], None]:
    return lambda p: ds.to_netcdf(p, **kw)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _truncated(p: Path) -> None:
    p.write_bytes(get_sample("gulfstream").path.read_bytes()[:5000])


def _huge(p: Path) -> None:
    """A 20 000 × 20 000 float32 variable (1.6 GB if read) stored in a few kB: no chunk is ever written."""
    import netCDF4

    with netCDF4.Dataset(p, "w") as nc:
        nc.createDimension("latitude", 20_000)
        nc.createDimension("longitude", 20_000)
        v = nc.createVariable("adt", "f4", ("latitude", "longitude"), chunksizes=(1000, 1000), fill_value=np.nan)
        v.units = "m"


def _with_depth() -> xr.Dataset:
    v = np.stack([np.stack([smooth(seed=t) + 0.01 * k for k in range(3)]) for t in range(2)])
    ds = dataset(v, dims=("time", "depth", "latitude", "longitude"))
    return ds.assign_coords(depth=("depth", [0.0, 10.0, 50.0]), time=("time", [0.0, 1.0]))


def _with_depth_and_members() -> xr.Dataset:
    """(time, depth, member, lat, lon): two extra non-time dimensions, which no level choice resolves."""
    v = np.broadcast_to(smooth(), (2, 3, 2, NY, NX)).copy()
    return dataset(v, dims=("time", "depth", "member", "latitude", "longitude"))


def _curvilinear() -> xr.Dataset:
    v = smooth()
    jj, ii = np.mgrid[0:NY, 0:NX]
    lat = 30 + 0.25 * jj + 0.02 * ii
    lon = -60 + 0.25 * ii - 0.02 * jj
    return xr.Dataset({"zeta": (("eta_rho", "xi_rho"), v, {"units": "m"})},
                      coords={"lat_rho": (("eta_rho", "xi_rho"), lat, {"units": "degrees_north"}),
                              "lon_rho": (("eta_rho", "xi_rho"), lon, {"units": "degrees_east"})})


def _land_west() -> np.ndarray:
    v = smooth()
    v[:, : NX // 2] = np.nan
    return v


def _with(value: float, cells: tuple = (slice(3, 5), slice(6, 9))) -> np.ndarray:
    v = smooth()
    v[cells] = value
    return v


def _int_scaled(p: Path) -> None:
    dataset().to_netcdf(p, encoding={"adt": {"dtype": "int16", "scale_factor": 1e-4, "add_offset": 0.0,
                                             "_FillValue": -32767}})


@dataclass
class Bad:
    name: str
    make: Callable[[Path], None] | None  # writes the file at the given path; None: the case needs no file
    args: list[str]                      # CLI arguments after "fit" ({file} stands for the made file's path)
    expect: str                          # "error", "warn" or "ok"
    words: str = ""                      # expected in the error/warning line (case-insensitive)
    suffix: str = ".nc"
    tags: set = field(default_factory=set)


GOOD = dataset()
CASES: list[Bad] = [
    Bad("not_netcdf", _bytes(b"lat,lon,ssh\n30,-60,0.1\n"), ["{file}", *FIT], "error", "cannot read", ".csv"),
    Bad("truncated", _truncated, ["{file}", *FIT], "error", "cannot read"),
    Bad("empty_file", _bytes(b""), ["{file}", *FIT], "error", "empty"),
    Bad("hdf5_signature_only", _bytes(b"\x89HDF\r\n\x1a\n" + bytes(512)), ["{file}", *FIT], "error",
        "cannot read", ".h5"),
    Bad("no_2d_variable", _nc(xr.Dataset({"adt": ("x", np.arange(10.0))})), ["{file}", *FIT], "error", "2-D"),
    Bad("no_ssh_variable", _nc(dataset(name="temperature", ssh=False)), ["{file}", *FIT], "error", "--var"),
    Bad("named_variable_missing", _nc(GOOD), ["{file}", "--var", "nope", *FIT], "error", "'nope' not found"),
    Bad("one_d_variable", _nc(GOOD.assign(track=("obs", np.arange(5.0)))), ["{file}", "--var", "track", *FIT],
        "error", "2-D"),
    Bad("four_d_depth", _nc(_with_depth()), ["{file}", *FIT], "warn", "shallowest, depth = 0"),
    Bad("four_d_depth_level_chosen", _nc(_with_depth()), ["{file}", "--level", "2", *FIT], "ok"),
    Bad("level_out_of_range", _nc(_with_depth()), ["{file}", "--level", "3", *FIT], "error", "level 3 is out of range"),
    Bad("level_of_a_2d_field", _nc(GOOD), ["{file}", "--level", "1", *FIT], "error", "single level"),
    Bad("two_extra_dimensions", _nc(_with_depth_and_members()), ["{file}", *FIT], "error", "one time and one level"),
    Bad("all_nan", _nc(dataset(np.full((NY, NX), np.nan, np.float32))), ["{file}", *FIT], "error", "all land"),
    Bad("all_land_crop", _nc(dataset(_land_west())), ["{file}", "--crop", "30", "37", "-60", "-55", *FIT],
        "error", "all land"),
    Bad("inf_values", _nc(dataset(_with(np.inf))), ["{file}", *FIT], "warn", "non-finite"),
    Bad("constant_field", _nc(dataset(np.full((NY, NX), 0.3, np.float32))), ["{file}", *FIT], "error",
        "constant"),
    Bad("int_with_scale_factor", _int_scaled, ["{file}", *FIT], "ok"),
    Bad("wrong_units", _nc(dataset(units="furlongs")), ["{file}", *FIT], "error", "units"),
    Bad("missing_units", _nc(dataset(units=None)), ["{file}", *FIT], "warn", "no units"),
    Bad("grid_smaller_than_ratio", _nc(dataset(smooth(12, 12))), ["{file}", *FIT[:0], "--ratio", "16",
                                                                  "--members", "1", "--iters", "2", "--quiet"],
        "error", "too small"),
    Bad("ratio_not_in_ladder", _nc(GOOD), ["{file}", "--ratio", "3", "--iters", "2"], "error", "invalid choice"),
    Bad("negative_noise", _nc(GOOD), ["{file}", *FIT, "--noise", "-0.1"], "error", "noise"),
    Bad("huge_noise", _nc(GOOD), ["{file}", *FIT, "--noise", "1e6"], "error", "noise"),
    Bad("zero_members", _nc(GOOD), ["{file}", *FIT, "--members", "0"], "error", "members"),
    Bad("a_million_members", _nc(GOOD), ["{file}", *FIT, "--members", "1000000"], "error", "members"),
    Bad("zero_iterations", _nc(GOOD), ["{file}", *FIT, "--iters", "0"], "error", "iters"),
    Bad("non_monotonic_longitudes", _nc(dataset(lons=np.r_[-50 + 0.25 * np.arange(24), -60 + 0.25 * np.arange(24)])),
        ["{file}", *FIT], "warn", "sorted"),
    Bad("longitudes_0_360", _nc(dataset(lon0=300.0)), ["{file}", "--crop", "31", "37", "-59", "-50", *FIT], "ok"),
    Bad("curvilinear", _nc(_curvilinear()), ["{file}", *FIT], "ok"),
    Bad("crop_outside_domain", _nc(GOOD), ["{file}", "--crop", "-10", "0", "100", "110", *FIT], "error",
        "no grid cell"),
    Bad("time_out_of_range", _nc(GOOD), ["{file}", "--time", "5", *FIT], "error", "out of range"),
    Bad("grid_20k_by_20k", _huge, ["{file}", *FIT], "error", "crop a region"),
    Bad("shell_characters_in_name", _nc(GOOD), ["{file}", *FIT], "ok", suffix="; rm -rf $(x) `y` 'z'.nc"),
    Bad("path_separators_in_name", None, ["../../etc/../nowhere/ssh.nc", *FIT], "error", "not found"),
    Bad("folder_not_file", None, ["{dir}", *FIT], "error", "folder"),
    Bad("non_numeric_variable", _nc(dataset().assign(adt=(("latitude", "longitude"),
                                                         np.full((NY, NX), "a", dtype=object)))),
        ["{file}", *FIT], "error", "numeric"),
    Bad("undecoded_fill_values", _nc(dataset(_with(9.96e36))), ["{file}", *FIT], "warn", "missing"),
    Bad("negative_time_index", _nc(GOOD), ["{file}", "--time", "-9", *FIT], "error", "out of range"),
]


def build(case: Bad, folder: Path) -> list[str]:
    """Make the case's file under ``folder`` and return the CLI arguments (``fit`` first)."""
    path = folder / f"input{case.suffix}"
    if case.make is not None:
        case.make(path)
    out = folder / "out.nc"
    args = [a.replace("{file}", str(path)).replace("{dir}", str(folder)) for a in case.args]
    return ["fit", *args, "--out", str(out)]
