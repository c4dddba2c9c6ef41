"""Downscale real coarse SSH (no truth): one map or a time series, in this process.

The observation *is* the input: a coarse field in metres with land as NaN. :func:`downscale` fits the deep image
prior to it (``Degradation(factor, sigma=noise_sigma)``: the fine field's ``factor × factor`` block means are the
input) and returns a CF dataset on the fine grid: ``estimate`` (the members' mean), ``std`` (their spread, K > 1),
``members`` (optional), the classical ``bicubic`` and ``ibp`` estimates, the input as ``observation`` on its own
coarse dims (``<dim>_lr``), and the data misfit ``d(estimate) − observation`` (RMS and max abs).

Fine grid. Every coarse cell becomes ``factor × factor`` fine cells. Coordinates are refined at cell centres:
for coarse centres c_i with spacing Δ, the fine centres of cell i are c_i + (j + 0.5)/f·Δ − Δ/2, j = 0…f−1
(linear interpolation between coarse centres, linear extrapolation at the edges; 2-D curvilinear coordinates
the same way along each axis, longitudes unwrapped first). Land: a fine cell is ocean iff its coarse parent is
ocean, unless a fine mask is passed (then coarse cells with no fine ocean child are dropped from the data).

A 3-D (time, y, x) input returns a time series, snapshot by snapshot in this process (the same seed for every
snapshot, so a snapshot's result does not depend on which others were run); :mod:`dipcore.batch` runs the
snapshots on a Dask cluster instead. A snapshot with no ocean value is skipped and listed in the ``skipped``
attribute. :func:`open_coarse` reads several time steps of a NetCDF file as such a 3-D input.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Callable, Sequence

import numpy as np
import xarray as xr

from dipcore.degrade import MIN_COARSE, RATIOS, Degradation, pool
from dipcore.errors import SSHDipError

MASK_RULE = "a fine cell is ocean if and only if its coarse parent cell is ocean (the input's land mask refined " \
            "by the factor)"
KEYWORDS = ("sea surface height, altimetry, downscaling, super-resolution, deep image prior, "
            "unsupervised learning, uncertainty")
MEMBER_DIM = "member"
INDEX_COORD = "time_index"  # index of each snapshot along the input file's time dimension


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
    from dipcore.io import _latlon

    ydim, xdim = da.dims[-2:]
    _, lon = _latlon(da)
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


def _coarse_coords(da: xr.DataArray) -> dict:
    ydim, xdim = da.dims[-2:]
    ren = dict(zip((ydim, xdim), coarse_names(da)))
    out = {}
    for name, c in da.coords.items():
        if set(c.dims) & {ydim, xdim} and set(c.dims) <= {ydim, xdim} and np.issubdtype(c.dtype, np.number):
            out[f"{name}_lr"] = xr.Variable(tuple(ren[d] for d in c.dims), c.values, dict(c.attrs))
    return out


# ---- inputs ---------------------------------------------------------------------------------------------------
def _as_metres(da: xr.DataArray | np.ndarray) -> xr.DataArray:
    from dipcore.io import UNIT_SCALE

    if not isinstance(da, xr.DataArray):
        arr = np.asarray(da)
        da = xr.DataArray(arr, dims=("y", "x") if arr.ndim == 2 else ("time", "y", "x")[-arr.ndim:],
                          attrs={"units": "m"})
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


def _fine_mask(obs: np.ndarray, factor: int, mask) -> tuple[np.ndarray, str]:
    shape = (obs.shape[0] * factor, obs.shape[1] * factor)
    if mask is None:
        return np.kron(np.isfinite(obs), np.ones((factor, factor), dtype=bool)), MASK_RULE
    m = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask)
    if m.shape != shape:
        raise SSHDipError(f"the fine mask is {m.shape[0]}×{m.shape[1]} but the input ×{factor} is "
                          f"{shape[0]}×{shape[1]}")
    return m.astype(bool) if m.dtype == bool else (np.nan_to_num(m) != 0), \
        "fine ocean mask given by the user (coarse cells with no fine ocean child are left out of the data)"


def check_options(factor: int, members: int, recipe, device, iters: int | None, noise_sigma: float) -> None:
    """Refuse a bad configuration before any snapshot is touched (a bad snapshot is a data problem)."""
    from dipcore.solver import get_recipe, resolve_device

    if factor not in RATIOS:
        raise SSHDipError(f"factor must be one of {', '.join(map(str, RATIOS))}; got {factor}")
    if int(members) < 1:
        raise SSHDipError(f"members must be ≥ 1; got {members}")
    if iters is not None and int(iters) < 1:
        raise SSHDipError(f"iterations must be ≥ 1; got {iters}")
    if not np.isfinite(noise_sigma) or noise_sigma < 0:
        raise SSHDipError(f"noise sigma must be a finite number ≥ 0 (metres); got {noise_sigma}")
    get_recipe(recipe)
    resolve_device(device)


# ---- one snapshot ---------------------------------------------------------------------------------------------
def _attrs(sn: str, long: str, cct: str, std: bool = False, **extra) -> dict:
    return {"units": "m", "long_name": long, "standard_name": f"{sn} standard_error" if std else sn,
            "coverage_content_type": cct, **extra}


def _downscale_2d(da: xr.DataArray, factor: int, *, members, recipe, seed, device, iters, mask, keep_members,
                  noise_sigma, progress, every) -> xr.Dataset:
    from dipcore.export import ssh_standard_name
    from dipcore.solver import fit, get_recipe

    obs = np.asarray(da.values, dtype=np.float32)
    h, w = obs.shape
    if h < MIN_COARSE or w < MIN_COARSE:
        raise SSHDipError(f"the input grid {h}×{w} is too small: at least {MIN_COARSE}×{MIN_COARSE} cells")
    from dipcore.io import MAX_CELLS

    if h * w * factor * factor > MAX_CELLS:
        raise SSHDipError(f"the fine grid would be {h * factor}×{w * factor} cells, more than the {MAX_CELLS:,} "
                          "this tool handles; crop a region or use a smaller factor")
    if not np.isfinite(obs).any():
        raise SSHDipError("all land or all missing: the snapshot has no ocean value")
    fine_mask, rule = _fine_mask(obs, factor, mask)
    has_child = pool(fine_mask.astype(np.float32), factor) > 0
    dropped = int((np.isfinite(obs) & ~has_child).sum())
    data = np.where(has_child, obs, np.nan).astype(np.float32)
    if not np.isfinite(data).any():
        raise SSHDipError("no ocean value of the snapshot lies over ocean of the fine mask")
    deg = Degradation(factor, sigma=float(noise_sigma), mask=fine_mask)
    final = None
    for final in fit(data, deg, recipe, members=members, iters=iters, seed=seed, device=device, every=every,
                     fine_mask=fine_mask, keep_members=keep_members):
        if progress is not None:
            progress(final)
    bic = deg.bicubic(data, fine_mask)
    ibp = deg.ibp(data, bic, fine_mask)
    ok = np.isfinite(data)
    res = (pool(final.estimate, factor) - data)[ok & np.isfinite(pool(final.estimate, factor))]
    rms = float(np.sqrt(np.mean(res.astype(np.float64) ** 2))) if res.size else float("nan")
    mx = float(np.max(np.abs(res))) if res.size else float("nan")

    ydim, xdim = da.dims
    ylr, xlr = coarse_names(da)
    sn = ssh_standard_name(da.attrs)
    dims = (ydim, xdim)
    rec = get_recipe(recipe)
    v = {
        "estimate": (dims, final.estimate, _attrs(sn, "deep image prior estimate (ensemble mean)", "modelResult")),
        "bicubic": (dims, bic, _attrs(sn, "bicubic interpolation of the observation (classical estimate)",
                                      "modelResult")),
        "ibp": (dims, ibp, _attrs(sn, "iterative back-projection of the bicubic field onto the observation "
                                      "(classical estimate, no network)", "modelResult")),
    }
    if final.member_std is not None:
        v["std"] = (dims, final.member_std, _attrs(sn, "standard deviation across ensemble members",
                                                   "qualityInformation", True))
        v["estimate"][2]["ancillary_variables"] = "std"
    if keep_members and final.members is not None:
        v["members"] = ((MEMBER_DIM, *dims), final.members, _attrs(sn, "estimate of each ensemble member",
                                                                    "modelResult"))
    v["observation"] = ((ylr, xlr), data, _attrs(sn, "observation: the coarse input field (ssh-dip's model of it: "
                                                      "the block mean of the fine field)", "physicalMeasurement",
                                                 cell_methods="area: mean"))
    ds = xr.Dataset({k: xr.Variable(*t) for k, t in v.items()})
    ds = ds.assign_coords({k: c for k, c in fine_coords(da, factor).items()})
    ds = ds.assign_coords(_coarse_coords(da))
    ds.attrs = {
        "factor": int(factor), "members": int(members), "recipe": rec.name, "seed": int(seed),
        "iters": int(final.step), "noise_sigma_m": float(noise_sigma), "device": final.device,
        "seconds": round(float(final.elapsed), 3), "fine_mask_rule": rule,
        "observation_cells_dropped": dropped,
        "misfit_rms_m": rms, "misfit_max_abs_m": mx,
        "params_per_member": int(final.params_per_member),
    }
    return ds


# ---- public ---------------------------------------------------------------------------------------------------
def _time_dim(da: xr.DataArray) -> str:
    return da.dims[0]


def time_indices(da: xr.DataArray) -> list[int]:
    """The input-file time index of every snapshot of a 3-D ``da`` (its ``time_index`` coordinate, or 0…n−1)."""
    t = _time_dim(da)
    if INDEX_COORD in da.coords and da[INDEX_COORD].dims == (t,):
        return [int(i) for i in da[INDEX_COORD].values]
    return list(range(da.sizes[t]))


def downscale(da: xr.DataArray, factor: int, *, members: int = 4, recipe: str = "default", seed: int = 0,
              device: str = "auto", iters: int | None = None, mask=None, keep_members: bool = False,
              noise_sigma: float = 0.0, progress: Callable | None = None, every: int = 10,
              provenance: dict | None = None, history: str | None = None) -> xr.Dataset:
    """Downscale a coarse SSH field (no truth) by ``factor`` with a deep image prior.

    Parameters
    ----------
    da : xarray.DataArray
        Coarse SSH, (y, x) or (time, y, x); metres (or any length ``units`` of :data:`dipcore.io.UNIT_SCALE`),
        NaN on land. It *is* the observation: each of its cells is the mean of ``factor × factor`` fine cells.
    factor : int
        One of :data:`dipcore.degrade.RATIOS` (2, 4, 8, 16, 32; 1 fits at the same resolution).
    members : int
        Ensemble size K (K > 1 gives ``std``).
    recipe, seed, device, iters
        As for :func:`dipcore.solver.fit` (``iters`` overrides the recipe's). Every snapshot uses the same seed.
    mask : array-like, optional
        Fine ocean mask (True = ocean), shape (y·factor, x·factor). Default: a fine cell is ocean iff its
        coarse parent is (stated in the ``fine_mask_rule`` attribute).
    keep_members : bool
        Also return every member's field (``members``, dims (member, y, x)).
    noise_sigma : float
        Known noise std of the input in metres: the answer is made consistent with the data down to it.
    progress : callable, optional
        Called with every :class:`dipcore.solver.Progress` event (every ``every`` steps and the last one).
    provenance : dict, optional
        ``input`` (file or sample), ``variable``, ``crop``, ``credit``, ``title``… recorded in the attributes
        (default: the DataArray's name and source file).
    history : str, optional
        The command or call that made the result (the ``history`` attribute).

    Returns
    -------
    xarray.Dataset
        On the fine grid: ``estimate``, ``std`` (K > 1), ``members`` (optional), ``bicubic``, ``ibp``; the input
        as ``observation`` on the coarse dims ``<dim>_lr``; the misfit of the estimate's block means to the input
        in the attributes ``misfit_rms_m`` and ``misfit_max_abs_m`` (a series: over all snapshots, and per
        snapshot in ``misfit_rms_m_by_snapshot``/``misfit_max_abs_m_by_snapshot``); CF-1.11/ACDD-1.3 metadata.
        3-D input: the same with a leading time dimension; snapshots with no ocean value are NaN and listed in
        the ``skipped`` attribute.

    Raises
    ------
    SSHDipError
        For a bad factor, recipe, device, mask or grid, or when no snapshot has an ocean value.
    """
    check_options(factor, members, recipe, device, iters, noise_sigma)
    da = _as_metres(da)
    opts = dict(members=int(members), recipe=recipe, seed=int(seed), device=device, iters=iters, mask=mask,
                keep_members=keep_members, noise_sigma=float(noise_sigma), progress=progress, every=every)
    if da.ndim == 2:
        return finish(_downscale_2d(da, factor, **opts), da, provenance, history)
    results, skipped = {}, {}
    for k, idx in enumerate(time_indices(da)):
        snap = da.isel({_time_dim(da): k})
        try:
            results[idx] = finish(_downscale_2d(snap, factor, **opts), snap, provenance, history)
        except SSHDipError as exc:
            skipped[idx] = str(exc)
            warnings.warn(f"snapshot {idx} skipped: {exc}", stacklevel=2)
    return combine(da, results, skipped, history=history)


def _version() -> str:
    import dipcore

    return dipcore.__version__


def _provenance(da: xr.DataArray, provenance: dict | None) -> dict:
    p = dict(provenance or {})
    p.setdefault("input", da.encoding.get("source", "<array>"))
    p.setdefault("variable", str(da.name) if da.name is not None else "ssh")
    return p


def _time_stamp(values) -> str | None:
    v = np.asarray(values)
    if v.ndim == 0 and np.issubdtype(v.dtype, np.datetime64) and not np.isnat(v):
        return np.datetime_as_string(v, unit="s") + "Z"
    return None


def _standard_calendar(ds: xr.Dataset) -> None:
    """Time coordinates: CF-1.11's ``units_metadata`` (datetime64 values count no leap seconds)."""
    for c in ds.coords.values():
        if np.issubdtype(c.dtype, np.datetime64):
            ds.variables[c.name].attrs["units_metadata"] = "leap_seconds: none"


def finish(ds: xr.Dataset, da: xr.DataArray, provenance: dict | None = None, history: str | None = None
           ) -> xr.Dataset:
    """CF/ACDD metadata and provenance of a one-snapshot result ``ds`` made from the coarse 2-D ``da``."""
    from dipcore.export import CONVENTIONS, REFERENCES, _cf_coordinates, _utc_now

    p = _provenance(da, provenance)
    ydim, xdim = da.dims
    template = xr.DataArray(ds["estimate"].values, dims=(ydim, xdim),
                            coords={k: c for k, c in ds.coords.items() if set(c.dims) <= {ydim, xdim}})
    geo = _cf_coordinates(ds, template)
    for name in ds.coords:
        if name.endswith("_lr"):
            base = ds[name].attrs.get("long_name", name[:-3]).replace(" of the observation grid cells (block mean)",
                                                                      "")
            ds[name].attrs["long_name"] = f"{base} of the input (coarse) grid cells"
    if INDEX_COORD in ds.coords:
        ds[INDEX_COORD].attrs = {"long_name": "index of the time step in the input file", "units": "1"}
    _standard_calendar(ds)
    for v in ds.data_vars.values():
        if v.ndim >= 2:
            v.encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True})
    a = ds.attrs
    stamp = next((s for s in (_time_stamp(c.values) for c in ds.coords.values()) if s), None)
    created = _utc_now()
    version = _version()
    call = history or "dipcore.downscale.downscale"
    if f"ssh-dip {version}" not in call:
        call = f"{call} (ssh-dip {version})"
    h, w = da.shape
    k = a["members"]
    what = p.get("title") or p["input"]
    config = {"input": p["input"], "variable": p["variable"], "factor": a["factor"], "members": k,
              "recipe": a["recipe"], "seed": a["seed"], "iters": a["iters"], "noise_sigma_m": a["noise_sigma_m"],
              "device": a["device"], **{key: p[key] for key in ("crop", "index_crop") if p.get(key) is not None}}
    credit = p.get("credit") or ""
    summary_text = (
        f"Downscaling made by ssh-dip {version}: the coarse sea surface height '{p['variable']}' of {what} "
        f"({h}x{w} cells{', ' + stamp if stamp else ''}) was taken as the block mean of a field {a['factor']} times "
        f"finer ({h * a['factor']}x{w * a['factor']} cells) and a deep image prior, a convolutional network fitted to "
        f"this single map without training data ({k} ensemble member{'s' if k != 1 else ''}, recipe "
        f"{a['recipe']}), estimated that field: 'estimate' is the ensemble mean"
        + (", 'std' the members' spread" if "std" in ds else "")
        + ". No truth is known. 'bicubic' and 'ibp' (iterative back-projection) are the classical estimates; "
          "'observation' is the input; the attributes 'misfit_rms_m' and 'misfit_max_abs_m' measure how well "
          f"the block means of the estimate reproduce it. Land: {a['fine_mask_rule']}.")
    ds.attrs = {
        "Conventions": CONVENTIONS,
        "title": f"ssh-dip deep image prior downscaling of {what}, x{a['factor']}",
        "summary": summary_text,
        "keywords": KEYWORDS,
        "source": f"ssh-dip {version} deep image prior downscaling of {p['input']}",
        "history": f"{created} {call}",
        "references": REFERENCES,
        "date_created": created,
        "credit": credit,
        **({"acknowledgement": credit} if credit else {}),
        **geo,
        **({"time_coverage_start": stamp, "time_coverage_end": stamp} if stamp else {}),
        "input_file": str(p["input"]),
        "input_variable": str(p["variable"]),
        **({"input_time": stamp} if stamp else {}),
        **({"input_time_index": int(ds[INDEX_COORD].values)} if INDEX_COORD in ds.coords
           and ds[INDEX_COORD].ndim == 0 else {}),
        "ssh_dip_version": version,
        **a,
        "configuration": json.dumps(config, sort_keys=True),
    }
    return ds


def combine(da: xr.DataArray, results: dict[int, xr.Dataset], skipped: dict[int, str], *,
            failed: dict[int, str] | None = None, history: str | None = None) -> xr.Dataset:
    """Stack one-snapshot results into a time series along ``da``'s time dim (the snapshots of the 3-D input
    ``da``, in order); skipped (and failed) snapshots are NaN there and listed with their reasons."""
    tdim = _time_dim(da)
    failed = dict(failed or {})
    if not results:
        why = "; ".join(f"{i}: {r}" for i, r in {**skipped, **failed}.items())
        raise SSHDipError(f"no snapshot could be downscaled ({why})")
    first = next(iter(results.values()))
    parts = []
    for k, idx in enumerate(time_indices(da)):
        if idx in results:
            ds = results[idx]
        else:  # a NaN stand-in on the same grids
            ds = xr.full_like(first, np.nan)
            ds.attrs = {}
        snap = da.isel({tdim: k})
        scalar = {c: snap.coords[c].variable for c in snap.coords if snap.coords[c].ndim == 0}
        scalar[INDEX_COORD] = xr.Variable((), idx)
        parts.append(ds.drop_vars([c for c in ds.coords if ds.coords[c].ndim == 0], errors="ignore")
                     .assign_coords(scalar))
    out = xr.concat(parts, dim=tdim, data_vars="all", coords="minimal", compat="override", join="override",
                    combine_attrs="override")
    for name in out.data_vars:
        out[name].attrs = dict(first[name].attrs)
        out[name].encoding = dict(first[name].encoding)
    out = out.assign_coords({INDEX_COORD: (tdim, np.asarray(time_indices(da), dtype=np.int64))})
    out[INDEX_COORD].attrs = {"long_name": "index of the time step in the input file", "units": "1"}
    if tdim in out.coords and np.issubdtype(out[tdim].dtype, np.datetime64):
        out[tdim].attrs = {"standard_name": "time", "long_name": "time", "axis": "T"}
    _standard_calendar(out)
    for name in out.coords:  # CF: no _FillValue on coordinates (parts read back carry xarray's NaN one)
        out.variables[name].encoding["_FillValue"] = None
    a = dict(first.attrs)
    for k in ("input_time", "input_time_index", "seconds", "time_coverage_start", "time_coverage_end"):
        a.pop(k, None)
    nan = float("nan")
    rms = np.array([results[i].attrs.get("misfit_rms_m", nan) if i in results else nan for i in time_indices(da)])
    mx = np.array([results[i].attrs.get("misfit_max_abs_m", nan) if i in results else nan for i in time_indices(da)])
    ok = np.isfinite(rms)
    a["misfit_rms_m"] = float(np.sqrt(np.mean(rms[ok] ** 2))) if ok.any() else nan
    a["misfit_max_abs_m"] = float(np.nanmax(mx)) if np.isfinite(mx).any() else nan
    a["misfit_rms_m_by_snapshot"] = rms
    a["misfit_max_abs_m_by_snapshot"] = mx
    a["snapshots"] = len(parts)
    a["snapshots_done"] = len(results)
    a["skipped"] = json.dumps({str(i): r for i, r in sorted(skipped.items())})
    if failed:
        a["failed"] = json.dumps({str(i): r for i, r in sorted(failed.items())})
    if tdim in out.coords and np.issubdtype(out[tdim].dtype, np.datetime64):
        ok = out[tdim].values[[i in results for i in time_indices(da)]]
        a["time_coverage_start"] = np.datetime_as_string(ok.min(), unit="s") + "Z"
        a["time_coverage_end"] = np.datetime_as_string(ok.max(), unit="s") + "Z"
    if history:
        from dipcore.export import _utc_now

        a["history"] = f"{_utc_now()} {history}"
    n_skip = len(skipped) + len(failed)
    a["summary"] = a["summary"].replace("this single map", "each map of the time series on its own") + (
        f" Time series of {len(parts)} snapshots; {n_skip} skipped (NaN; see the 'skipped' attribute)."
        if n_skip else f" Time series of {len(parts)} snapshots.")
    out.attrs = a
    return out


# ---- reading a file -------------------------------------------------------------------------------------------
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
    from dipcore.io import UNIT_SCALE, Field, _open, _select_2d, crop_field, find_ssh_variable

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
    snaps = []
    for t in idx:
        da2, _ = _select_2d(raw, t, label)  # its checks and messages (dims, range)
        # the value cleaning of load_field (which reads one step per call): units, ROMS mask, fill values
        scale = UNIT_SCALE.get(str(da2.attrs.get("units", "m")).strip().lower(), 1.0)
        values = da2.values.astype(np.float64) * scale
        if "mask_rho" in ds and ds["mask_rho"].shape == da2.shape:
            values[ds["mask_rho"].values == 0] = np.nan
        values[~np.isfinite(values)] = np.nan
        values[np.abs(values) > 1e3] = np.nan
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
    tmpl = series.isel({tdim: 0}, drop=True).copy(data=np.where(any_ocean, 0.0, np.nan).astype(np.float32))
    tmpl = tmpl.assign_coords(_iy=(ydim, np.arange(tmpl.sizes[ydim])), _ix=(xdim, np.arange(tmpl.sizes[xdim])))
    f = crop_field(Field(tmpl.drop_vars(INDEX_COORD, errors="ignore"), name=name, source=label), crop, index_crop)
    iy, ix = f.data["_iy"].values, f.data["_ix"].values
    series = series.isel({ydim: slice(int(iy[0]), int(iy[-1]) + 1), xdim: slice(int(ix[0]), int(ix[-1]) + 1)})
    prov = {"input": label, "variable": name, "credit": ds.attrs.get("credit", ""),
            "title": ds.attrs.get("title", ""),
            **({"crop": [float(c) for c in crop]} if crop is not None else {}),
            **({"index_crop": [int(i) for i in index_crop]} if index_crop is not None else {})}
    return series, prov


__all__ = ["MASK_RULE", "combine", "downscale", "fine_coords", "finish", "open_coarse", "parse_times",
           "refine_axis", "time_indices"]
