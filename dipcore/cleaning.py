"""Cleaning an SSH variable's values: units to metres, inf and fill values to missing, unsorted axes sorted.

Each repair is noted (a list of one-line notes) and said as a :class:`~dipcore.errors.SSHDipWarning` only once the
field has proved usable, so a file that is refused anyway gets one clear error and no noise before it.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from dipcore.errors import SSHDipError, SSHDipWarning

UNIT_SCALE = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "cm": 0.01,
              "centimeter": 0.01, "centimeters": 0.01, "mm": 0.001, "millimeter": 0.001}


def unit_scale(da: xr.DataArray, name: str, label: str, notes: list[str]) -> float:
    """Factor to metres from the variable's ``units``; none → metres (noted); unknown units → error.

    The first word counts ("m above geoid" is metres), so products that decorate their units still load.
    """
    raw = da.attrs.get("units")
    if raw is None or not str(raw).strip():
        notes.append(f"variable {name!r} in {label} has no units attribute: values taken as metres")
        return 1.0
    word = str(raw).strip().lower().split()[0]
    if word not in UNIT_SCALE:
        raise SSHDipError(f"variable {name!r} in {label} has units {raw!r}, which is not a length this tool "
                          f"understands (use one of: {', '.join(sorted(UNIT_SCALE))})")
    return UNIT_SCALE[word]


def clean_values(raw: np.ndarray, scale: float, label: str, notes: list[str]) -> np.ndarray:
    """float64 metres with land as NaN; inf and undecoded fill values (|v| > 1 km) become missing (noted)."""
    values = np.asarray(raw, dtype=np.float64) * scale
    bad = np.isinf(values) | (np.isfinite(values) & (np.abs(values) > 1e3))  # e.g. 9.96e36: not a sea level
    if bad.any():
        notes.append(f"{int(bad.sum())} non-finite or fill-value cells in {label} treated as missing (land)")
    values[bad | ~np.isfinite(values)] = np.nan
    return values


def sorted_axes(da: xr.DataArray, label: str, notes: list[str]) -> xr.DataArray:
    """Sort 1-D latitude/longitude that are not monotonic (noted); descending axes are left as they are."""
    for dim in da.dims[-2:]:
        if dim not in da.coords or da.coords[dim].ndim != 1 or da.sizes[dim] < 2:
            continue
        step = np.diff(np.asarray(da.coords[dim].values, dtype=np.float64))
        if not (np.all(step > 0) or np.all(step < 0)):
            notes.append(f"coordinate {dim!r} of {label} is not monotonic: cells sorted by {dim}")
            da = da.sortby(dim)
    return da


def warn(notes: list[str]) -> None:
    """Issue each note as an :class:`SSHDipWarning` (the CLI prints one line each, the explorer shows them)."""
    for note in dict.fromkeys(notes):  # each once
        warnings.warn(note, SSHDipWarning, stacklevel=3)
