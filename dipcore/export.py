"""CF NetCDF export of a fit result (the same schema for the CLI and the explorer) and its JSON summary."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from dipcore import metrics
from dipcore.cf import (cf_coordinates, global_attrs, spread_attrs, ssh_attrs, ssh_standard_name, time_stamp,
                        uncertainty_attrs)
from dipcore.constants import VERSION
from dipcore.degrade import pool
from dipcore.solver import Progress
from dipcore.twin import Twin
from dipcore.uncertainty import fit_stds


def _coarse_dims(twin: Twin) -> tuple[str, str]:
    """Names of the observation grid's dimensions: the fine ones with ``_lr`` appended."""
    ydim, xdim = twin.field.data.dims
    return f"{ydim}_lr", f"{xdim}_lr"


def _coarse_coords(twin: Twin) -> dict:
    """Coordinates of the observation grid: block means of the fine coordinates (1-D or 2-D), named
    ``<name>_lr`` so the fine coordinates keep their names (a 1-D one stays its dimension's coordinate)."""
    r = twin.degradation.ratio
    da = twin.field.data
    ydim, xdim = da.dims
    ylr, xlr = _coarse_dims(twin)
    out = {}
    for name, c in da.coords.items():
        if c.dims == (ydim,):
            out[f"{name}_lr"] = ((ylr,), c.values.reshape(-1, r).mean(axis=1), c.attrs)
        elif c.dims == (xdim,):
            out[f"{name}_lr"] = ((xlr,), c.values.reshape(-1, r).mean(axis=1), c.attrs)
        elif c.dims == (ydim, xdim):
            out[f"{name}_lr"] = ((ylr, xlr), pool(c.values.astype(np.float64), r), c.attrs)
    return out


KEYWORDS = ("sea surface height, altimetry, downscaling, super-resolution, deep image prior, "
            "unsupervised learning, uncertainty, twin experiment")


def _summary_text(twin: Twin, final: Progress, config: dict, ds: xr.Dataset) -> str:
    f = twin.field
    what = f.attrs.get("title") or config.get("input") or f.source or "a sea surface height field"
    ny, nx = twin.truth.shape
    cy, cx = twin.observation.shape
    r = twin.degradation.ratio
    noise = f" plus white noise of {twin.noise_fraction:g} times its standard deviation" \
        if twin.noise_fraction else ""
    k = final.members.shape[0] if final.members is not None else config.get("members")
    how = ", ".join(([f"{k} ensemble member{'s' if k != 1 else ''}"] if k else [])
                    + ([f"recipe {config['recipe']}"] if config.get("recipe") else []))
    text = (f"Twin experiment made by ssh-dip {VERSION}: the sea surface height field {what} ('truth', "
            f"{ny}x{nx} cells) was average-pooled by {r}x{r} blocks{noise} into the observation 'lowres' "
            f"({cy}x{cx} cells). A deep image prior, a convolutional network fitted to this single observation "
            f"without training data{f' ({how})' if how else ''}, downscaled it back to the fine grid: 'estimate' "
            "is the ensemble mean. 'bicubic' (bicubic interpolation) and 'ibp' (iterative back-projection) are the "
            "classical baselines.")
    if "uncertainty" in ds:
        text += (" 'uncertainty' is the estimate's predictive standard deviation, calibrated on the observation "
                 f"alone (expected RMSE {100 * ds['uncertainty'].attrs['expected_rmse_m']:.2f} cm).")
    if final.guide is not None:
        text += (f" 'guide' is the guide map ({final.guide.guide.name}) on the fine grid: {final.guide.message}.")
    spreads = [v for v in ("std", "latent_std") if v in ds]
    if spreads:
        text += " Spreads of the fit (not the uncertainty): " + ", ".join(f"'{v}'" for v in spreads) + "."
    return text + " Scores against the truth are in the 'scores' attribute, the run's settings in 'configuration'."


def result_dataset(twin: Twin, final: Progress, config: dict, history: str | None = None) -> xr.Dataset:
    """Build the result dataset: ``truth``, ``lowres``, ``bicubic``, ``ibp``, ``estimate``, ``uncertainty`` (its
    calibrated predictive std), ``std`` (the members' spread, K > 1), ``latent_std`` (M > 0), coordinates, and the
    configuration and scores as global attributes, with CF-1.11 and ACDD-1.3 metadata (standard names,
    ``coverage_content_type``, the ``standard_error`` link of the estimate to its uncertainty, discovery
    attributes), and the RMSE and SSIM of the three estimates (:func:`scores`; the rest of the scores is the
    summary's, :func:`summary`).

    ``history`` is the command or call that made the file (default: this function); the time stamp and the
    ssh-dip version are added to it.
    """
    da = twin.field.data
    ds = xr.Dataset({k: xr.Variable(*v) for k, v in _variables(twin, final).items()},
                    coords={k: v.variable.copy(deep=False) for k, v in da.coords.items()  # attrs edited below
                            if set(v.dims) <= set(da.dims)})
    ds["lowres"] = xr.Variable(_coarse_dims(twin), twin.observation,
                               ssh_attrs(ssh_standard_name(da.attrs), "observation: average-pooled truth plus "
                                         "white noise", "physicalMeasurement", cell_methods="area: mean"))
    ds = ds.assign_coords({k: xr.Variable(*v) for k, v in _coarse_coords(twin).items()})
    for v in ds.data_vars.values():
        v.encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True})
    geo = cf_coordinates(ds, da)
    sc = scores(twin, final)  # what the file records; the summary's other scores (and the old stds) cost far more
    what = twin.field.attrs.get("title") or config.get("input") or twin.field.source
    stamp = time_stamp(ds)
    ds.attrs = {
        **global_attrs(title="ssh-dip deep image prior downscaling result"
                             + (f": {what}, x{twin.degradation.ratio}" if what else ""),
                       summary=_summary_text(twin, final, config, ds), keywords=KEYWORDS,
                       source=f"ssh-dip {VERSION} deep image prior downscaling of {twin.field.source or 'an array'}",
                       call=history or "dipcore.export.result_dataset", credit=twin.field.attrs.get("credit", "")),
        **geo,
        **({"time_coverage_start": stamp, "time_coverage_end": stamp} if stamp else {}),
        "configuration": json.dumps(config, sort_keys=True),
        "scores": json.dumps({"rmse": sc["rmse"], "ssim": sc["ssim"]}),
        **(final.guide.attributes() if final.guide is not None else {}),
        **{f"config_{k}": (v if isinstance(v, (int, float, str)) else json.dumps(v)) for k, v in config.items()
           if v is not None},
    }
    return ds


MEMBER_SPREAD = ("standard deviation across ensemble members (their spread, 7-20 times smaller than the error: "
                 "not the uncertainty of the estimate, see 'uncertainty')")


def _variables(twin: Twin, final: Progress) -> dict:
    """The result's fine-grid variables as ``{name: (dims, values, attrs)}``, the estimate linked to its stds."""
    dims = twin.field.data.dims
    sn = ssh_standard_name(twin.field.data.attrs)
    data = {
        "truth": (dims, twin.truth, ssh_attrs(sn, "high-resolution field used as truth", "referenceInformation")),
        "bicubic": (dims, twin.bicubic, ssh_attrs(sn, "bicubic interpolation of the observation (baseline)",
                                                  "modelResult")),
        "ibp": (dims, twin.ibp, ssh_attrs(sn, "iterative back-projection of the bicubic field onto the observation "
                                          "(classical baseline, no network)", "modelResult")),
        "estimate": (dims, final.estimate, ssh_attrs(sn, "deep image prior estimate (ensemble mean)", "modelResult")),
    }
    if final.uncertainty is not None:
        data["uncertainty"] = (dims, final.uncertainty, uncertainty_attrs(sn, final))
    if final.member_std is not None:
        data["std"] = (dims, final.member_std, spread_attrs(sn, MEMBER_SPREAD))
    if final.latent_std is not None:
        data["latent_std"] = (dims, final.latent_std, spread_attrs(sn, "standard deviation across latent "
                                                                       "samples (not the uncertainty)"))
    if final.guide is not None:  # a guided fit: the guide on the fine grid, used or not
        data["guide"] = (dims, final.guide.guide.values, final.guide.variable_attrs())
        if "uncertainty" in data and final.guide.used:
            data["uncertainty"][2]["comment"] = "scaled by the guide's skill at the coarse scale (dipcore.guide)"
    ancillary = [v for v in ("uncertainty", "std", "latent_std") if v in data]
    if ancillary:
        data["estimate"][2]["ancillary_variables"] = " ".join(ancillary)
    return data


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` (netCDF4 engine) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name in ds.coords:  # CF: no _FillValue on coordinates (xarray adds a NaN one to floats)
        ds.variables[name].encoding.setdefault("_FillValue", None)
    ds.to_netcdf(path, engine="netcdf4")
    return path


def netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The NetCDF-4 file for ``ds`` as bytes (for a download button)."""
    with tempfile.TemporaryDirectory() as d:
        return write_netcdf(ds, Path(d) / "result.nc").read_bytes()


def history(events: list[Progress]) -> list[dict]:
    """The fit's scored events as ``[{"step", "rmse", "ssim"}, …]`` (empty when the truth was not known)."""
    return [{"step": int(e.step), "rmse": float(e.metrics["rmse"]), "ssim": float(e.metrics["ssim"])}
            for e in events if "rmse" in e.metrics and "ssim" in e.metrics]


def best_estimate(rmse: dict[str, float]) -> str:
    """Which of ``estimate`` (the network), ``ibp`` and ``bicubic`` has the lowest RMSE."""
    return min(("estimate", "ibp", "bicubic"), key=lambda k: rmse.get(k, float("inf")))


def scores(twin: Twin, final: Progress) -> dict:
    """``{"rmse": {...}, "ssim": {...}}`` of the estimate, bicubic and IBP against the truth (metres; 0-1)."""
    three = {"estimate": final.estimate, "bicubic": twin.bicubic, "ibp": twin.ibp}
    return {"rmse": {k: metrics.rmse(v, twin.truth) for k, v in three.items()},
            "ssim": {k: metrics.ssim(v, twin.truth) for k, v in three.items()}}


def summary(twin: Twin, final: Progress, config: dict, events: list[Progress] | None = None, stds="compute"
            ) -> dict:
    """Scores and run facts as a JSON-able dict (the CLI's ``--summary`` file).

    ``rmse``/``ssim``/``nrmse`` compare the network's ``estimate`` with the two classical baselines,
    ``bicubic`` and ``ibp``; ``best`` names the lowest-RMSE one; ``history`` holds the scored events when
    ``events`` are given; ``uncertainty.predictive`` scores the estimate's calibrated ``uncertainty`` (spread/skill,
    corr(|error|, σ), ±1σ/±2σ coverage, CRPS and that of a flat σ equal to the true RMSE), beside its truth-free
    ``expected_rmse_cm`` and ``prior``; ``uncertainty.ensemble`` scores the members' spread (K > 1). ``stds``:
    the result of :func:`dipcore.uncertainty.fit_stds` when the caller already has it (computed otherwise).
    """
    from dipcore.solver import get_recipe

    est, bic, ibp, truth = final.estimate, twin.bicubic, twin.ibp, twin.truth
    three = {"estimate": est, "bicubic": bic, "ibp": ibp}
    recipe = config.get("recipe")
    out = {
        **scores(twin, final),
        "nrmse": {k: metrics.nrmse_score(v, truth) for k, v in three.items()},
        "params_per_member": final.params_per_member,
        "members": int(config.get("members", 1)),
        "iters": final.step,
        "seconds": round(final.elapsed, 3),
        "device": final.device.split(":")[0],
        "grid": list(twin.truth.shape),
        "ratio": twin.degradation.ratio,
        "noise": twin.noise_fraction,
        "recipe": recipe,
        "arch": config.get("arch") or (get_recipe(recipe).arch if isinstance(recipe, str) else None),
    }
    out["best"] = best_estimate(out["rmse"])
    if events is not None:
        out["history"] = history(events)
    if twin.dx_km:
        out["eff_res_km"] = {k: metrics.effective_resolution(v, truth, twin.dx_km) for k, v in three.items()}
    if final.member_std is not None:
        out["spread_skill"] = metrics.spread_skill(final.member_std, est, truth)
        out["corr_abs_error_std"] = metrics.error_std_correlation(final.member_std, est, truth)
        out["uncertainty"] = {"ensemble": {"spread_skill": out["spread_skill"],
                                           "corr": out["corr_abs_error_std"]}}
        if final.members is not None:
            out["crps"] = metrics.crps_ensemble(final.members, truth)
    if final.latent_std is not None:
        out["latent_corr_abs_error_std"] = metrics.error_std_correlation(final.latent_std, est, truth)
    stds = fit_stds(twin, final) if isinstance(stds, str) else stds
    if stds is not None:
        tot = stds[1]
        out["total_std_spread_skill"] = metrics.spread_skill(tot, est, truth)
        out["total_std_corr_abs_error"] = metrics.error_std_correlation(tot, est, truth)
    if final.uncertainty is not None:
        unc = out.setdefault("uncertainty", {})
        unc["predictive"] = {k: v for k, v in metrics.calibration(final.uncertainty, est, truth).items()
                             if k != "rmse"}
        unc["expected_rmse_cm"] = 100 * float(final.expected_rmse)
        unc["prior"] = final.uncertainty_prior
    if final.stop_reason is not None:
        out["stop_reason"] = final.stop_reason
    if final.guide is not None:
        out["guide"] = final.guide.summary()
        if final.guide.baseline is not None:  # the classical guided estimate: IBP plus the scaled guide detail
            out["guide"]["rmse_guided_ibp"] = metrics.rmse(final.guide.baseline, truth)
            out["guide"]["ssim_guided_ibp"] = metrics.ssim(final.guide.baseline, truth)
    return out
