"""The ``ensemble-size`` sweep: scores of the mean of the first k members against k, next to the members taken
alone and the baselines (paper Fig. 5 and 9)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dipcore import recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_ensemble_size
from dipcore.experiments.fits import Combination, FitOutcome, combinations, ensemble_fit, outcome_rows
from dipcore.experiments.parallel import dispatch, wants_cluster
from dipcore.experiments.results import ExperimentResult, checkpoint, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe
from dipcore.experiments.tables import ENSEMBLE_COLUMNS, ensemble_summary


def run_ensemble_size(cases: Sequence[str], ratios: Sequence[int] = (16,), noises: Sequence[float] = (0.0,), *,
                      members: int = 8, recipe: str | None = None, iters: int | None = None, seed: int = 0,
                      device: str = "auto", out: str | Path | None = None, on_progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None, workers: int | None = None, scheduler: Any = None,
                      progress_bar: bool = False) -> ExperimentResult:
    """Scores of the ensemble mean against the number of members (paper Fig. 5 and 9).

    One batched fit of K members per case × ratio × noise; the mean of the first k members is scored for each
    k, next to the average score of those k members taken alone (the paper's "average score").

    Parameters
    ----------
    cases, ratios, noises, recipe, iters, seed, device, out, on_progress, should_stop
        As in :func:`run_ratios`.
    members : int
        K, at least 2.
    workers, scheduler, progress_bar
        One Dask task per fit, as in :func:`run_ratios`. A combination the grid is too small for stops the
        sweep (this table has no note column), on a cluster as in this process.

    Returns
    -------
    ExperimentResult
        One row per case × ratio × noise × k × method (``ensemble_mean``, ``mean_member``, ``best_member``,
        ``bicubic``).
    """
    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    if members < 2:
        raise SSHDipError(f"ensemble-size needs at least 2 members; got {members}")
    on_cluster = wants_cluster(workers, scheduler)
    parsed, outdir = check_common(cases, ratios, noises, out)
    combos = combinations([c.spec for c in parsed], ratios, noises)
    tracker = Tracker(len(combos), on_progress, should_stop)
    params = dict(recipe=recipe, members=members, iters=iters, seed=seed, device=device)
    outcomes: dict[int, FitOutcome] = {}

    def keep(combo: Combination, outcome: FitOutcome | SSHDipError) -> None:
        if isinstance(outcome, SSHDipError):  # the table has no note column: stop, as the serial run does
            raise SSHDipError(f"{combo.label}: {outcome}")
        outcomes[combo.index] = outcome
        checkpoint(outdir, "ensemble-size", outcome_rows(outcomes), ENSEMBLE_COLUMNS)
        tracker.say(f"[{tracker.done}/{tracker.total}] {outcome.label}{outcome.text}")

    dispatch("ensemble-size", parsed, combos, params, tracker, keep,
             lambda fld, c: ensemble_fit(fld, c.spec, c.ratio, c.noise, tracker=tracker, **params),
             on_cluster=on_cluster, workers=workers, scheduler=scheduler, progress_bar=progress_bar)
    rows = outcome_rows(outcomes)
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
