"""One combination of a sweep (case × ratio × noise): build the twin, fit it, score it, into a :class:`FitOutcome`.

The serial sweeps call these functions in their loops and :func:`fit_task` calls the same ones on a Dask worker
(:mod:`dipcore.experiments.parallel`), so both paths compute the same numbers from the same seeds. No file is
written here: the sweep that receives an outcome writes the tables, figures and NetCDF (on the client: the
workers of a remote cluster need not share its disk).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dipcore import metrics
from dipcore.constants import LADDER_NAMES
from dipcore.errors import SSHDipError
from dipcore.experiments.runner import Tracker, run_fit
from dipcore.experiments.tables import ensemble_size_rows, score_row, uncertainty_rows

if TYPE_CHECKING:
    from dipcore.experiments.cases import Case
    from dipcore.io import Field


@dataclass
class FitOutcome:
    """What one combination gives its sweep.

    Attributes
    ----------
    label : str
        ``case ×r σ=… recipe``: names the combination in the progress lines.
    text : str
        The rest of its progress line (``: RMSE DIP … cm …`` or ``: skipped (why)``).
    rows : list of dict
        Its rows of the sweep's table.
    maps : dict, optional
        ``ratios``, first case and noise: the fields of the map figure (truth, dip, bicubic, ibp, field).
    twin, final : optional
        ``uncertainty``: the twin and the fit's last event, for the maps and the NetCDF.
    stds : tuple of np.ndarray, optional
        ``uncertainty``: (sub-grid std, total std) of :func:`dipcore.uncertainty.fit_stds`, None when too small.
    """

    label: str
    text: str
    rows: list[dict] = field(default_factory=list)
    maps: dict | None = None
    twin: Any = None
    final: Any = None
    stds: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class Combination:
    """One fit of a sweep: where it sits in the serial order and what the task needs."""

    index: int
    spec: str
    ratio: int
    noise: float
    want_maps: bool = False

    @property
    def label(self) -> str:
        return f"{self.spec} ×{self.ratio} σ={self.noise:g}"


def combinations(specs: Sequence[str], ratios: Sequence[int], noises: Sequence[float], *,
                 maps: bool = False) -> list[Combination]:
    """Every case × ratio × noise in the serial order; with ``maps``, the first case at the first noise wants
    its fields back for the map figure."""
    grid = [(ci, spec, r, noise) for ci, spec in enumerate(specs) for r in ratios for noise in noises]
    return [Combination(i, spec, r, noise, maps and ci == 0 and noise == noises[0])
            for i, (ci, spec, r, noise) in enumerate(grid)]


def each_field(cases: Sequence[Case], combos: Sequence[Combination]) -> Iterator[tuple[Combination, Field]]:
    """The combinations in order with their case's field, loaded once per case (one in memory at a time)."""
    by_spec = {c.spec: c for c in cases}
    spec, fld = None, None
    for combo in combos:
        if fld is None or combo.spec != spec:
            spec, fld = combo.spec, by_spec[combo.spec].load()
        yield combo, fld


def outcome_rows(outcomes: dict[int, FitOutcome]) -> list[dict]:
    """The table's rows in the serial order (the outcomes' keys), whatever order the fits finished in."""
    return [row for _, outcome in sorted(outcomes.items()) for row in outcome.rows]


def ratio_base(spec: str, grid: str, ratio: int, noise: float, recipe: str, members: int, iters: int | None,
               seed: int) -> dict:
    """The columns a ``ratios`` row shares with the other rows of its combination."""
    return {"experiment": "ratios", "case": spec, "grid": grid, "ratio": ratio, "level": LADDER_NAMES[ratio],
            "noise": noise, "recipe": recipe, "members": members, "iters": iters, "seed": seed}


def skipped_ratio_rows(base: dict, why: str) -> list[dict]:
    """NaN scores and a ``skipped: why`` note for every method: the grid is too small, the case has no ocean…"""
    return [{**base, "method": method, "rmse_cm": np.nan, "ssim": np.nan, "nrmse": np.nan, "eff_res_km": np.nan,
             "seconds": np.nan, "note": f"skipped: {why}"} for method in ("dip", "ibp", "bicubic")]


def ratio_fit(fld: Field, spec: str, ratio: int, noise: float, *, recipe: str, members: int, iters: int | None,
              seed: int, device: str, tracker: Tracker, want_maps: bool = False) -> FitOutcome:
    """DIP, IBP and bicubic scores of one ``ratios`` combination; a grid too small for ``ratio`` gives NaN rows."""
    from dipcore.twin import make_twin

    base = ratio_base(spec, "×".join(map(str, fld.shape)), ratio, noise, recipe, members, iters, seed)
    try:
        twin = make_twin(fld, ratio, noise, seed=seed)
    except SSHDipError as exc:  # grid too small for this ratio: record it, do not crash
        tracker.done += 1
        return FitOutcome(f"{spec} ×{ratio} σ={noise:g}", f": skipped ({exc})", skipped_ratio_rows(base, str(exc)))
    label = f"{spec} ×{ratio} σ={noise:g} {recipe}"
    t0 = time.perf_counter()
    final, _ = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters, seed=seed, device=device)
    secs = time.perf_counter() - t0
    dip = score_row(final.estimate, twin.truth, twin.dx_km)
    bic = score_row(twin.bicubic, twin.truth, twin.dx_km)
    ibp = score_row(twin.ibp, twin.truth, twin.dx_km)
    base["iters"] = final.step
    rows = [{**base, "method": "dip", **dip, "seconds": secs, "note": ""},
            {**base, "method": "ibp", **ibp, "seconds": 0.0, "note": ""},
            {**base, "method": "bicubic", **bic, "seconds": 0.0, "note": ""}]
    text = (f": RMSE DIP {dip['rmse_cm']:.2f} cm, IBP {ibp['rmse_cm']:.2f} cm, bicubic {bic['rmse_cm']:.2f} cm "
            f"({secs:.0f} s)")
    maps = ({"truth": twin.truth, "dip": final.estimate, "bicubic": twin.bicubic, "ibp": twin.ibp,
             "field": twin.field} if want_maps else None)
    return FitOutcome(label, text, rows, maps)


def ensemble_fit(fld: Field, spec: str, ratio: int, noise: float, *, recipe: str, members: int,
                 iters: int | None, seed: int, device: str, tracker: Tracker) -> FitOutcome:
    """Scores against k = 1…K of one batched fit of K members (``ensemble-size``)."""
    from dipcore.twin import make_twin

    twin = make_twin(fld, ratio, noise, seed=seed)  # too small → SSHDipError: one fit here is the point
    label = f"{spec} ×{ratio} σ={noise:g} K={members} {recipe}"
    t0 = time.perf_counter()
    final, _ = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters, seed=seed, device=device,
                       keep_members=True)
    base = {"experiment": "ensemble-size", "case": spec, "grid": "×".join(map(str, twin.truth.shape)),
            "ratio": ratio, "noise": noise, "recipe": recipe, "iters": final.step, "seed": seed}
    rows = [{**base, **row} for row in ensemble_size_rows(final.members, twin.truth, twin.bicubic, twin.dx_km,
                                                          twin.ibp)]
    last = {row["method"]: row["rmse_cm"] for row in rows if row["k"] == members}
    text = (f": RMSE mean of {members} {last['ensemble_mean']:.2f} cm, mean member {last['mean_member']:.2f} cm, "
            f"bicubic {last['bicubic']:.2f} cm ({time.perf_counter() - t0:.0f} s)")
    return FitOutcome(label, text, rows)


def uncertainty_fit(fld: Field, spec: str, ratio: int, noise: float, *, recipe: str, members: int,
                    latent_samples: int, iters: int | None, seed: int, device: str,
                    tracker: Tracker) -> FitOutcome:
    """Ensemble, latent and total spreads of one fit (``uncertainty``); the outcome keeps the twin and the fit."""
    from dipcore.twin import make_twin
    from dipcore.uncertainty import fit_stds

    twin = make_twin(fld, ratio, noise, seed=seed)
    label = f"{spec} ×{ratio} σ={noise:g} K={members} M={latent_samples} {recipe}"
    t0 = time.perf_counter()
    final, _ = run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters, seed=seed, device=device,
                       latent_samples=latent_samples, keep_members=True)
    base = {"experiment": "uncertainty", "case": spec, "grid": "×".join(map(str, twin.truth.shape)),
            "ratio": ratio, "noise": noise, "recipe": recipe, "members": members,
            "latent_samples": latent_samples, "iters": final.step, "seed": seed,
            "bicubic_rmse_cm": 100 * metrics.rmse(twin.bicubic, twin.truth)}
    stds = fit_stds(twin, final)  # costs about a fit: computed once, here, and reused for the NetCDF
    total = stds[1] if stds is not None else None
    rows = [{**base, **row} for row in uncertainty_rows(final.estimate, twin.truth, final.member_std,
                                                        final.latent_std, final.members, total,
                                                        final.uncertainty)]
    text = (f": mean std ensemble {rows[0]['mean_std_cm']:.2f} cm, latent {rows[1]['mean_std_cm']:.2f} cm; corr "
            f"with |error| {rows[0]['corr_abs_error']:.2f} / {rows[1]['corr_abs_error']:.2f} "
            f"({time.perf_counter() - t0:.0f} s)")
    return FitOutcome(label, text, rows, twin=twin, final=final, stds=stds)


def fit_task(kind: str, spec: str, ratio: int, noise: float, *, recipe: str, members: int, iters: int | None,
             seed: int, device: str, latent_samples: int = 0, want_maps: bool = False,
             threads: int = 1) -> FitOutcome | SSHDipError:
    """One combination on a Dask worker: load the case, build the twin, fit, score (plain arguments only).

    An :class:`SSHDipError` (the case cannot be loaded, the grid is too small…) is returned, not raised: Dask
    would retry a task that raised, and this one would fail the same way every time.

    Parameters
    ----------
    kind : str
        ``ratios``, ``ensemble-size`` or ``uncertainty``.
    spec : str
        The case specification (loaded here, on the worker: its file or sample must be there at the same path).
    threads : int
        PyTorch intra-op threads: 1, so N workers on N cores do not oversubscribe them.
    Other parameters
        As in the sweeps.

    Raises
    ------
    RuntimeError
        When this worker cannot run the device asked for (no GPU): a worker's fault, not the combination's.
    """
    import torch

    from dipcore.experiments.cases import parse_case
    from dipcore.solver import resolve_device

    torch.set_num_threads(int(threads))
    try:
        resolve_device(device)
    except SSHDipError as exc:
        raise RuntimeError(f"this worker cannot run the configuration: {exc}") from None
    common: dict[str, Any] = dict(recipe=recipe, members=members, iters=iters, seed=seed, device=device,
                                  tracker=Tracker(1))
    try:
        fld = parse_case(spec).load()
        if kind == "ratios":
            return ratio_fit(fld, spec, ratio, noise, want_maps=want_maps, **common)
        if kind == "ensemble-size":
            return ensemble_fit(fld, spec, ratio, noise, **common)
        if kind == "uncertainty":
            return uncertainty_fit(fld, spec, ratio, noise, latent_samples=latent_samples, **common)
        raise SSHDipError(f"unknown experiment {kind!r}")
    except SSHDipError as exc:
        return exc


__all__ = ["Combination", "FitOutcome", "combinations", "each_field", "ensemble_fit", "fit_task", "outcome_rows",
           "ratio_base", "ratio_fit", "skipped_ratio_rows", "uncertainty_fit"]
