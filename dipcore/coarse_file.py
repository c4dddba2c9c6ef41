"""Reading the coarse input of a downscaling run: the time steps, variable and crop of a NetCDF file."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import xarray as xr

from dipcore.downscale_cf import INDEX_COORD
from dipcore.errors import SSHDipError


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
                crop: Sequence[float] | None = None, index_crop: Sequence[int] | None = None
                ) -> tuple[xr.DataArray, dict]:
    """Read time steps of a coarse SSH NetCDF file as a (time, y, x) DataArray in metres, land NaN.

    Variable, time and crop are chosen as :func:`dipcore.io.load_field` chooses them (and with its helpers);
    the crop box is the same for every snapshot. Returns the array (its ``time_index`` coordinate holds the
    file's time indices) and its provenance (input, variable, crop, credit, title).

    Raises
    ------
    SSHDipError
        For a broken file, a missing variable, times out of range, or a crop with no ocean at any selected time.
    """
    from dipcore.cleaning import clean_values, unit_scale, warn
    from dipcore.io import Field, _open, _select_2d, crop_field, find_ssh_variable

    ds, label = _open(source)
    if var is not None and var not in ds.data_vars:
        raise SSHDipError(f"variable {var!r} not found in {label} (variables: {', '.join(ds.data_vars) or 'none'})")
    name = var or find_ssh_variable(ds, label)
    raw = ds[name]
    if not np.issubdtype(raw.dtype, np.number):
        raise SSHDipError(f"variable {name!r} in {label} is not numeric ({raw.dtype})")
    extra = [d for d in raw.dims[:-2] if raw.sizes[d] > 1]
    n = raw.sizes[extra[0]] if len(extra) == 1 else 1
    tdim = extra[0] if extra else (raw.dims[0] if raw.ndim > 2 else "time")
    idx = parse_times(times, n)
    snaps, notes = [], []
    for t in idx:
        da2, _ = _select_2d(raw, t, label)  # its checks and messages (dims, range)
        # the value cleaning of load_field (which reads one step per call): units, ROMS mask, fill values
        values = clean_values(da2.values, unit_scale(da2, name, label, notes), f"{label} (time {t})", notes)
        if "mask_rho" in ds and ds["mask_rho"].shape == da2.shape:
            values[ds["mask_rho"].values == 0] = np.nan
        out = da2.copy(data=values.astype(np.float32))
        out.attrs = {k: v for k, v in da2.attrs.items() if k in ("long_name", "standard_name")}
        out.attrs["units"] = "m"
        snaps.append(out.drop_vars([c for c in out.coords if out.coords[c].ndim == 0 and c != tdim]))
    series = xr.concat(snaps, dim=tdim, coords="minimal", compat="override", combine_attrs="override")
    series = series.assign_coords({INDEX_COORD: (tdim, np.asarray(idx, dtype=np.int64))})
    series.name = name
    # the crop box: from the coordinates, on the cells that are ocean at some selected time
    ydim, xdim = series.dims[-2:]
    any_ocean = np.isfinite(series.values).any(axis=0)
    ramp = np.arange(any_ocean.size, dtype=np.float32).reshape(any_ocean.shape)  # any non-constant ocean value
    tmpl = series.isel({tdim: 0}, drop=True).copy(data=np.where(any_ocean, ramp, np.nan).astype(np.float32))
    tmpl = tmpl.assign_coords(_iy=(ydim, np.arange(tmpl.sizes[ydim])), _ix=(xdim, np.arange(tmpl.sizes[xdim])))
    f = crop_field(Field(tmpl.drop_vars(INDEX_COORD, errors="ignore"), name=name, source=label), crop, index_crop)
    iy, ix = f.data["_iy"].values, f.data["_ix"].values
    series = series.isel({ydim: slice(int(iy[0]), int(iy[-1]) + 1), xdim: slice(int(ix[0]), int(ix[-1]) + 1)})
    prov = {"input": label, "variable": name, "credit": ds.attrs.get("credit", ""),
            "title": ds.attrs.get("title", ""),
            **({"crop": [float(c) for c in crop]} if crop is not None else {}),
            **({"index_crop": [int(i) for i in index_crop]} if index_crop is not None else {})}
    warn(notes)
    return series, prov
