"""Run one experiment by name with its full (or quick) defaults: the entry point of the CLI and the explorer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dipcore.errors import SSHDipError
from dipcore.experiments.ensemble_size import run_ensemble_size
from dipcore.experiments.ratios import run_ratios
from dipcore.experiments.results import ExperimentResult
from dipcore.experiments.runner import ProgressFn, StopFn, default_recipe
from dipcore.experiments.settings import EXPERIMENTS
from dipcore.experiments.uncertainty import run_uncertainty


def run_experiment(name: str, *, quick: bool = False, cases: Sequence[str] | None = None,
                   ratios: Sequence[int] | None = None, noises: Sequence[float] | None = None,
                   members: int | None = None, latent_samples: int | None = None, iters: int | None = None,
                   recipe: str | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
                   on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                   workers: int | None = None, scheduler: Any = None, progress_bar: bool = False
                   ) -> ExperimentResult:
    """Run experiment ``name`` with its full (or ``quick``) defaults for every setting left as None.

    Parameters
    ----------
    name : str
        ``ratios``, ``ensemble-size`` or ``uncertainty``.
    quick : bool
        Tiny smoke settings (one small crop, a few iterations).
    workers, scheduler, progress_bar
        Run each fit as one Dask task on a local cluster of ``workers`` processes or on a running one (its
        scheduler's address or a ``distributed.Client``), with the same numbers as in this process
        (:mod:`dipcore.experiments.parallel`); None for both runs the fits here, one after the other.
    Other parameters
        As in :func:`run_ratios`, :func:`run_ensemble_size` and :func:`run_uncertainty`.
    """
    if name not in EXPERIMENTS:
        raise SSHDipError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    d = EXPERIMENTS[name]["quick" if quick else "full"]
    kw = dict(cases=list(cases or d.cases), ratios=list(ratios or d.ratios),
              noises=list(noises if noises is not None else d.noises), recipe=recipe or default_recipe(),
              iters=iters if iters is not None else d.iters, seed=seed, device=device, out=out,
              on_progress=on_progress, should_stop=should_stop, members=members or d.members, workers=workers,
              scheduler=scheduler, progress_bar=progress_bar)
    if name == "ratios":
        return run_ratios(**kw)
    if name == "ensemble-size":
        return run_ensemble_size(**kw)
    return run_uncertainty(latent_samples=latent_samples or d.latent_samples, **kw)


__all__ = ["run_experiment"]
