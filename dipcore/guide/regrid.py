"""A guide map put onto the fit's fine grid, and checked there (:func:`guide_on_grid` → :class:`Guide`).

Regular lat/lon grids go through :meth:`xarray.DataArray.interp` (linear), after the guide is smoothed to the fine
grid's spacing when it is finer (a Gaussian of σ = (f − 1)/2 cells for a guide f times finer, scikit-image's
anti-aliasing rule, NaN-aware) and after its longitudes are put in the target's convention. Curvilinear grids: a
guide on the same grid (or one the target was cropped from) is taken cell for cell, any other through
:func:`scipy.interpolate.griddata`. Grids without latitude/longitude must have the target's shape.

Checks (the one-line messages a user sees): the guide must overlap the field and cover at least
:data:`MIN_COVERAGE` of its ocean cells (less is refused; less than :data:`WARN_COVERAGE` is said), must not be
constant there; a guide coarser than the fine grid, or more than :data:`MAX_OFFSET_DAYS` from the SSH's time, is
said in a warning. Gaps the guide leaves over the ocean are filled from the nearest guide value (the coverage says
how many).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy import interpolate, ndimage

from dipcore.cleaning import warn
from dipcore.degrade import fill_nearest
from dipcore.errors import SSHDipError
from dipcore.guide.reading import GuideSource, load_guide, parse_guide_spec, time_of
from dipcore.io import grid_spacing_km, latlon

MIN_COVERAGE = 0.5    # share of the field's ocean cells the guide must cover
WARN_COVERAGE = 0.9   # below this the coverage is said
MAX_OFFSET_DAYS = 1.0  # fronts move: a guide further from the SSH's time is said


@dataclass(frozen=True, eq=False)
class Guide:
    """A guide on the fit's fine grid: what :func:`dipcore.solver.fit` takes as ``guide=``.

    ``values`` (H, W) in the guide's units, NaN off the fine ocean, gaps filled (``coverage`` is the share of ocean
    cells the guide had a value for); ``notes`` are the checks' warnings (already issued). Build one with
    :func:`guide_on_grid` (from a file's map) or :meth:`from_array` (a map already on the fine grid).
    """

    values: np.ndarray
    name: str = "guide"
    source: str = "<array>"
    units: str = ""
    standard_name: str = ""
    long_name: str = ""
    coverage: float = 1.0
    time: str | None = None
    time_offset_days: float | None = None
    spacing_km: tuple[float, float] | None = None   # the guide's own grid spacing (dy, dx), km
    notes: tuple[str, ...] = field(default_factory=tuple)
    grid_km: tuple[float, float] | None = None      # the fine grid's spacing (dy, dx), km: the eSQG transfer's |k|

    @classmethod
    def from_array(cls, values: np.ndarray, name: str = "guide", units: str = "") -> "Guide":
        """A guide already on the fine grid (NaN = missing)."""
        v = np.asarray(values, dtype=np.float32)
        if v.ndim != 2:
            raise SSHDipError(f"the guide must be a 2-D map; got shape {v.shape}")
        return cls(v, name=name, units=units, coverage=float(np.isfinite(v).mean()))

    def attrs(self) -> dict:
        """Provenance attributes for an output's ``guide`` variable and its file."""
        a = {"guide_file": self.source, "guide_variable": self.name, "guide_coverage": round(self.coverage, 4)}
        if self.time:
            a["guide_time"] = self.time
        if self.time_offset_days is not None:
            a["guide_time_offset_days"] = round(self.time_offset_days, 3)
        return a


def _axis_step(c: np.ndarray) -> float:
    return float(np.abs(np.diff(c)).mean()) if c.size > 1 else float("nan")


def _smooth(values: np.ndarray, sigma: tuple[float, float]) -> np.ndarray:
    """NaN-aware Gaussian smoothing (normalised convolution); NaN stays NaN."""
    ok = np.isfinite(values)
    if max(sigma) <= 0:
        return values
    num = ndimage.gaussian_filter(np.where(ok, values, 0.0), sigma, mode="nearest")
    den = ndimage.gaussian_filter(ok.astype(np.float64), sigma, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, num / den, np.nan)


def _regular(src: xr.DataArray, target: xr.DataArray, label: str) -> np.ndarray:
    """The guide on the target's 1-D lat/lon (both grids regular)."""
    slat, slon = latlon(src)
    tlat, tlon = latlon(target)
    lon = slon.values.astype(np.float64)
    lon = lon % 360.0 if np.nanmax(tlon.values) > 180 else (lon + 180.0) % 360.0 - 180.0
    da = src.assign_coords({slon.name: (slon.dims, lon)}).sortby(slon.name).sortby(slat.name)
    lat_lo, lat_hi = float(np.nanmin(tlat)), float(np.nanmax(tlat))
    lon_lo, lon_hi = float(np.nanmin(tlon)), float(np.nanmax(tlon))
    s_lat, s_lon = da[slat.name].values, da[slon.name].values
    if s_lat.max() < lat_lo or s_lat.min() > lat_hi or s_lon.max() < lon_lo or s_lon.min() > lon_hi:
        raise SSHDipError(f"the guide {label} covers lat {s_lat.min():.2f}..{s_lat.max():.2f}, lon "
                          f"{s_lon.min():.2f}..{s_lon.max():.2f}, which does not overlap the field (lat "
                          f"{lat_lo:.2f}..{lat_hi:.2f}, lon {lon_lo:.2f}..{lon_hi:.2f}): nothing to guide with")
    finer = (_axis_step(tlat.values) / _axis_step(s_lat), _axis_step(tlon.values) / _axis_step(s_lon))
    sigma = tuple(max(0.0, (f - 1) / 2) if np.isfinite(f) else 0.0 for f in finer)
    ydim, xdim = da.dims
    values = _smooth(da.values.astype(np.float64), sigma)  # type: ignore[arg-type]
    had = np.isfinite(values)
    filled = da.copy(data=fill_nearest(values) if had.any() else values)
    where = {slat.name: xr.DataArray(tlat.values, dims=tlat.dims), slon.name: xr.DataArray(tlon.values, dims=tlon.dims)}
    out = filled.interp(where, method="linear")  # outside the guide's box: NaN
    ocean = da.copy(data=had.astype(np.float64)).interp(where, method="nearest")
    res = out.where(ocean > 0.5).transpose(*[d for d in target.dims if d in out.dims])
    return np.broadcast_to(res.values, target.shape).astype(np.float32)


def _same_block(src: xr.DataArray, target: xr.DataArray) -> np.ndarray | None:
    """The guide cell for cell when the target's 2-D lat/lon are a block of the guide's (the same model grid)."""
    slat, slon = latlon(src)
    tlat, tlon = latlon(target)
    if slat.ndim != 2 or tlat.ndim != 2 or slat.shape[0] < tlat.shape[0] or slat.shape[1] < tlat.shape[1]:
        return None
    d = (slat.values - tlat.values[0, 0]) ** 2 + (slon.values - tlon.values[0, 0]) ** 2
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    ny, nx = tlat.shape
    block = (slice(i, i + ny), slice(j, j + nx))
    if slat.values[block].shape != tlat.shape or not (np.allclose(slat.values[block], tlat.values, atol=1e-5)
                                                      and np.allclose(slon.values[block], tlon.values, atol=1e-5)):
        return None
    return src.values[block].astype(np.float32)


def _scattered(src: xr.DataArray, target: xr.DataArray, label: str) -> np.ndarray:
    """The guide on a curvilinear target (or from a curvilinear guide): linear interpolation of its ocean cells."""
    slat, slon = latlon(src)
    tlat, tlon = latlon(target)
    sx, sy = np.broadcast_arrays(*(np.meshgrid(slon.values, slat.values) if slat.ndim == 1 else
                                   (slon.values, slat.values)))
    tx, ty = np.broadcast_arrays(*(np.meshgrid(tlon.values, tlat.values) if tlat.ndim == 1 else
                                   (tlon.values, tlat.values)))
    ok = np.isfinite(src.values) & np.isfinite(sx) & np.isfinite(sy)
    coslat = np.cos(np.deg2rad(np.nanmean(ty)))
    out = interpolate.griddata(np.column_stack([sx[ok] * coslat, sy[ok]]), src.values[ok].astype(np.float64),
                               (tx * coslat, ty), method="linear")
    if not np.isfinite(out).any():
        raise SSHDipError(f"the guide {label} does not overlap the field: nothing to guide with")
    return out.astype(np.float32)


def _values_on(src: xr.DataArray, target: xr.DataArray, label: str) -> tuple[np.ndarray, bool]:
    """The guide's values on the target grid, NaN where it has none (see the module docstring), and whether they
    were taken cell for cell (the target's own grid)."""
    slat, slon = latlon(src)
    tlat, tlon = latlon(target)
    if slat is None or slon is None or tlat is None or tlon is None:
        if src.shape != target.shape:
            raise SSHDipError(f"the guide {label} is {src.shape[0]}×{src.shape[1]} and has no latitude/longitude "
                              f"to be put onto the field's {target.shape[0]}×{target.shape[1]} grid; give it the "
                              "field's grid or coordinates")
        return src.values.astype(np.float32), True
    if slat.ndim == 1 and tlat.ndim == 1 and slon.ndim == 1 and tlon.ndim == 1:
        return _regular(src, target, label), False
    same = _same_block(src, target)
    return (same, True) if same is not None else (_scattered(src, target, label), False)


def _offset_days(guide_time: str | None, when: str | None) -> float | None:
    if not guide_time or not when:
        return None
    try:
        dt = np.datetime64(str(guide_time)[:19]) - np.datetime64(str(when)[:19])
    except ValueError:
        return None
    return abs(float(dt / np.timedelta64(1, "s"))) / 86400.0


def check_guide(values: np.ndarray, mask: np.ndarray, label: str) -> tuple[np.ndarray, float, list[str]]:
    """Refuse a guide that covers too little of the fine ocean ``mask`` or is constant there; fill its gaps.

    Returns the filled values (NaN off the ocean), the coverage and the notes to say.

    Raises
    ------
    SSHDipError
        Coverage below :data:`MIN_COVERAGE`, or no variation over the covered cells.
    """
    v = np.asarray(values, dtype=np.float32)
    m = np.asarray(mask, dtype=bool)
    if v.shape != m.shape:
        raise SSHDipError(f"the guide is {v.shape[0]}×{v.shape[1]} but the fine grid is {m.shape[0]}×{m.shape[1]}")
    have = np.isfinite(v) & m
    coverage = float(have.sum() / max(int(m.sum()), 1))
    if coverage < MIN_COVERAGE:
        raise SSHDipError(f"the guide {label} covers only {100 * coverage:.0f} % of the field's ocean cells (at "
                          f"least {100 * MIN_COVERAGE:.0f} % are needed); crop the field to the guide's area")
    seen = v[have]
    if float(seen.max() - seen.min()) <= 1e-6 * max(1.0, float(np.abs(seen).max())):
        raise SSHDipError(f"the guide {label} is constant over the field ({float(seen[0]):.4g}): it carries no "
                          "information")
    notes = []
    if coverage < WARN_COVERAGE:
        notes.append(f"the guide {label} covers {100 * coverage:.0f} % of the field's ocean cells; the rest is "
                     "filled from the nearest guide value")
    filled = fill_nearest(np.where(have, v, np.nan)) if coverage < 1 else v
    return np.where(m, filled, np.nan).astype(np.float32), coverage, notes


def guide_on_grid(source: GuideSource, target: xr.DataArray, mask: np.ndarray | None = None, *,
                  when: str | None = None) -> Guide:
    """Put ``source`` onto the grid of ``target`` (the fit's fine 2-D field or a template with its coordinates)
    and check it there (module docstring).

    Parameters
    ----------
    source : GuideSource
        The guide as read (:func:`dipcore.guide.load_guide`).
    target : xarray.DataArray
        The fine grid: its coordinates (1-D or 2-D lat/lon, or none) and shape.
    mask : np.ndarray, optional
        Fine ocean mask (default: the target's finite cells).
    when : str, optional
        The SSH's time stamp (default: ``target.attrs['time']``, else its scalar time coordinate), for the time
        check.

    Raises
    ------
    SSHDipError
        No overlap, too little coverage, a constant guide, or a grid it cannot be put on.
    """
    m = np.isfinite(target.values) if mask is None else np.asarray(mask, dtype=bool)
    label = source.label
    values, same_grid = _values_on(source.data, target, label)
    filled, coverage, notes = check_guide(values, m, label)
    when = when if when is not None else (target.attrs.get("time") or time_of(target))
    offset = _offset_days(source.time, when)
    if offset is not None and offset > MAX_OFFSET_DAYS:
        notes.append(f"the guide's time {source.time} is {offset:.1f} days from the SSH's {str(when)[:19]}: fronts "
                     "move; the coherence gate decides whether the guide is used")
    own = grid_spacing_km(source.data)
    fine = grid_spacing_km(target)
    if own and fine and min(own) > 1.5 * min(fine) and not same_grid:
        notes.append(f"the guide's grid ({min(own):.1f} km) is coarser than the fine grid ({min(fine):.1f} km): it "
                     "carries no detail below its own spacing")
    warn(notes)
    return Guide(filled, source.name, source.source, source.units, source.standard_name, source.long_name, coverage,
                 source.time, offset, own, tuple(notes), fine)


def load_guide_on(source: str | os.PathLike | bytes, target: xr.DataArray, mask: np.ndarray | None = None, *,
                  var: str | None = None, time: int | None = None, when: str | None = None) -> Guide:
    """Read a guide and put it on ``target``'s grid in one call (what ``--guide`` and an upload need).

    ``source`` is a path, ``FILE:VAR`` or a file's bytes; ``var``/``time`` as for :func:`load_guide` (``var``
    overrides a ``:VAR``); the SSH's time ``when`` defaults to ``target``'s (its ``time`` attribute, else its scalar
    time coordinate) and picks the guide's nearest step. See :func:`guide_on_grid` for ``mask`` and the checks.
    """
    if not isinstance(source, (bytes, bytearray, memoryview)):
        source, named = parse_guide_spec(os.fspath(source))
        var = var or named
    when = when or target.attrs.get("time") or time_of(target)
    return guide_on_grid(load_guide(source, var=var, time=time, when=when), target, mask, when=when)


__all__ = ["Guide", "MAX_OFFSET_DAYS", "MIN_COVERAGE", "WARN_COVERAGE", "check_guide", "guide_on_grid",
           "load_guide_on"]
