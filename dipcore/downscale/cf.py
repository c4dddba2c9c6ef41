"""CF/ACDD metadata and provenance of downscaled results (:func:`finish`), and the time series made of
one-snapshot results (:func:`combine`); the attributes every output shares come from :mod:`dipcore.cf`."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from dipcore.cf import cf_coordinates, global_attrs, standard_calendar, time_stamp, utc_now
from dipcore.constants import VERSION
from dipcore.errors import SSHDipError

KEYWORDS = ("sea surface height, altimetry, downscaling, super-resolution, deep image prior, "
            "unsupervised learning, uncertainty")
MEMBER_DIM = "member"
INDEX_COORD = "time_index"  # index of each snapshot along the input file's time dimension


def time_dim(da: xr.DataArray) -> str:
    """The time dimension of a (time, y, x) input: its first."""
    return da.dims[0]


def time_indices(da: xr.DataArray) -> list[int]:
    """The input-file time index of every snapshot of a 3-D ``da`` (its ``time_index`` coordinate, or 0…n−1)."""
    t = time_dim(da)
    if INDEX_COORD in da.coords and da[INDEX_COORD].dims == (t,):
        return [int(i) for i in da[INDEX_COORD].values]
    return list(range(da.sizes[t]))


def _provenance(da: xr.DataArray, provenance: dict | None) -> dict:
    p = dict(provenance or {})
    p.setdefault("input", da.encoding.get("source", "<array>"))
    p.setdefault("variable", str(da.name) if da.name is not None else "ssh")
    return p


def finish(ds: xr.Dataset, da: xr.DataArray, provenance: dict | None = None, history: str | None = None
           ) -> xr.Dataset:
    """CF/ACDD metadata and provenance of a one-snapshot result ``ds`` made from the coarse 2-D ``da``."""
    p = _provenance(da, provenance)
    ydim, xdim = da.dims
    template = xr.DataArray(ds["estimate"].values, dims=(ydim, xdim),
                            coords={k: c for k, c in ds.coords.items() if set(c.dims) <= {ydim, xdim}})
    geo = cf_coordinates(ds, template)
    for name in ds.coords:
        if name.endswith("_lr"):
            base = ds[name].attrs.get("long_name", name[:-3]).replace(" of the observation grid cells (block mean)",
                                                                      "")
            ds[name].attrs["long_name"] = f"{base} of the input (coarse) grid cells"
    if INDEX_COORD in ds.coords:
        ds[INDEX_COORD].attrs = {"long_name": "index of the time step in the input file", "units": "1"}
    standard_calendar(ds)
    for v in ds.data_vars.values():
        if v.ndim >= 2:
            v.encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True})
    a = ds.attrs
    stamp = time_stamp(ds)
    config = {"input": p["input"], "variable": p["variable"], "factor": a["factor"], "members": a["members"],
              "recipe": a["recipe"], "seed": a["seed"], "iters": a["iters"], "noise_sigma_m": a["noise_sigma_m"],
              "device": a["device"], **{key: p[key] for key in ("crop", "index_crop") if p.get(key) is not None}}
    what = p.get("title") or p["input"]
    ds.attrs = {
        **global_attrs(title=f"ssh-dip deep image prior downscaling of {what}, x{a['factor']}",
                       summary=_summary(ds, da.shape, p["variable"], what, stamp), keywords=KEYWORDS,
                       source=f"ssh-dip {VERSION} deep image prior downscaling of {p['input']}",
                       call=history or "dipcore.downscale.downscale", credit=p.get("credit") or ""),
        **geo,
        **({"time_coverage_start": stamp, "time_coverage_end": stamp} if stamp else {}),
        "input_file": str(p["input"]),
        "input_variable": str(p["variable"]),
        **({"input_time": stamp} if stamp else {}),
        **({"input_time_index": int(ds[INDEX_COORD].values)} if INDEX_COORD in ds.coords
           and ds[INDEX_COORD].ndim == 0 else {}),
        "ssh_dip_version": VERSION,
        **a,
        "configuration": json.dumps(config, sort_keys=True),
    }
    return ds


def _summary(ds: xr.Dataset, shape: tuple[int, int], variable: str, what: str, stamp: str | None) -> str:
    """ACDD's ``summary`` of a one-snapshot result ``ds`` (its attributes still the run's) of a coarse map of
    ``shape``."""
    a = ds.attrs
    h, w = shape
    k, f = a["members"], a["factor"]
    return (
        f"Downscaling made by ssh-dip {VERSION}: the coarse sea surface height '{variable}' of {what} "
        f"({h}x{w} cells{', ' + stamp if stamp else ''}) was taken as the block mean of a field {f} times "
        f"finer ({h * f}x{w * f} cells) and a deep image prior, a convolutional network fitted to "
        f"this single map without training data ({k} ensemble member{'s' if k != 1 else ''}, recipe "
        f"{a['recipe']}), estimated that field: 'estimate' is the ensemble mean"
        + (", 'std' the members' spread" if "std" in ds else "")
        + ". No truth is known. 'bicubic' and 'ibp' (iterative back-projection) are the classical estimates; "
          "'observation' is the input; the attributes 'misfit_rms_m' and 'misfit_max_abs_m' measure how well "
          f"the block means of the estimate reproduce it. Land: {a['fine_mask_rule']}.")


def combine(da: xr.DataArray, results: dict[int, xr.Dataset], skipped: dict[int, str], *,
            failed: dict[int, str] | None = None, history: str | None = None) -> xr.Dataset:
    """Stack one-snapshot results into a time series along ``da``'s time dim (the snapshots of the 3-D input
    ``da``, in order); skipped (and failed) snapshots are NaN there and listed with their reasons."""
    tdim = time_dim(da)
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
    standard_calendar(out)
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
    expected = np.array([results[i].attrs.get("expected_rmse_m", nan) if i in results else nan
                         for i in time_indices(da)])
    if np.isfinite(expected).any():  # the RMS over the series of each snapshot's expected RMSE
        a["expected_rmse_m"] = float(np.sqrt(np.nanmean(expected ** 2)))
        a["expected_rmse_m_by_snapshot"] = expected
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
        a["history"] = f"{utc_now()} {history}"
    n_skip = len(skipped) + len(failed)
    a["summary"] = a["summary"].replace("this single map", "each map of the time series on its own") + (
        f" Time series of {len(parts)} snapshots; {n_skip} skipped (NaN; see the 'skipped' attribute)."
        if n_skip else f" Time series of {len(parts)} snapshots.")
    out.attrs = a
    return out


__all__ = ["INDEX_COORD", "KEYWORDS", "MEMBER_DIM", "combine", "finish", "time_dim", "time_indices"]
