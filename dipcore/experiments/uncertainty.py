"""The ``uncertainty`` sweep: latent-sample std and ensemble std next to |error|, with their diagnostics, maps
and a NetCDF of the fields (paper Fig. 6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dipcore import recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_spread_error, plot_uncertainty_maps
from dipcore.experiments.fits import (Combination, FitOutcome, combinations, outcome_rows,
                                      uncertainty_fit)
from dipcore.experiments.parallel import dispatch, wants_cluster
from dipcore.experiments.results import ExperimentResult, checkpoint, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe
from dipcore.experiments.tables import UNCERTAINTY_COLUMNS


def run_uncertainty(cases: Sequence[str], ratios: Sequence[int] = (16,), noises: Sequence[float] = (0.0,), *,
                    members: int = 8, latent_samples: int = 32, recipe: str | None = None,
                    iters: int | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
                    write_netcdf: bool = True, on_progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None, workers: int | None = None, scheduler: Any = None,
                    progress_bar: bool = False) -> ExperimentResult:
    """Latent-sample std vs ensemble std next to |error| (paper Fig. 6).

    Parameters
    ----------
    cases, ratios, noises, recipe, iters, seed, device, out, on_progress, should_stop
        As in :func:`run_ratios`.
    members : int
        Ensemble size K (≥ 2).
    latent_samples : int
        Latent draws M through the fitted members (≥ 2).
    write_netcdf : bool
        Also write the maps (truth, estimate, both stds, |error|…) as ``uncertainty_<case>_x<r>.nc``.
    workers, scheduler, progress_bar
        One Dask task per fit, as in :func:`run_ratios`; the workers send the maps back and this process
        writes the figures and NetCDF files (a remote cluster need not share its disk).

    Returns
    -------
    ExperimentResult
        Two rows (``ensemble``, ``latent``) per case × ratio × noise.
    """
    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    if members < 2 or latent_samples < 2:
        raise SSHDipError(f"uncertainty needs ≥ 2 members and ≥ 2 latent samples; got {members} and "
                          f"{latent_samples}")
    on_cluster = wants_cluster(workers, scheduler)
    parsed, outdir = check_common(cases, ratios, noises, out)
    combos = combinations([c.spec for c in parsed], ratios, noises)
    tracker = Tracker(len(combos), on_progress, should_stop)
    params = dict(recipe=recipe, members=members, iters=iters, seed=seed, device=device)
    outcomes: dict[int, FitOutcome] = {}
    written: dict[int, tuple[list[Path], list[Path]]] = {}  # per combination: (figures, NetCDF files)

    def keep(combo: Combination, outcome: FitOutcome | SSHDipError) -> None:
        if isinstance(outcome, SSHDipError):  # the table has no note column: stop, as the serial run does
            raise SSHDipError(f"{combo.label}: {outcome}")
        tracker.say(f"[{tracker.done}/{tracker.total}] {outcome.label}{outcome.text}")
        if outdir is not None:  # at once: a killed sweep keeps the maps of its finished fits
            written[combo.index] = _write_maps(outcome, combo, outdir, recipe, members, latent_samples, seed,
                                               write_netcdf)
        outcome.twin = outcome.final = outcome.stds = None  # written: only the rows are kept from here on
        outcomes[combo.index] = outcome
        checkpoint(outdir, "uncertainty", outcome_rows(outcomes), UNCERTAINTY_COLUMNS)

    params["latent_samples"] = latent_samples
    dispatch("uncertainty", parsed, combos, params, tracker, keep,
             lambda fld, c: uncertainty_fit(fld, c.spec, c.ratio, c.noise, tracker=tracker, **params),
             on_cluster=on_cluster, workers=workers, scheduler=scheduler, progress_bar=progress_bar)
    rows = outcome_rows(outcomes)
    figures = [p for i in sorted(written) for p in written[i][0]]
    files = [p for i in sorted(written) for p in written[i][1]]
    table = pd.DataFrame(rows, columns=UNCERTAINTY_COLUMNS)
    summary = table[["case", "ratio", "noise", "source", "mean_std_cm", "rmse_cm", "corr_abs_error",
                     "spread_skill", "crps_cm", "crps_gauss_cm"]].copy()
    result = ExperimentResult("uncertainty", table, summary, outdir, figures, figures + files)
    write_result(result, {"experiment": "uncertainty", "cases": list(cases), "ratios": list(ratios),
                          "noises": list(noises), "recipe": recipe, "members": members,
                          "latent_samples": latent_samples, "iters": iters, "seed": seed, "device": device})
    return result


def _write_maps(outcome: FitOutcome, combo: Combination, outdir: Path, recipe: str, members: int,
                latent_samples: int, seed: int, write_netcdf: bool) -> tuple[list[Path], list[Path]]:
    """The two figures and (``write_netcdf``) the NetCDF of the maps of one finished fit."""
    from dipcore.export import result_dataset
    from dipcore.export import write_netcdf as write_nc

    twin, final, stds = outcome.twin, outcome.final, outcome.stds
    r, noise = combo.ratio, combo.noise
    total = stds[1] if stds is not None else None
    stem = f"uncertainty_{_slug(combo.spec)}_x{r}" + (f"_n{noise:g}" if noise else "")
    title = f"{combo.spec} ×{r}" + (f", noise {noise:g}·std" if noise else "")
    figures = [plot_uncertainty_maps(twin, final, outdir / f"{stem}_maps.png", title, total),
               plot_spread_error(twin, final, outdir / f"{stem}_bins.png", title)]
    if not write_netcdf:
        return figures, []
    config = {"experiment": "uncertainty", "input": combo.spec, "ratio": r, "noise": noise, "members": members,
              "latent_samples": latent_samples, "iters": final.step, "recipe": recipe, "seed": seed}
    ds = result_dataset(twin, final, config,
                        history=f"dipcore.experiments.run_uncertainty {json.dumps(config, sort_keys=True)}")
    ds["abs_error"] = np.abs(ds["estimate"] - ds["truth"])
    # CF has no name for a realised error: the uncertainty modifier is the closest one
    ds["abs_error"].attrs = {
        "units": "m", "long_name": "absolute error of the estimate",
        "standard_name": f"{ds['estimate'].attrs['standard_name']} standard_error",
        "coverage_content_type": "qualityInformation",
        "comment": "|estimate - truth|: the realised error, known in a twin experiment only"}
    ds["abs_error"].encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan), "zlib": True})
    ds["estimate"].attrs["ancillary_variables"] = " ".join(
        [*ds["estimate"].attrs.get("ancillary_variables", "").split(), "abs_error"])
    return figures, [write_nc(ds, outdir / f"{stem}.nc")]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in Path(text).name).strip("-") or "case"


__all__ = ["run_uncertainty"]
