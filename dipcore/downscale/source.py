"""The coarse input of a downscaling run: the time steps, level, variable and crop of a NetCDF file read as a
(time, y, x) series (:func:`open_coarse`), and any array taken to metres (:func:`as_metres`)."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import xarray as xr

from dipcore.cleaning import UNIT_SCALE, clean_values, unit_scale, warn
from dipcore.downscale.cf import INDEX_COORD
from dipcore.errors import SSHDipError
from dipcore.io import Field, crop_field, find_ssh_variable, open_dataset
from dipcore.selection import select_map, series_dim


def parse_times(spec: str | int | None, n: int) -> list[int]:
    """``None`` → [0]; an int or ``"I"`` → [I]; ``"START:STOP"`` (Python slice, ends optional) or ``"all"``."""
    if spec is None:
        spec = 0
    text = str(spec).strip()
    if text == "all":
        return list(range(n))
    try:
        if ":" in text:
            a, _, b = text.partition(":")
            idx = list(range(n)[slice(int(a) if a.strip() else None, int(b) if b.strip() else None)])
        else:
            i = int(text)
            idx = None
    except ValueError:
        raise SSHDipError(f"times {text!r} must be an index I, a range START:STOP or 'all'") from None
    if idx is None:
        if not -n <= i < n:
            raise SSHDipError(f"time index {i} is out of range: the input has {n} time step{'s' if n > 1 else ''} "
                              f"(0..{n - 1})")
        idx = [i % n]
    if not idx:
        raise SSHDipError(f"times {text!r} select no time step of the {n} in the input")
    return idx


def open_coarse(source: str | os.PathLike, var: str | None = None, times: str | int | None = None,
                crop: Sequence[float] | None = None, index_crop: Sequence[int] | None = None,
                level: int | None = None) -> tuple[xr.DataArray, dict]:
    """Read time steps of a coarse SSH NetCDF file as a (time, y, x) DataArray in metres, land NaN.

    Variable, time, level and crop are chosen as :func:`dipcore.io.load_field` chooses them (and with its
    helpers); the crop box is the same for every snapshot. Returns the array (its ``time_index`` coordinate holds
    the file's time indices) and its provenance (input, variable, crop, credit, title).

    Raises
    ------
    SSHDipError
        For a broken file, a missing variable, times or a level out of range, or a crop with no ocean at any
        selected time.
    """
    ds, label = open_dataset(source)
    if var is not None and var not in ds.data_vars:
        raise SSHDipError(f"variable {var!r} not found in {label} (variables: {', '.join(ds.data_vars) or 'none'})")
    name = var or find_ssh_variable(ds, label)
    raw = ds[name]
    if not np.issubdtype(raw.dtype, np.number):
        raise SSHDipError(f"variable {name!r} in {label} is not numeric ({raw.dtype})")
    tdim, n = series_dim(raw, label) if raw.ndim >= 2 else ("time", 1)
    idx = parse_times(times, n)
    notes: list[str] = []
    snaps = [_snapshot(ds, name, raw, t, level, tdim, label, notes) for t in idx]
    series = xr.concat(snaps, dim=tdim, coords="minimal", compat="override", combine_attrs="override")
    series = series.assign_coords({INDEX_COORD: (tdim, np.asarray(idx, dtype=np.int64))})
    series.name = name
    series = _crop(series, name, label, crop, index_crop)
    prov = {"input": label, "variable": name, "credit": ds.attrs.get("credit", ""),
            "title": ds.attrs.get("title", ""),
            **({"crop": [float(c) for c in crop]} if crop is not None else {}),
            **({"index_crop": [int(i) for i in index_crop]} if index_crop is not None else {})}
    warn(notes)
    return series, prov


def _snapshot(ds: xr.Dataset, name: str, raw: xr.DataArray, t: int, level: int | None, tdim: str, label: str,
              notes: list[str]) -> xr.DataArray:
    """Time step ``t`` of ``raw`` as a cleaned 2-D map in metres (the value cleaning of ``load_field``, which
    reads one step per call: units, ROMS mask, fill values), its scalar coordinates dropped but the time's."""
    da2, _ = select_map(raw, t, level, label, notes)  # its checks and messages (dims, range)
    values = clean_values(da2.values, unit_scale(da2, name, label, notes), f"{label} (time {t})", notes)
    if "mask_rho" in ds and ds["mask_rho"].shape == da2.shape:
        values[ds["mask_rho"].values == 0] = np.nan
    out = da2.copy(data=values.astype(np.float32))
    out.attrs = {k: v for k, v in da2.attrs.items() if k in ("long_name", "standard_name")}
    out.attrs["units"] = "m"
    return out.drop_vars([c for c in out.coords if out.coords[c].ndim == 0 and c != tdim])


def _crop(series: xr.DataArray, name: str, label: str, crop: Sequence[float] | None,
          index_crop: Sequence[int] | None) -> xr.DataArray:
    """The series cropped to the box :func:`dipcore.io.crop_field` finds on the cells that are ocean at some
    selected time (so the same box for every snapshot)."""
    tdim, ydim, xdim = series.dims[-3:]
    any_ocean = np.isfinite(series.values).any(axis=0)
    ramp = np.arange(any_ocean.size, dtype=np.float32).reshape(any_ocean.shape)  # any non-constant ocean value
    tmpl = series.isel({tdim: 0}, drop=True).copy(data=np.where(any_ocean, ramp, np.nan).astype(np.float32))
    tmpl = tmpl.assign_coords(_iy=(ydim, np.arange(tmpl.sizes[ydim])), _ix=(xdim, np.arange(tmpl.sizes[xdim])))
    f = crop_field(Field(tmpl.drop_vars(INDEX_COORD, errors="ignore"), name=name, source=label), crop, index_crop)
    iy, ix = f.data["_iy"].values, f.data["_ix"].values
    return series.isel({ydim: slice(int(iy[0]), int(iy[-1]) + 1), xdim: slice(int(ix[0]), int(ix[-1]) + 1)})


def as_metres(da: xr.DataArray | np.ndarray) -> xr.DataArray:
    """A coarse input as a float32 DataArray in metres, NaN where it is not finite: a plain 2-D or 3-D array is
    taken as metres on dims (y, x) or (time, y, x); a DataArray's ``units`` must be a length of
    :data:`dipcore.cleaning.UNIT_SCALE` (none: metres).

    Raises
    ------
    SSHDipError
        For another number of dims, non-numeric values or unknown units.
    """
    if not isinstance(da, xr.DataArray):
        arr = np.asarray(da)
        if arr.ndim not in (2, 3):  # checked before naming dims: xarray's own error for a 4-D array is no message
            raise SSHDipError(f"expected a 2-D (y, x) or 3-D (time, y, x) array; got {arr.ndim} dims {arr.shape}")
        da = xr.DataArray(arr, dims=("y", "x") if arr.ndim == 2 else ("time", "y", "x"), attrs={"units": "m"})
    if da.ndim not in (2, 3):
        raise SSHDipError(f"expected a 2-D (y, x) or 3-D (time, y, x) array; got dims {da.dims}")
    if not np.issubdtype(da.dtype, np.number):
        raise SSHDipError(f"the input is not numeric ({da.dtype})")
    units = str(da.attrs.get("units", "m")).strip().lower()
    if units not in UNIT_SCALE:
        raise SSHDipError(f"the input's units {da.attrs.get('units')!r} are not a length ssh-dip knows "
                          f"({', '.join(UNIT_SCALE)})")
    values = da.values.astype(np.float64) * UNIT_SCALE[units]
    values[~np.isfinite(values)] = np.nan
    out = da.copy(data=values.astype(np.float32))
    out.attrs = {**da.attrs, "units": "m"}
    return out


__all__ = ["as_metres", "open_coarse", "parse_times"]
