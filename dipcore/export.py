"""CF NetCDF export of a fit result (the same schema for the CLI and the explorer) and its JSON summary."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from dipcore import metrics
from dipcore.degrade import pool
from dipcore.fit import Progress
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


def result_dataset(twin: Twin, final: Progress, config: dict) -> xr.Dataset:
    """Build the result dataset: ``truth``, ``lowres``, ``bicubic``, ``estimate``, ``std`` (K > 1),
    ``latent_std`` (M > 0), coordinates, and the configuration and scores as global attributes."""
    da = twin.field.data
    dims = da.dims
    attrs = lambda long, std=None: {"units": "m", "long_name": long, **({"standard_name": std} if std else {})}
    sn = da.attrs.get("standard_name")
    data = {
        "truth": (dims, twin.truth, attrs("high-resolution field used as truth", sn)),
        "bicubic": (dims, twin.bicubic, attrs("bicubic interpolation of the observation (baseline)")),
        "ibp": (dims, twin.ibp, attrs("iterative back-projection of the bicubic field onto the observation "
                                      "(classical baseline, no network)")),
        "estimate": (dims, final.estimate, attrs("deep image prior estimate (ensemble mean)")),
    }
    if final.member_std is not None:
        data["std"] = (dims, final.member_std, attrs("standard deviation across ensemble members"))
    if final.latent_std is not None:
        data["latent_std"] = (dims, final.latent_std, attrs("standard deviation across latent samples"))
    stds = fit_stds(twin, final)
    if stds is not None:
        data["subgrid_std"] = (dims, stds[0], attrs("sub-grid error std: c·|grad estimate|·cell size, c calibrated "
                                                    "on the observation degraded once more (dipcore.uncertainty)"))
        data["total_std"] = (dims, stds[1], attrs("member spread and sub-grid std added in quadrature"))
    ds = xr.Dataset({k: xr.Variable(*v) for k, v in data.items()},
                    coords={k: v for k, v in da.coords.items() if set(v.dims) <= set(dims)})
    cc = _coarse_coords(twin)
    ds["lowres"] = xr.Variable(_coarse_dims(twin), twin.observation,
                               attrs("observation: average-pooled truth plus white noise"))
    ds = ds.assign_coords({k: xr.Variable(*v) for k, v in cc.items()})
    for v in ds.data_vars.values():
        v.encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True})
    sc = summary(twin, final, config)
    ds.attrs = {
        "Conventions": "CF-1.8",
        "title": "ssh-dip deep image prior downscaling result",
        "source": twin.field.source,
        "credit": twin.field.attrs.get("credit", ""),
        "configuration": json.dumps(config, sort_keys=True),
        "scores": json.dumps({"rmse": sc["rmse"], "ssim": sc["ssim"]}),
        **{f"config_{k}": (v if isinstance(v, (int, float, str)) else json.dumps(v)) for k, v in config.items()
           if v is not None},
    }
    return ds


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` (netCDF4 engine) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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


def summary(twin: Twin, final: Progress, config: dict, events: list[Progress] | None = None) -> dict:
    """Scores and run facts as a JSON-able dict (the CLI's ``--summary`` file).

    ``rmse``/``ssim``/``nrmse`` compare the network's ``estimate`` with the two classical baselines,
    ``bicubic`` and ``ibp``; ``best`` names the lowest-RMSE one; ``history`` holds the scored events when
    ``events`` are given; ``uncertainty.ensemble`` scores the members' spread (K > 1).
    """
    from dipcore.fit import get_recipe

    est, bic, ibp, truth = final.estimate, twin.bicubic, twin.ibp, twin.truth
    three = {"estimate": est, "bicubic": bic, "ibp": ibp}
    recipe = config.get("recipe")
    out = {
        "rmse": {k: metrics.rmse(v, truth) for k, v in three.items()},
        "ssim": {k: metrics.ssim(v, truth) for k, v in three.items()},
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
    stds = fit_stds(twin, final)
    if stds is not None:
        tot = stds[1]
        out["total_std_spread_skill"] = metrics.spread_skill(tot, est, truth)
        out["total_std_corr_abs_error"] = metrics.error_std_correlation(tot, est, truth)
    return out
