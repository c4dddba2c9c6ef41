"""The fine grid of a downscaled field: coordinates refined at cell centres, the observation's own coordinates,
and the fine land mask.

For coarse centres c_i with spacing Δ, the fine centres of cell i are c_i + (j + 0.5)/f·Δ − Δ/2, j = 0…f−1 (linear
interpolation between coarse centres, linear extrapolation at the edges; 2-D curvilinear coordinates the same way
along each axis, longitudes unwrapped first). Land: see :data:`MASK_RULE`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from dipcore.errors import SSHDipError
from dipcore.io import latlon

MASK_RULE = "a fine cell is ocean if and only if its coarse parent cell is ocean (the input's land mask refined " \
            "by the factor)"


# ---- fine grid ------------------------------------------------------------------------------------------------
def refine_axis(values: np.ndarray, factor: int, axis: int = 0) -> np.ndarray:
    """Cell-centre coordinates of the fine grid along ``axis``: the f fine centres of coarse cell i sit at
    ``c_i + ((j + 0.5)/f − 0.5)·Δ`` (linear between coarse centres, linearly extrapolated at the edges).

    Regular grids give exactly the centres of the fine cells; fine centres always lie inside their coarse cell
    (between the mid-points to its neighbours) and a monotone axis stays monotone.
    """
    a = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    n = a.shape[0]
    if n < 2:
        raise SSHDipError(f"a coordinate needs at least 2 cells to be refined; got {n}")
    u = (np.arange(n * factor) + 0.5) / factor - 0.5          # coarse index of each fine centre
    i0 = np.clip(np.floor(u).astype(int), 0, n - 2)
    t = (u - i0).reshape(-1, *([1] * (a.ndim - 1)))
    out = a[i0] * (1 - t) + a[i0 + 1] * t
    return np.moveaxis(out, 0, axis)


def _refine_coord(values: np.ndarray, factor: int, axes: Sequence[int], longitude: bool) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = v
    for ax in axes:
        unwrapped = np.unwrap(out, period=360.0, axis=ax) if longitude else out
        out = refine_axis(unwrapped, factor, ax)
    if longitude and not np.array_equal(np.unwrap(v, period=360.0, axis=axes[0]), v):  # crossed the seam
        out = (out + 180.0) % 360.0 - 180.0 if np.nanmin(v) < 0 else out % 360.0
    return out.astype(values.dtype) if np.issubdtype(values.dtype, np.floating) else out


def fine_coords(da: xr.DataArray, factor: int) -> dict:
    """Coordinates of the fine grid from those of the coarse 2-D ``da`` (dims (y, x)): 1-D and 2-D numeric
    coordinates on the grid dims are refined (:func:`refine_axis`), others (scalar time…) are kept."""
    ydim, xdim = da.dims[-2:]
    _, lon = latlon(da)
    out = {}
    for name, c in da.coords.items():
        if ydim not in c.dims and xdim not in c.dims:
            out[name] = c.variable
            continue
        if not np.issubdtype(c.dtype, np.number) or not set(c.dims) <= {ydim, xdim}:
            continue  # labels on a grid axis cannot be refined: left out
        axes = [c.dims.index(d) for d in (ydim, xdim) if d in c.dims]
        is_lon = lon is not None and name == lon.name
        out[name] = xr.Variable(c.dims, _refine_coord(c.values, factor, axes, is_lon), dict(c.attrs))
    return out


def coarse_names(da: xr.DataArray) -> tuple[str, str]:
    """The observation's dims in the output: the grid dims with ``_lr`` appended (the fit schema's)."""
    ydim, xdim = da.dims[-2:]
    return f"{ydim}_lr", f"{xdim}_lr"


def coarse_coords(da: xr.DataArray) -> dict:
    """The numeric grid coordinates of the coarse 2-D ``da``, renamed ``<name>_lr`` onto :func:`coarse_names`'
    dims: the observation's own coordinates in the output."""
    ydim, xdim = da.dims[-2:]
    ren = dict(zip((ydim, xdim), coarse_names(da)))
    out = {}
    for name, c in da.coords.items():
        if set(c.dims) & {ydim, xdim} and set(c.dims) <= {ydim, xdim} and np.issubdtype(c.dtype, np.number):
            out[f"{name}_lr"] = xr.Variable(tuple(ren[d] for d in c.dims), c.values, dict(c.attrs))
    return out


# ---- land ------------------------------------------------------------------------------------------------------
def refine_mask(obs: np.ndarray, factor: int, mask) -> tuple[np.ndarray, str]:
    """The fine ocean mask of the coarse ``obs`` refined by ``factor`` and the rule that made it: ``mask`` when
    given (True or non-zero = ocean; its shape must be the fine grid's), else :data:`MASK_RULE`."""
    shape = (obs.shape[0] * factor, obs.shape[1] * factor)
    if mask is None:
        return np.kron(np.isfinite(obs), np.ones((factor, factor), dtype=bool)), MASK_RULE
    m = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask)
    if m.shape != shape:
        raise SSHDipError(f"the fine mask is {m.shape[0]}×{m.shape[1]} but the input ×{factor} is "
                          f"{shape[0]}×{shape[1]}")
    return m.astype(bool) if m.dtype == bool else (np.nan_to_num(m) != 0), \
        "fine ocean mask given by the user (coarse cells with no fine ocean child are left out of the data)"


__all__ = ["MASK_RULE", "coarse_coords", "coarse_names", "fine_coords", "refine_axis", "refine_mask"]
