"""The ``ratios`` sweep: scores against the downscaling ratio, DIP vs IBP and bicubic, with and without noise
(paper Fig. 3)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dipcore import recipes
from dipcore.constants import LADDER_NAMES
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_ratio_maps, plot_ratios
from dipcore.experiments.results import ExperimentResult, checkpoint, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe, run_fit
from dipcore.experiments.tables import RATIO_COLUMNS, ratios_summary, score_row


def run_ratios(cases: Sequence[str], ratios: Sequence[int] = (2, 4, 8, 16, 32),
               noises: Sequence[float] = (0.0, 0.05), *, recipe: str | None = None, members: int = 1,
               iters: int | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
               on_progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> ExperimentResult:
    """Scores against the downscaling ratio, DIP vs bicubic, without and with noise (paper Fig. 3).

    Parameters
    ----------
    cases : sequence of str
        Case specifications (see :func:`parse_case`).
    ratios : sequence of int
        Downscaling ratios among 1, 2, 4, 8, 16, 32.
    noises : sequence of float
        Noise std as fractions of the field's std (0.05 = 5 %).
    recipe : str, optional
        Fit recipe; the current ``DEFAULT_RECIPE`` when None.
    members : int
        Ensemble size per fit (the DIP row scores the ensemble mean).
    iters : int, optional
        Iterations per fit (default: the recipe's).
    seed : int
        Seed of noise draws and initialisations.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    out : path, optional
        Output folder for ``ratios.csv``, ``ratios_summary.csv``, ``ratios.png``, ``ratios_maps.png``.
    on_progress, should_stop : callable, optional
        Progress callback ``(message, fraction)`` and cancellation flag.

    Returns
    -------
    ExperimentResult
        One row per case × ratio × noise × method (``dip``, ``bicubic``); combinations the grid is too small
        for get NaN scores and a ``note``.
    """
    from dipcore.twin import make_twin

    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    parsed, outdir = check_common(cases, ratios, noises, out)
    fields = {c.spec: c.load() for c in parsed}
    tracker = Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
    rows: list[dict] = []
    maps: dict[int, dict] = {}  # first case, first noise: fields for the map figure
    for ci, case in enumerate(parsed):
        fld = fields[case.spec]
        for r in ratios:
            for noise in noises:
                base = {"experiment": "ratios", "case": case.spec, "grid": "×".join(map(str, fld.shape)),
                        "ratio": r, "level": LADDER_NAMES[r], "noise": noise, "recipe": recipe,
                        "members": members, "iters": iters, "seed": seed}
                try:
                    twin = make_twin(fld, r, noise, seed=seed)
                except SSHDipError as exc:  # grid too small for this ratio: record it, do not crash
                    tracker.done += 1
                    tracker.say(f"[{tracker.done}/{tracker.total}] {case.spec} ×{r} σ={noise:g}: skipped ({exc})")
                    for method in ("dip", "ibp", "bicubic"):
                        rows.append({**base, "method": method, "rmse_cm": np.nan, "ssim": np.nan,
                                     "nrmse": np.nan, "eff_res_km": np.nan, "seconds": np.nan,
                                     "note": f"skipped: {exc}"})
                    continue
                label = f"{case.spec} ×{r} σ={noise:g} {recipe}"
                t0 = time.perf_counter()
                final, head = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
                                      seed=seed, device=device)
                secs = time.perf_counter() - t0
                dip = score_row(final.estimate, twin.truth, twin.dx_km)
                bic = score_row(twin.bicubic, twin.truth, twin.dx_km)
                ibp = score_row(twin.ibp, twin.truth, twin.dx_km)
                rows.append({**base, "iters": final.step, "method": "dip", **dip, "seconds": secs, "note": ""})
                rows.append({**base, "iters": final.step, "method": "ibp", **ibp, "seconds": 0.0, "note": ""})
                rows.append({**base, "iters": final.step, "method": "bicubic", **bic, "seconds": 0.0, "note": ""})
                tracker.say(f"{head}: RMSE DIP {dip['rmse_cm']:.2f} cm, IBP {ibp['rmse_cm']:.2f} cm, "
                            f"bicubic {bic['rmse_cm']:.2f} cm "
                            f"({secs:.0f} s)")
                checkpoint(outdir, "ratios", rows, RATIO_COLUMNS)
                if ci == 0 and noise == noises[0]:
                    maps[r] = {"truth": twin.truth, "dip": final.estimate, "bicubic": twin.bicubic, "ibp": twin.ibp,
                               "field": twin.field}
    table = pd.DataFrame(rows, columns=RATIO_COLUMNS)
    summary = ratios_summary(table)
    result = ExperimentResult("ratios", table, summary, outdir)
    if outdir is not None:
        result.figures.append(plot_ratios(table, outdir / "ratios.png", recipe))
        if maps:
            result.figures.append(plot_ratio_maps(maps, outdir / "ratios_maps.png", parsed[0].spec, noises[0]))
        result.files.extend(result.figures)
    write_result(result, {"experiment": "ratios", "cases": list(cases), "ratios": list(ratios),
                          "noises": list(noises), "recipe": recipe, "members": members, "iters": iters,
                          "seed": seed, "device": device})
    return result


__all__ = ["run_ratios"]
