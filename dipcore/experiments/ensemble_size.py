"""The ``ensemble-size`` sweep: scores of the mean of the first k members against k, next to the members taken
alone and the baselines (paper Fig. 5 and 9)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dipcore import recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_ensemble_size
from dipcore.experiments.results import ExperimentResult, checkpoint, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe, run_fit
from dipcore.experiments.tables import ENSEMBLE_COLUMNS, ensemble_size_rows, ensemble_summary


def run_ensemble_size(cases: Sequence[str], ratios: Sequence[int] = (16,), noises: Sequence[float] = (0.0,), *,
                      members: int = 8, recipe: str | None = None, iters: int | None = None, seed: int = 0,
                      device: str = "auto", out: str | Path | None = None, on_progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None) -> ExperimentResult:
    """Scores of the ensemble mean against the number of members (paper Fig. 5 and 9).

    One batched fit of K members per case × ratio × noise; the mean of the first k members is scored for each
    k, next to the average score of those k members taken alone (the paper's "average score").

    Parameters
    ----------
    cases, ratios, noises, recipe, iters, seed, device, out, on_progress, should_stop
        As in :func:`run_ratios`.
    members : int
        K, at least 2.

    Returns
    -------
    ExperimentResult
        One row per case × ratio × noise × k × method (``ensemble_mean``, ``mean_member``, ``best_member``,
        ``bicubic``).
    """
    from dipcore.twin import make_twin

    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    if members < 2:
        raise SSHDipError(f"ensemble-size needs at least 2 members; got {members}")
    parsed, outdir = check_common(cases, ratios, noises, out)
    tracker = Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
    rows: list[dict] = []
    for case in parsed:
        fld = case.load()
        for r in ratios:
            for noise in noises:
                twin = make_twin(fld, r, noise, seed=seed)  # too small → SSHDipError: one fit here is the point
                label = f"{case.spec} ×{r} σ={noise:g} K={members} {recipe}"
                t0 = time.perf_counter()
                final, head = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
                                      seed=seed, device=device, keep_members=True)
                base = {"experiment": "ensemble-size", "case": case.spec,
                        "grid": "×".join(map(str, twin.truth.shape)), "ratio": r, "noise": noise,
                        "recipe": recipe, "iters": final.step, "seed": seed}
                new = [{**base, **row} for row in ensemble_size_rows(final.members, twin.truth, twin.bicubic,
                                                                     twin.dx_km, twin.ibp)]
                rows.extend(new)
                checkpoint(outdir, "ensemble-size", rows, ENSEMBLE_COLUMNS)
                last = {row["method"]: row["rmse_cm"] for row in new if row["k"] == members}
                tracker.say(f"{head}: RMSE mean of {members} {last['ensemble_mean']:.2f} cm, mean member "
                            f"{last['mean_member']:.2f} cm, bicubic {last['bicubic']:.2f} cm "
                            f"({time.perf_counter() - t0:.0f} s)")
    table = pd.DataFrame(rows, columns=ENSEMBLE_COLUMNS)
    summary = ensemble_summary(table)
    result = ExperimentResult("ensemble-size", table, summary, outdir)
    if outdir is not None:
        result.figures.append(plot_ensemble_size(table, outdir / "ensemble_size.png", recipe))
        result.files.extend(result.figures)
    write_result(result, {"experiment": "ensemble-size", "cases": list(cases), "ratios": list(ratios),
                          "noises": list(noises), "recipe": recipe, "members": members, "iters": iters, "seed": seed,
                          "device": device})
    return result


__all__ = ["run_ensemble_size"]
