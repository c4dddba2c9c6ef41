"""Read a guide map (SST or another tracer) from NetCDF, as :mod:`dipcore.io` reads an SSH field.

The variable is found by CF ``standard_name`` first, then by the names SST products use (``analysed_sst``, ``sst``,
``tos``, ``thetao``, ``temp``…), or named by the user (``FILE:VAR``). One time step is taken: the one given, else
the step nearest the SSH's own time when both are known, else the first; one level: the shallowest (a model's
surface, noted). Temperatures come out in °C whatever their units (K, °C); another tracer keeps its values and
units. Land and fill values are NaN (CF ``_FillValue``; ROMS ``mask_rho``). Nothing here knows the SSH's grid:
:mod:`dipcore.guide.regrid` puts the map onto it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from dipcore.cleaning import clean_values, sorted_axes, warn
from dipcore.errors import SSHDipError
from dipcore.io import match_variable, open_dataset
from dipcore.selection import select_map, split_dims

GUIDE_STANDARD_NAMES = (
    "sea_surface_temperature", "sea_surface_foundation_temperature", "sea_surface_subskin_temperature",
    "sea_surface_skin_temperature", "sea_water_potential_temperature", "sea_water_temperature",
    "sea_water_conservative_temperature",
)
GUIDE_NAMES = ("analysed_sst", "sst", "sea_surface_temperature", "tos", "thetao", "temp", "temperature",
               "sosstsst", "votemper", "sst_foundation", "sea_surface_temp")
# temperature units and the offset that takes them to °C (the first word counts, as for SSH units)
CELSIUS_OFFSET = {"k": -273.15, "kelvin": -273.15, "degk": -273.15, "deg_k": -273.15, "degrees_k": -273.15,
                  "c": 0.0, "°c": 0.0, "degc": 0.0, "deg_c": 0.0, "celsius": 0.0, "degree_c": 0.0,
                  "degrees_c": 0.0, "degree_celsius": 0.0, "degrees_celsius": 0.0}


@dataclass(frozen=True)
class GuideSource:
    """A guide map as read, on its own grid (before :func:`dipcore.guide.regrid.guide_on_grid`).

    ``data`` is 2-D (y, x) float32 with its coordinates, NaN on land; ``units`` ``degC`` for a temperature;
    ``time`` the ISO stamp of the step taken (None when the file has no time coordinate).
    """

    data: xr.DataArray
    name: str
    source: str
    units: str = ""
    standard_name: str = ""
    long_name: str = ""
    time: str | None = None
    time_index: int = 0

    @property
    def label(self) -> str:
        """``FILE:VAR`` for messages."""
        return f"{self.source}:{self.name}"


def parse_guide_spec(spec: str) -> tuple[str, str | None]:
    """``FILE[:VAR]`` → (file, variable or None). A path that exists as given is a file even with a colon in it."""
    text = str(spec).strip()
    if not text:
        raise SSHDipError("the guide is empty: give a NetCDF file, FILE or FILE:VAR")
    if Path(text).exists() or ":" not in text:
        return text, None
    path, _, var = text.rpartition(":")
    return path, (var.strip() or None)


def find_guide_variable(ds: xr.Dataset, label: str) -> str:
    """The guide variable of ``ds``: CF standard name first, then the names SST products use.

    Raises
    ------
    SSHDipError
        When nothing looks like SST; the message lists the 2-D variables, to be named as ``FILE:VAR``.
    """
    grids = [n for n, v in ds.data_vars.items() if v.ndim >= 2 and np.issubdtype(v.dtype, np.number)]
    found = match_variable(ds, grids, GUIDE_STANDARD_NAMES, GUIDE_NAMES)
    if found is not None:
        return found
    listing = ", ".join(f"{n}{tuple(ds[n].dims)}" for n in grids) or "none on a 2-D grid"
    raise SSHDipError(f"no sea surface temperature variable found in {label} (variables: {listing}); name the "
                      f"guide variable as {label}:VAR")


def time_of(da: xr.DataArray) -> str | None:
    """The ISO stamp of the first scalar datetime coordinate of ``da`` (a map's own time), None without one."""
    for c in da.coords.values():
        if c.ndim == 0 and np.issubdtype(c.dtype, np.datetime64) and not np.isnat(c.values):
            return str(c.values)[:19]
    return None


def _nearest_step(da: xr.DataArray, when: str | None, label: str) -> int:
    """The time step of ``da`` nearest ``when`` (an ISO stamp), 0 when either time is unknown."""
    tdim, _ = split_dims(da, label)
    if when is None or tdim is None or tdim not in da.coords:
        return 0
    t = da.coords[tdim].values
    if not np.issubdtype(t.dtype, np.datetime64):
        return 0
    target = np.datetime64(str(when)[:19])
    return int(np.argmin(np.abs((t - target).astype("timedelta64[s]").astype(np.float64))))


def _celsius(da: xr.DataArray, name: str, label: str, notes: list[str]) -> tuple[float, str]:
    """The offset that takes the values to °C and the units of the result (a non-temperature keeps its own)."""
    raw = str(da.attrs.get("units", "")).strip()
    word = raw.lower().split()[0] if raw else ""
    if word in CELSIUS_OFFSET:
        return CELSIUS_OFFSET[word], "degC"
    if not raw:
        notes.append(f"guide {name!r} in {label} has no units attribute: its values are used as they are")
    return 0.0, raw


def load_guide(source: str | os.PathLike | bytes, var: str | None = None, time: int | None = None,
               level: int | None = None, when: str | None = None) -> GuideSource:
    """Read one 2-D guide map (SST or another tracer) from a NetCDF path or bytes.

    Parameters
    ----------
    source : path or bytes
        The file (or its content, as an upload gives it).
    var : str, optional
        The variable; found by CF standard name, then by name, when omitted.
    time : int, optional
        The time step; default: the one nearest ``when``, else the first.
    level : int, optional
        Index along an extra non-time dimension (a model's s-levels); default the shallowest, noted.
    when : str, optional
        The SSH's time stamp (ISO), to pick the nearest step.

    Raises
    ------
    SSHDipError
        For a broken file, a missing or non-numeric variable, a time or level out of range, a map with no value.
    """
    ds, label = open_dataset(source)
    if var is not None and var not in ds.data_vars:
        raise SSHDipError(f"guide variable {var!r} not found in {label} (variables: "
                          f"{', '.join(ds.data_vars) or 'none'})")
    name = var or find_guide_variable(ds, label)
    raw = ds[name]
    if not np.issubdtype(raw.dtype, np.number):
        raise SSHDipError(f"guide variable {name!r} in {label} is not numeric ({raw.dtype})")
    notes: list[str] = []
    step = _nearest_step(raw, when, label) if time is None and raw.ndim >= 3 else (time or 0)
    da, stamp = select_map(raw, step, level, f"{label} (guide)", notes)
    stamp = stamp or time_of(da)  # a file of one time step keeps it as a scalar coordinate
    offset, units = _celsius(da, name, label, notes)
    da = sorted_axes(da, label, notes)
    values = clean_values(da.values, 1.0, f"{label} (guide)", notes) + offset
    if "mask_rho" in ds and ds["mask_rho"].shape == da.shape:  # ROMS land
        values[ds["mask_rho"].values == 0] = np.nan
    if not np.isfinite(values).any():
        raise SSHDipError(f"the guide {label}:{name} has no value at the time step taken (all land or missing)")
    out = da.copy(data=values.astype(np.float32))
    out.name = name
    out.attrs = {"units": units}
    warn(notes)
    return GuideSource(out, name, label, units, str(raw.attrs.get("standard_name", "")),
                       str(raw.attrs.get("long_name", "")), stamp, int(step))


__all__ = ["CELSIUS_OFFSET", "GUIDE_NAMES", "GUIDE_STANDARD_NAMES", "GuideSource", "find_guide_variable",
           "load_guide", "parse_guide_spec", "time_of"]
