"""Which 2-D (y, x) map of an SSH variable a run reads: its time step and, when the variable has one more
dimension (a depth, a model level…), its level.

The last two dimensions are the grid. Of the others, those with one value are dropped; of those with several,
one may be the time (a datetime coordinate, ``axis="T"``, ``standard_name="time"`` or a name with "time" in it;
a single dimension that is none of these and not vertical is taken as the time too, as a bare ``record`` is)
and one more is the level. A level not chosen is the shallowest (the smallest \\|value\\| of its coordinate,
index 0 when the coordinate has no values), said in an :class:`~dipcore.errors.SSHDipWarning` that names the
dimension and the value taken. What cannot be resolved, two more dimensions or a step out of range, is refused
with a message. Used by :func:`dipcore.io.load_field` and :func:`dipcore.downscale.open_coarse`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from dipcore.errors import SSHDipError

VERTICAL_NAMES = ("depth", "deptht", "depthu", "depthv", "lev", "level", "levels", "z", "zlev", "s_rho", "s_w",
                  "nav_lev", "st_ocean", "sw_ocean", "sigma", "height", "altitude", "pressure", "plev")
VERTICAL_STANDARD_NAMES = ("depth", "height", "altitude", "ocean_s_coordinate", "ocean_sigma_coordinate",
                           "ocean_s_coordinate_g1", "ocean_s_coordinate_g2", "model_level_number", "air_pressure")


def _coord(da: xr.DataArray, dim: str) -> xr.DataArray | None:
    """The coordinate of ``dim``, None when the file has none (``da.coords.get`` would make up a range)."""
    return da.coords[dim] if dim in da.coords else None


def _is_time(da: xr.DataArray, dim: str) -> bool:
    c = _coord(da, dim)
    if c is not None and (np.issubdtype(c.dtype, np.datetime64) or c.attrs.get("axis") == "T"
                          or c.attrs.get("standard_name") == "time"):
        return True
    return "time" in dim.lower() or dim.lower() == "t"


def _is_vertical(da: xr.DataArray, dim: str) -> bool:
    c = _coord(da, dim)
    if c is not None and (c.attrs.get("axis") == "Z" or c.attrs.get("positive") in ("up", "down")
                          or c.attrs.get("standard_name") in VERTICAL_STANDARD_NAMES):
        return True
    return dim.lower() in VERTICAL_NAMES


def split_dims(da: xr.DataArray, label: str) -> tuple[str | None, str | None]:
    """(time dimension, level dimension) among the non-grid dimensions of ``da`` with several values; None for
    one it does not have.

    Raises
    ------
    SSHDipError
        When more than one time dimension or more than one other dimension has several values.
    """
    extra = [d for d in da.dims[:-2] if da.sizes[d] > 1]
    times = [d for d in extra if _is_time(da, d)]
    if not times:  # no dimension says it is the time: one that is not vertical is (a bare 'record' dimension)
        times = [d for d in extra if not _is_vertical(da, d)][:1]
    levels = [d for d in extra if d not in times]
    if len(times) > 1 or len(levels) > 1:
        sizes = ", ".join(f"{d} ({da.sizes[d]})" for d in extra)
        raise SSHDipError(f"variable {da.name!r} in {label} has dims {da.dims}: besides (y, x) one time and one "
                          f"level dimension can be chosen, but {sizes} have several values; select one first "
                          f"(e.g. ncks -d {extra[-1]},0 IN OUT, or xarray's .isel)")
    return (times[0] if times else None), (levels[0] if levels else None)


def series_dim(da: xr.DataArray, label: str) -> tuple[str, int]:
    """The dimension a time series of ``da`` runs along and its number of steps: the time dimension, else a
    one-value dimension that is not the level's nor vertical, else ``"time"`` (one step)."""
    tdim, ldim = split_dims(da, label)
    if tdim is not None:
        return tdim, da.sizes[tdim]
    return next((d for d in da.dims[:-2] if d != ldim and not _is_vertical(da, d)), "time"), 1


def _shallowest(da: xr.DataArray, dim: str) -> tuple[int, str]:
    """The index of the level nearest the surface along ``dim`` and the words that say which it is."""
    c = _coord(da, dim)
    values = np.asarray(c.values, dtype=np.float64) if c is not None and np.issubdtype(c.dtype, np.number) \
        else np.array([])
    if not np.isfinite(values).any():
        return 0, "index 0 (its coordinate has no values)"
    k = int(np.nanargmin(np.abs(values)))
    units = f" {c.attrs['units']}" if c.attrs.get("units") else ""
    return k, f"{dim} = {values[k]:g}{units} (index {k})"


def _level_index(da: xr.DataArray, dim: str | None, level: int | None, label: str, notes: list[str]) -> int | None:
    """The index to take along the level dimension ``dim`` (None: there is none to take)."""
    if dim is None:
        if level not in (None, 0, -1):
            raise SSHDipError(f"level {level} is out of range: variable {da.name!r} in {label} has a single level "
                              "(use 0, or leave --level out)")
        return None
    n = da.sizes[dim]
    if level is None:
        k, which = _shallowest(da, dim)
        notes.append(f"variable {da.name!r} in {label} has {n} levels along {dim!r}: the shallowest, {which}, was "
                     "taken; choose another with --level N")
        return k
    if not -n <= level < n:
        raise SSHDipError(f"level {level} is out of range: {label} has {n} levels along {dim!r} (0..{n - 1})")
    return level % n


def select_map(da: xr.DataArray, time: int, level: int | None, label: str, notes: list[str]
               ) -> tuple[xr.DataArray, str | None]:
    """Reduce ``da`` to (y, x): ``time`` on its time dimension, ``level`` on its level dimension (None: the
    shallowest, noted in ``notes``), index 0 on one-value dimensions.

    Returns
    -------
    (xarray.DataArray, str or None)
        The map and the time stamp of the step taken (None when the time has no coordinate).

    Raises
    ------
    SSHDipError
        For fewer than two dimensions, dimensions that cannot be resolved (:func:`split_dims`), or a time or
        level out of range.
    """
    if da.ndim < 2:
        raise SSHDipError(f"variable {da.name!r} in {label} has dims {da.dims}; a 2-D (y, x) grid is needed")
    tdim, ldim = split_dims(da, label)
    stamp = None
    if tdim is not None:
        n = da.sizes[tdim]
        if not -n <= time < n:
            raise SSHDipError(f"time index {time} is out of range: {label} has {n} steps along {tdim!r} (0..{n - 1})")
        da = da.isel({tdim: time})
        if tdim in da.coords:
            stamp = str(da.coords[tdim].values)[:19]
    elif time not in (0, -1):
        raise SSHDipError(f"time index {time} is out of range: {label} has a single time step (use 0)")
    k = _level_index(da, ldim, level, label, notes)
    if k is not None:
        da = da.isel({ldim: k})
    for d in da.dims[:-2]:
        da = da.isel({d: 0})
    return da, stamp


__all__ = ["VERTICAL_NAMES", "VERTICAL_STANDARD_NAMES", "select_map", "series_dim", "split_dims"]
