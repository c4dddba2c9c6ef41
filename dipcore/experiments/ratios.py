"""The ``ratios`` sweep: scores against the downscaling ratio, DIP vs IBP and bicubic, with and without noise
(paper Fig. 3)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dipcore import recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.figures import plot_ratio_maps, plot_ratios
from dipcore.experiments.fits import (Combination, FitOutcome, combinations, outcome_rows, ratio_base,
                                      ratio_fit, skipped_ratio_rows)
from dipcore.experiments.parallel import dispatch, wants_cluster
from dipcore.experiments.results import ExperimentResult, checkpoint, write_result
from dipcore.experiments.runner import ProgressFn, StopFn, Tracker, check_common, default_recipe
from dipcore.experiments.tables import RATIO_COLUMNS, ratios_summary


def run_ratios(cases: Sequence[str], ratios: Sequence[int] = (2, 4, 8, 16, 32),
               noises: Sequence[float] = (0.0, 0.05), *, recipe: str | None = None, members: int = 1,
               iters: int | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
               on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
               workers: int | None = None, scheduler: Any = None, progress_bar: bool = False) -> ExperimentResult:
    """Scores against the downscaling ratio, DIP vs bicubic, without and with noise (paper Fig. 3).

    Every case × ratio × noise is one fit: in this process one after the other, or one Dask task each on a
    cluster (``workers`` or ``scheduler``, :mod:`dipcore.experiments.parallel`) with the same numbers.

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
    workers : int, optional
        Run the fits on a local Dask cluster of this many single-threaded worker processes.
    scheduler : str or distributed.Client, optional
        Run the fits on a running cluster: its scheduler's address (``tcp://host:8786``) or a client.
    progress_bar : bool
        On a cluster, a tqdm bar on stderr (done/total, ETA).

    Returns
    -------
    ExperimentResult
        One row per case × ratio × noise × method (``dip``, ``bicubic``); combinations the grid is too small
        for get NaN scores and a ``note``.
    """
    recipe = recipe or default_recipe()
    recipes.get_recipe(recipe)
    on_cluster = wants_cluster(workers, scheduler)
    parsed, outdir = check_common(cases, ratios, noises, out)
    combos = combinations([c.spec for c in parsed], ratios, noises, maps=True)
    tracker = Tracker(len(combos), on_progress, should_stop)
    params = dict(recipe=recipe, members=members, iters=iters, seed=seed, device=device)
    outcomes: dict[int, FitOutcome] = {}

    def keep(combo: Combination, outcome: FitOutcome | SSHDipError) -> None:
        if isinstance(outcome, SSHDipError):  # a task's case or fit refused on a worker: a row, not a crash
            base = ratio_base(combo.spec, "", combo.ratio, combo.noise, recipe, members, iters, seed)
            outcome = FitOutcome(combo.label, f": skipped ({outcome})", skipped_ratio_rows(base, str(outcome)))
        outcomes[combo.index] = outcome
        tracker.say(f"[{tracker.done}/{tracker.total}] {outcome.label}{outcome.text}")
        checkpoint(outdir, "ratios", outcome_rows(outcomes), RATIO_COLUMNS)  # a killed sweep keeps its fits

    dispatch("ratios", parsed, combos, params, tracker, keep,
             lambda fld, c: ratio_fit(fld, c.spec, c.ratio, c.noise, tracker=tracker, want_maps=c.want_maps,
                                      **params),
             on_cluster=on_cluster, workers=workers, scheduler=scheduler, progress_bar=progress_bar)
    rows = outcome_rows(outcomes)
    maps = {combos[i].ratio: o.maps for i, o in sorted(outcomes.items()) if o.maps is not None}
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
