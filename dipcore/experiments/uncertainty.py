"""The ``uncertainty`` sweep: latent-sample std and ensemble std next to |error|, with their diagnostics, maps
and a NetCDF of the fields (paper Fig. 6)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dipcore import metrics, recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_spread_error, plot_uncertainty_maps
from dipcore.experiments.results import ExperimentResult, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe, run_fit
from dipcore.experiments.tables import UNCERTAINTY_COLUMNS, uncertainty_rows
from dipcore.uncertainty import fit_stds


def run_uncertainty(cases: Sequence[str], ratios: Sequence[int] = (16,), noises: Sequence[float] = (0.0,), *,
                    members: int = 8, latent_samples: int = 32, recipe: str | None = None,
                    iters: int | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
                    write_netcdf: bool = True, on_progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> ExperimentResult:
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

    Returns
    -------
    ExperimentResult
        Two rows (``ensemble``, ``latent``) per case × ratio × noise.
    """
    from dipcore.export import result_dataset
    from dipcore.export import write_netcdf as write_nc
    from dipcore.twin import make_twin

    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    if members < 2 or latent_samples < 2:
        raise SSHDipError(f"uncertainty needs ≥ 2 members and ≥ 2 latent samples; got {members} and "
                          f"{latent_samples}")
    parsed, outdir = check_common(cases, ratios, noises, out)
    tracker = Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
    rows: list[dict] = []
    figures: list[Path] = []
    files: list[Path] = []
    for case in parsed:
        fld = case.load()
        for r in ratios:
            for noise in noises:
                twin = make_twin(fld, r, noise, seed=seed)
                label = f"{case.spec} ×{r} σ={noise:g} K={members} M={latent_samples} {recipe}"
                t0 = time.perf_counter()
                final, head = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
                                      seed=seed, device=device, latent_samples=latent_samples, keep_members=True)
                base = {"experiment": "uncertainty", "case": case.spec,
                        "grid": "×".join(map(str, twin.truth.shape)), "ratio": r, "noise": noise,
                        "recipe": recipe, "members": members, "latent_samples": latent_samples,
                        "iters": final.step, "seed": seed,
                        "bicubic_rmse_cm": 100 * metrics.rmse(twin.bicubic, twin.truth)}
                stds = fit_stds(twin, final)
                total = stds[1] if stds is not None else None
                new = [{**base, **row} for row in uncertainty_rows(final.estimate, twin.truth, final.member_std,
                                                                  final.latent_std, final.members, total)]
                rows.extend(new)
                tracker.say(f"{head}: mean std ensemble {new[0]['mean_std_cm']:.2f} cm, latent "
                            f"{new[1]['mean_std_cm']:.2f} cm; corr with |error| {new[0]['corr_abs_error']:.2f} / "
                            f"{new[1]['corr_abs_error']:.2f} ({time.perf_counter() - t0:.0f} s)")
                if outdir is not None:
                    stem = f"uncertainty_{_slug(case.spec)}_x{r}" + (f"_n{noise:g}" if noise else "")
                    title = f"{case.spec} ×{r}" + (f", noise {noise:g}·std" if noise else "")
                    figures.append(plot_uncertainty_maps(twin, final, outdir / f"{stem}_maps.png", title, total))
                    figures.append(plot_spread_error(twin, final, outdir / f"{stem}_bins.png", title))
                    if write_netcdf:
                        config = {"experiment": "uncertainty", "input": case.spec, "ratio": r, "noise": noise,
                                  "members": members, "latent_samples": latent_samples, "iters": final.step,
                                  "recipe": recipe, "seed": seed}
                        ds = result_dataset(twin, final, config, history="dipcore.experiments.run_uncertainty "
                                            f"{json.dumps(config, sort_keys=True)}")
                        ds["abs_error"] = np.abs(ds["estimate"] - ds["truth"])
                        # CF has no name for a realised error: the uncertainty modifier is the closest one
                        ds["abs_error"].attrs = {
                            "units": "m", "long_name": "absolute error of the estimate",
                            "standard_name": f"{ds['estimate'].attrs['standard_name']} standard_error",
                            "coverage_content_type": "qualityInformation",
                            "comment": "|estimate - truth|: the realised error, known in a twin experiment only"}
                        ds["abs_error"].encoding.update({"dtype": "float32", "_FillValue": np.float32(np.nan),
                                                         "zlib": True})
                        ds["estimate"].attrs["ancillary_variables"] = " ".join(
                            [*ds["estimate"].attrs.get("ancillary_variables", "").split(), "abs_error"])
                        files.append(write_nc(ds, outdir / f"{stem}.nc"))
    table = pd.DataFrame(rows, columns=UNCERTAINTY_COLUMNS)
    summary = table[["case", "ratio", "noise", "source", "mean_std_cm", "rmse_cm", "corr_abs_error",
                     "spread_skill", "crps_cm", "crps_gauss_cm"]].copy()
    result = ExperimentResult("uncertainty", table, summary, outdir, figures, figures + files)
    write_result(result, {"experiment": "uncertainty", "cases": list(cases), "ratios": list(ratios),
                          "noises": list(noises), "recipe": recipe, "members": members,
                          "latent_samples": latent_samples, "iters": iters, "seed": seed, "device": device})
    return result


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in Path(text).name).strip("-") or "case"


__all__ = ["run_uncertainty"]
