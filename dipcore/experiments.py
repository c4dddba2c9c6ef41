"""Experiment sweeps that reproduce the paper's figures on real SSH: ``ratios``, ``ensemble-size``, ``uncertainty``.

Each experiment degrades real fields (twin experiment), fits the deep image prior, scores it against the truth
next to the bicubic baseline, and writes under an output folder a tidy CSV, PNG figures and (``uncertainty``)
a NetCDF of the maps. The same functions serve the CLI (``ssh-dip experiment NAME --out DIR``) and the
explorer, which passes ``on_progress(message, fraction)`` and ``should_stop()`` callbacks.

``ratios``
    RMSE, SSIM, nRMSE µ and effective resolution against the ratio ×1…×32, DIP vs bicubic, with and without
    noise, averaged over several snapshots (paper Fig. 3).
``ensemble-size``
    Scores of the mean of the first k members, k = 1…K, from one batched fit of K members, next to the mean
    single-member score (paper Fig. 5 and 9).
``uncertainty``
    Latent-sample std and ensemble std maps next to |error|, their correlation with |error|, spread/skill,
    CRPS, and a binned spread-vs-error plot (paper Fig. 6).

Case specifications: ``sample[:time][@y0:y1,x0:x1]`` (``mediterranean:3``, ``blacksea@0:32,0:64``) or a NetCDF
path (optionally followed by ``@y0:y1,x0:x1``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from dipcore import metrics
from dipcore.degrade import LADDER_NAMES, RATIOS
from dipcore.errors import SSHDipError
from dipcore.uncertainty import fit_stds
from dipcore.io import Field
from dipcore.samples import SAMPLES

ProgressFn = Callable[[str, float], None]
StopFn = Callable[[], bool]

#: Messages passed to ``on_progress`` while a fit runs contain this marker; the line that closes a fit does not.
STEP_MARKER = ": step "


class ExperimentCancelled(RuntimeError):
    """Raised inside a sweep when ``should_stop()`` returns True (the UI's Stop button)."""


def _fit_module():
    # dipcore/__init__ re-exports the function ``fit``, which shadows the module attribute: go via importlib.
    return importlib.import_module("dipcore.solver")


def default_recipe() -> str:
    """The current default recipe name, read at call time (recipes may be added while we run)."""
    return _fit_module().DEFAULT_RECIPE


# --------------------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One snapshot to degrade: a sample name or a file, a time index and an optional index crop."""

    spec: str
    source: str
    time: int = 0
    index_crop: tuple[int, int, int, int] | None = None

    def load(self) -> Field:
        """Load the field (metres, NaN on land)."""
        from dipcore.io import load_field
        from dipcore.samples import load_sample

        kw = {"time": self.time, "index_crop": self.index_crop}
        if self.source in SAMPLES and not Path(self.source).exists():
            return load_sample(self.source, **kw)
        return load_field(self.source, **kw)


def parse_case(spec: str) -> Case:
    """Parse ``sample[:time][@y0:y1,x0:x1]`` or ``path[@y0:y1,x0:x1]``.

    Raises
    ------
    SSHDipError
        For an unknown sample, a missing file, or a malformed time or crop.
    """
    text = spec.strip()
    if not text:
        raise SSHDipError("empty case specification")
    crop = None
    if "@" in text:
        text, box = text.split("@", 1)
        try:
            ys, xs = box.split(",")
            y0, y1 = (int(v) for v in ys.split(":"))
            x0, x1 = (int(v) for v in xs.split(":"))
        except ValueError:
            raise SSHDipError(f"case {spec!r}: the crop must read @y0:y1,x0:x1 (integers)") from None
        crop = (y0, y1, x0, x1)
    if Path(text).exists():
        return Case(spec, text, 0, crop)
    name, _, t = text.partition(":")
    if name not in SAMPLES:
        raise SSHDipError(f"case {spec!r} is neither an existing file nor a sample (samples: {', '.join(SAMPLES)})")
    try:
        time_index = int(t) if t else SAMPLES[name].time
    except ValueError:
        raise SSHDipError(f"case {spec!r}: the time index after ':' must be an integer") from None
    if time_index < 0:
        raise SSHDipError(f"case {spec!r}: the time index must be ≥ 0")
    return Case(spec, name, time_index, crop)


# --------------------------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------------------------

def cumulative_means(members: np.ndarray) -> np.ndarray:
    """Mean of the first k members for every k: ``out[k-1] = members[:k].mean(axis=0)``.

    Parameters
    ----------
    members : np.ndarray
        (K, ...) stack of member fields.

    Returns
    -------
    np.ndarray
        (K, ...) float64; NaN (land) propagates.
    """
    m = np.asarray(members, dtype=np.float64)
    if m.ndim < 1 or m.shape[0] < 1:
        raise SSHDipError("cumulative_means needs at least one member")
    counts = np.arange(1, m.shape[0] + 1, dtype=np.float64).reshape(-1, *([1] * (m.ndim - 1)))
    return np.cumsum(m, axis=0) / counts


def gaussian_crps(mean: np.ndarray, std: np.ndarray, truth: np.ndarray) -> float:
    """Mean CRPS of a Gaussian forecast N(mean, std²) over cells where all three are finite (metres).

    Used for the latent-sample spread, for which only the mean and std are kept.
    """
    from scipy.stats import norm

    m = np.isfinite(mean) & np.isfinite(std) & np.isfinite(truth)
    s = np.maximum(std[m].astype(np.float64), 1e-12)
    z = (truth[m] - mean[m]) / s
    crps = s * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(crps.mean()) if crps.size else float("nan")


def score_row(estimate: np.ndarray, truth: np.ndarray, dx_km: float | None) -> dict[str, float]:
    """RMSE (cm), SSIM, nRMSE µ and effective resolution (km, NaN when the spacing is unknown)."""
    s = metrics.scores(estimate, truth, dx_km)
    return {"rmse_cm": 100 * s["rmse"], "ssim": s["ssim"], "nrmse": s["nrmse"],
            "eff_res_km": s.get("eff_res_km", float("nan"))}


# --------------------------------------------------------------------------------------------------------------
# Running fits with progress and cancellation
# --------------------------------------------------------------------------------------------------------------

@dataclass
class _Tracker:
    """Counts fits, forwards progress to the callback and checks the stop flag."""

    total: int
    on_progress: ProgressFn | None = None
    should_stop: StopFn | None = None
    done: int = 0

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise ExperimentCancelled("experiment cancelled")

    def say(self, message: str, within: float = 0.0) -> None:
        if self.on_progress is not None:
            self.on_progress(message, min(1.0, (self.done + within) / max(self.total, 1)))


def _run_fit(twin, tracker: _Tracker, label: str, *, recipe: str, members: int, iters: int | None, seed: int,
             device: str, latent_samples: int = 0, keep_members: bool = False):
    """One fit to the end, reporting every few steps and checking for cancellation between events."""
    fitmod = _fit_module()
    n = int(iters or fitmod.get_recipe(recipe).iters)
    tracker.check()
    gen = fitmod.fit(twin.observation, twin.degradation, recipe, members=members, latent_samples=latent_samples,
                     iters=n, seed=seed, device=device, every=max(1, n // 20), keep_members=keep_members)
    head = f"[{tracker.done + 1}/{tracker.total}] {label}"
    final = None
    try:
        for final in gen:
            tracker.check()
            tracker.say(f"{head}{STEP_MARKER}{final.step}/{final.iters}", final.step / final.iters)
    finally:
        gen.close()  # stops the work at once when cancelled
    tracker.done += 1
    return final, head


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------

@dataclass
class ExperimentResult:
    """What a sweep produced.

    Attributes
    ----------
    name : str
        Experiment name.
    table : pandas.DataFrame
        The tidy table (also written as ``<name>.csv``).
    summary : pandas.DataFrame
        A compact view (means over cases) printed as text.
    out : Path or None
        The output folder.
    figures : list of Path
        PNG files written.
    files : list of Path
        All files written (CSV, PNG, NetCDF, JSON).
    """

    name: str
    table: pd.DataFrame
    summary: pd.DataFrame
    out: Path | None = None
    figures: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """The summary as a plain text table."""
        return self.summary.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _prepare_out(out: str | Path | None) -> Path | None:
    if out is None:
        return None
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise SSHDipError(f"--out {p} exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SSHDipError(f"cannot create the output folder {p}: {exc}") from exc
    return p


def _git_head() -> str | None:
    """The repository's commit (and ``+dirty`` with uncommitted changes), when git is at hand."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "dipcore"], cwd=root, capture_output=True,
                               text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def _write(result: ExperimentResult, config: dict) -> None:
    """Write the CSV tables and the configuration next to the figures."""
    if result.out is None:
        return
    csv = result.out / f"{result.name}.csv"
    result.table.to_csv(csv, index=False, float_format="%.6g")
    summ = result.out / f"{result.name}_summary.csv"
    result.summary.to_csv(summ, index=False, float_format="%.6g")
    cfg = result.out / "config.json"
    config = dict(config)
    try:  # recipes change under development: keep every field of the one used, not only its name
        from dataclasses import asdict

        config["recipe_fields"] = asdict(_fit_module().get_recipe(config.get("recipe") or default_recipe()))
    except Exception:  # a recipe that cannot be resolved any more must not lose the results
        pass
    config["dipcore_git"] = _git_head()
    cfg.write_text(json.dumps(config, indent=2, default=str))
    result.files[:0] = [csv, summ, cfg]


# --------------------------------------------------------------------------------------------------------------
# Experiment: ratios (paper Fig. 3)
# --------------------------------------------------------------------------------------------------------------

RATIO_COLUMNS = ["experiment", "case", "grid", "ratio", "level", "noise", "method", "recipe", "members", "iters",
                 "seed", "rmse_cm", "ssim", "nrmse", "eff_res_km", "seconds", "note"]


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
    _fit_module().get_recipe(recipe)
    parsed, outdir = _check_common(cases, ratios, noises, out)
    fields = {c.spec: c.load() for c in parsed}
    tracker = _Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
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
                final, head = _run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
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
                _checkpoint(outdir, "ratios", rows, RATIO_COLUMNS)
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
    _write(result, {"experiment": "ratios", "cases": list(cases), "ratios": list(ratios),
                    "noises": list(noises), "recipe": recipe, "members": members, "iters": iters,
                    "seed": seed, "device": device})
    return result


def ratios_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over cases of each score, per ratio × noise × method, with the number of cases averaged."""
    ok = table[table["note"].fillna("") == ""]
    if ok.empty:
        return pd.DataFrame(columns=["ratio", "noise", "method", "n_cases", "rmse_cm", "ssim", "nrmse",
                                     "eff_res_km"])
    g = ok.groupby(["ratio", "noise", "method"], as_index=False)
    out = g.agg(n_cases=("case", "nunique"), rmse_cm=("rmse_cm", "mean"), ssim=("ssim", "mean"),
                nrmse=("nrmse", "mean"), eff_res_km=("eff_res_km", "mean"))
    return out.sort_values(["noise", "ratio", "method"], ascending=[True, True, False]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# Experiment: ensemble size (paper Fig. 5 and 9)
# --------------------------------------------------------------------------------------------------------------

ENSEMBLE_COLUMNS = ["experiment", "case", "grid", "ratio", "noise", "recipe", "iters", "seed", "k", "method",
                    "rmse_cm", "ssim", "nrmse", "eff_res_km"]
ENSEMBLE_METHODS = ("ensemble_mean", "mean_member", "best_member", "ibp", "bicubic")


def ensemble_size_rows(members: np.ndarray, truth: np.ndarray, bicubic: np.ndarray,
                       dx_km: float | None, ibp: np.ndarray | None = None) -> list[dict]:
    """Scores per k = 1…K of the mean of the first k members, the mean and best score of those k members
    (each scored alone), and the bicubic and (when given) IBP baselines (the same for every k).

    Parameters
    ----------
    members : np.ndarray
        (K, H, W) member fields, metres, NaN on land.
    truth, bicubic : np.ndarray
        (H, W) truth and baseline.
    dx_km : float, optional
        Grid spacing for the effective resolution.
    """
    single = [score_row(m, truth, dx_km) for m in members]
    means = cumulative_means(members)
    bic = score_row(bicubic, truth, dx_km)
    keys = ("rmse_cm", "ssim", "nrmse", "eff_res_km")
    lower_is_better = {"rmse_cm": True, "ssim": False, "nrmse": False, "eff_res_km": True}
    rows = []
    for k in range(1, members.shape[0] + 1):
        first = single[:k]
        best = {key: (min if lower_is_better[key] else max)(s[key] for s in first) for key in keys}
        rows.append({"k": k, "method": "ensemble_mean", **score_row(means[k - 1], truth, dx_km)})
        rows.append({"k": k, "method": "mean_member", **{key: float(np.mean([s[key] for s in first]))
                                                         for key in keys}})
        rows.append({"k": k, "method": "best_member", **best})
        rows.append({"k": k, "method": "bicubic", **bic})
        if ibp is not None:
            rows.append({"k": k, "method": "ibp", **score_row(ibp, truth, dx_km)})
    return rows


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
    _fit_module().get_recipe(recipe)
    if members < 2:
        raise SSHDipError(f"ensemble-size needs at least 2 members; got {members}")
    parsed, outdir = _check_common(cases, ratios, noises, out)
    tracker = _Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
    rows: list[dict] = []
    for case in parsed:
        fld = case.load()
        for r in ratios:
            for noise in noises:
                twin = make_twin(fld, r, noise, seed=seed)  # too small → SSHDipError: one fit here is the point
                label = f"{case.spec} ×{r} σ={noise:g} K={members} {recipe}"
                t0 = time.perf_counter()
                final, head = _run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
                                       seed=seed, device=device, keep_members=True)
                base = {"experiment": "ensemble-size", "case": case.spec,
                        "grid": "×".join(map(str, twin.truth.shape)), "ratio": r, "noise": noise,
                        "recipe": recipe, "iters": final.step, "seed": seed}
                new = [{**base, **row} for row in ensemble_size_rows(final.members, twin.truth, twin.bicubic,
                                                                     twin.dx_km, twin.ibp)]
                rows.extend(new)
                _checkpoint(outdir, "ensemble-size", rows, ENSEMBLE_COLUMNS)
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
    _write(result, {"experiment": "ensemble-size", "cases": list(cases), "ratios": list(ratios),
                    "noises": list(noises), "recipe": recipe, "members": members, "iters": iters, "seed": seed,
                    "device": device})
    return result


def ensemble_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Wide view: per ratio × noise × k, the RMSE (cm) and SSIM of each method, averaged over cases."""
    g = table.groupby(["ratio", "noise", "k", "method"])[["rmse_cm", "ssim"]].mean().unstack("method")
    g.columns = [f"{score}_{method}" for score, method in g.columns]
    order = [f"{s}_{m}" for s in ("rmse_cm", "ssim") for m in ENSEMBLE_METHODS if f"{s}_{m}" in g.columns]
    return g[order].reset_index()


# --------------------------------------------------------------------------------------------------------------
# Experiment: uncertainty (paper Fig. 6)
# --------------------------------------------------------------------------------------------------------------

UNCERTAINTY_COLUMNS = ["experiment", "case", "grid", "ratio", "noise", "recipe", "members", "latent_samples",
                       "iters", "seed", "source", "mean_std_cm", "rms_std_cm", "rmse_cm", "bicubic_rmse_cm",
                       "corr_abs_error", "spread_skill", "crps_cm", "crps_gauss_cm"]


def uncertainty_rows(estimate: np.ndarray, truth: np.ndarray, member_std: np.ndarray, latent_std: np.ndarray,
                     members: np.ndarray | None, total: np.ndarray | None = None) -> list[dict]:
    """Diagnostics of the spreads: ``ensemble`` across members, ``latent`` across latent draws and, when given,
    ``total``: the ensemble spread and the calibrated sub-grid std (:mod:`dipcore.uncertainty`) in quadrature.

    ``crps_cm`` is the empirical ensemble CRPS (ensemble only: latent draws are not kept); ``crps_gauss_cm``
    treats each spread as a Gaussian around the estimate, so the sources compare on the same footing.
    """
    rows = []
    ocean = np.isfinite(truth) & np.isfinite(estimate)
    sources = [("ensemble", member_std), ("latent", latent_std)]
    if total is not None:
        sources.append(("total", total))
    for source, std in sources:
        ok = ocean & np.isfinite(std)
        rows.append({
            "source": source,
            "mean_std_cm": 100 * float(std[ok].mean()),
            "rms_std_cm": 100 * float(np.sqrt(np.mean(std[ok] ** 2))),
            "rmse_cm": 100 * metrics.rmse(estimate, truth),
            "corr_abs_error": metrics.error_std_correlation(std, estimate, truth),
            "spread_skill": metrics.spread_skill(std, estimate, truth),
            "crps_cm": 100 * metrics.crps_ensemble(members, truth) if source == "ensemble" and members is not None
            else float("nan"),
            "crps_gauss_cm": 100 * gaussian_crps(estimate, std, truth),
        })
    return rows


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
    from dipcore.export import result_dataset, write_netcdf as write_nc
    from dipcore.twin import make_twin

    recipe = recipe or default_recipe()
    _fit_module().get_recipe(recipe)
    if members < 2 or latent_samples < 2:
        raise SSHDipError(f"uncertainty needs ≥ 2 members and ≥ 2 latent samples; got {members} and "
                          f"{latent_samples}")
    parsed, outdir = _check_common(cases, ratios, noises, out)
    tracker = _Tracker(len(parsed) * len(ratios) * len(noises), on_progress, should_stop)
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
                final, head = _run_fit(twin, tracker, label, recipe=recipe, members=members, iters=iters,
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
    _write(result, {"experiment": "uncertainty", "cases": list(cases), "ratios": list(ratios),
                    "noises": list(noises), "recipe": recipe, "members": members,
                    "latent_samples": latent_samples, "iters": iters, "seed": seed, "device": device})
    return result


def _check_common(cases: Sequence[str], ratios: Sequence[int], noises: Sequence[float],
                  out: str | Path | None) -> tuple[list[Case], Path | None]:
    bad = [r for r in ratios if r not in RATIOS]
    if bad or not ratios:
        raise SSHDipError(f"ratios must be among {', '.join(map(str, RATIOS))}; got {list(ratios)}")
    if not noises or any(not np.isfinite(s) or s < 0 for s in noises):
        raise SSHDipError(f"noise fractions must be finite and ≥ 0; got {list(noises)}")
    parsed = [parse_case(c) for c in cases]
    if not parsed:
        raise SSHDipError("give at least one case")
    return parsed, _prepare_out(out)


def _checkpoint(outdir: Path | None, name: str, rows: list[dict], columns: list[str]) -> None:
    """Write the rows so far, so a long sweep that is killed still leaves its finished fits on disk."""
    if outdir is not None:
        pd.DataFrame(rows, columns=columns).to_csv(outdir / f"{name}.csv", index=False, float_format="%.6g")


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in Path(text).name).strip("-") or "case"


# --------------------------------------------------------------------------------------------------------------
# Figures (matplotlib, Agg: no display needed, no UI library in dipcore)
# --------------------------------------------------------------------------------------------------------------

_LAND = "0.75"  # land in neutral grey on every map
_SCORES = (("rmse_cm", "RMSE (cm)"), ("ssim", "SSIM"), ("nrmse", "nRMSE score µ (1 = perfect)"),
           ("eff_res_km", "effective resolution (km)"))


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _origin(fld: Field) -> str:
    """``lower`` when latitude grows with the row index (so north is up), else ``upper``."""
    da = fld.data
    for name in ("latitude", "lat", "nav_lat", "lat_rho", da.dims[0]):
        if name in da.coords:
            v = np.asarray(da.coords[name].values, dtype=np.float64)
            col = v[:, 0] if v.ndim == 2 else v
            if col.ndim == 1 and col.size > 1 and np.isfinite(col[[0, -1]]).all():
                return "lower" if col[-1] > col[0] else "upper"
    return "lower"


def _map(ax, values: np.ndarray, fld: Field, cmap: str, vmin: float, vmax: float, title: str):
    """One map panel, land (NaN) in grey; returns the image for a colorbar."""
    plt = _plt()
    cm = plt.get_cmap(cmap).with_extremes(bad=_LAND)
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cm, vmin=vmin, vmax=vmax, origin=_origin(fld),
                   interpolation="nearest", aspect="auto")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _robust_max(*arrays: np.ndarray, q: float = 99.0) -> float:
    vals = np.concatenate([np.abs(a[np.isfinite(a)]).ravel() for a in arrays])
    return float(np.percentile(vals, q)) if vals.size else 1.0


def plot_ratios(table: pd.DataFrame, path: Path, recipe: str) -> Path:
    """Four panels (RMSE, SSIM, nRMSE, effective resolution) against the ratio; DIP vs bicubic, one line style
    per noise level; means over the cases that fit each ratio."""
    plt = _plt()
    summ = ratios_summary(table)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    colors = {"dip": "C0", "bicubic": "C1", "ibp": "C3"}
    names = {"dip": "DIP", "bicubic": "bicubic", "ibp": "IBP"}
    for ax, (key, label) in zip(axes.ravel(), _SCORES):
        for ni, noise in enumerate(sorted(summ["noise"].unique())):
            for method in ("dip", "ibp", "bicubic"):
                d = summ[(summ["noise"] == noise) & (summ["method"] == method)].sort_values("ratio")
                if d.empty or not np.isfinite(d[key]).any():
                    continue
                ax.plot(d["ratio"], d[key], styles[ni % 4], marker="o", color=colors[method],
                        label=f"{names[method]}, noise {noise:g}·std")
        ax.set_xscale("log", base=2)
        ticks = sorted(summ["ratio"].unique()) if not summ.empty else list(RATIOS)
        ax.set_xticks(ticks, [f"×{t}" for t in ticks])
        ax.set_xlabel("downscaling ratio")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    n = table["case"].nunique()
    fig.suptitle(f"Scores vs downscaling ratio, mean of {n} case(s), recipe '{recipe}' (cf. paper Fig. 3)")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_ratio_maps(maps: dict[int, dict], path: Path, case: str, noise: float) -> Path:
    """Per ratio: the DIP estimate and the DIP and bicubic errors, for the first case (cf. paper Fig. 4 and 7)."""
    plt = _plt()
    ratios = sorted(maps)
    fig, axes = plt.subplots(3, len(ratios), figsize=(max(6.5, 2.6 * len(ratios) + 1.2), 6.6), squeeze=False,
                             constrained_layout=True)
    truth = maps[ratios[0]]["truth"]
    lo, hi = float(np.nanmin(truth)), float(np.nanmax(truth))
    errs = [m[k] - m["truth"] for m in maps.values() for k in ("dip", "bicubic")]
    emax = 100 * _robust_max(*errs)  # errors shown in cm
    ims = []
    for j, r in enumerate(ratios):
        m = maps[r]
        ims.append(_map(axes[0, j], m["dip"], m["field"], "viridis", lo, hi, f"DIP estimate ×{r}"))
        ims.append(_map(axes[1, j], 100 * (m["dip"] - m["truth"]), m["field"], "RdBu_r", -emax, emax, f"DIP error ×{r}"))
        ims.append(_map(axes[2, j], 100 * (m["bicubic"] - m["truth"]), m["field"], "RdBu_r", -emax, emax,
                        f"bicubic error ×{r}"))
    fig.colorbar(ims[0], ax=list(axes[0]), label="SSH (m)", shrink=0.9)
    fig.colorbar(ims[1], ax=list(axes[1:].ravel()), label="estimate − truth (cm)", shrink=0.9)
    fig.suptitle(f"{case}, noise {noise:g}·std: estimates and errors per ratio (land grey)",
                 fontsize=10 if len(ratios) > 2 else 9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_ensemble_size(table: pd.DataFrame, path: Path, recipe: str) -> Path:
    """RMSE and SSIM against k: mean of the first k members vs the mean and best member, bicubic as a line."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    labels = {"ensemble_mean": "mean of first k members", "mean_member": "average single-member score",
              "best_member": "best of the k members", "bicubic": "bicubic", "ibp": "IBP (no network)"}
    styles = {"ensemble_mean": ("C0", "-o"), "mean_member": ("C2", "--s"), "best_member": ("C4", ":^"),
              "bicubic": ("C1", "-"), "ibp": ("C3", "-")}
    groups = table.groupby(["ratio", "noise"])
    for (r, noise), d in groups:
        mean = d.groupby(["k", "method"])[["rmse_cm", "ssim"]].mean().reset_index()
        for ax, key, lab in ((axes[0], "rmse_cm", "RMSE (cm)"), (axes[1], "ssim", "SSIM")):
            for method in ENSEMBLE_METHODS:
                e = mean[mean["method"] == method]
                if e.empty:  # tables written before IBP was a baseline
                    continue
                color, style = styles[method]
                tag = f" (×{r}, noise {noise:g})" if len(groups) > 1 else ""
                ax.plot(e["k"], e[key], style, color=color, label=labels[method] + tag, markersize=4)
            ax.set_xticks(sorted(int(k) for k in table["k"].unique()))  # members are whole numbers
            ax.set_xlabel("number of members k")
            ax.set_ylabel(lab)
            ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    desc = ", ".join(f"×{r} noise {n:g}" for r, n in groups.groups)
    fig.suptitle(f"Ensemble size, {table['case'].nunique()} case(s), {desc}, recipe '{recipe}' "
                 "(cf. paper Fig. 5)")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_uncertainty_maps(twin, final, path: Path, title: str, total: np.ndarray | None = None) -> Path:
    """Truth, estimate, |errors|, ensemble and latent std (one colour scale) and the calibrated ``total`` std
    (:func:`dipcore.uncertainty.fit_stds`; its panel stays blank without it)."""
    plt = _plt()
    fld = twin.field
    err = np.abs(final.estimate - twin.truth)
    fig, axes = plt.subplots(2, 4, figsize=(17, 6.5), constrained_layout=True)
    lo, hi = float(np.nanmin(twin.truth)), float(np.nanmax(twin.truth))
    im = _map(axes[0, 0], twin.truth, fld, "viridis", lo, hi, "truth")
    fig.colorbar(im, ax=axes[0, 0], label="SSH (m)")
    im = _map(axes[0, 1], final.estimate, fld, "viridis", lo, hi, "DIP estimate (ensemble mean)")
    fig.colorbar(im, ax=axes[0, 1], label="SSH (m)")
    emax = 100 * _robust_max(err)
    im = _map(axes[0, 2], 100 * np.abs(twin.bicubic - twin.truth), fld, "magma", 0, emax, "|bicubic error|")
    fig.colorbar(im, ax=axes[0, 2], label="cm")
    im = _map(axes[0, 3], 100 * err, fld, "magma", 0, emax, "|DIP error|")
    fig.colorbar(im, ax=axes[0, 3], label="cm")
    smax = 100 * _robust_max(final.member_std, final.latent_std)
    for ax, std, name in ((axes[1, 0], final.member_std, "ensemble std"),
                          (axes[1, 1], final.latent_std, "latent-sample std")):
        c = metrics.error_std_correlation(std, final.estimate, twin.truth)
        im = _map(ax, 100 * std, fld, "magma", 0, smax, f"{name} (corr. with |error| {c:.2f})")
        fig.colorbar(im, ax=ax, label="cm")
    if total is not None:
        c = metrics.error_std_correlation(total, final.estimate, twin.truth)
        ss = metrics.spread_skill(total, final.estimate, twin.truth)
        im = _map(axes[1, 2], 100 * total, fld, "magma", 0, emax,
                  f"total std, |error| scale (corr. {c:.2f}, spread/skill {ss:.2f})")
        fig.colorbar(im, ax=axes[1, 2], label="cm")
    else:
        axes[1, 2].set_axis_off()
    axes[1, 3].set_axis_off()
    fig.suptitle(f"Uncertainty, {title} (land grey; cf. paper Fig. 6). Total std = ensemble std and the "
                 "calibrated sub-grid std in quadrature")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_spread_error(twin, final, path: Path, title: str) -> Path:
    """Binned spread vs RMS error for both spreads, with the 1:1 line of a calibrated spread."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5), constrained_layout=True)
    top = 0.0
    for std, label, color in ((final.member_std, "ensemble std", "C0"), (final.latent_std, "latent std", "C3")):
        s, e = metrics.spread_error_bins(std, final.estimate, twin.truth)
        ax.plot(100 * s, 100 * e, "o-", color=color, label=label)
        top = max(top, float(np.nanmax(100 * s, initial=0)), float(np.nanmax(100 * e, initial=0)))
    ax.plot([0, top], [0, top], "k--", lw=1, label="1:1 (calibrated)")
    ax.set_xlabel("mean std in bin (cm)")
    ax.set_ylabel("RMS error in bin (cm)")
    ax.set_title(f"Spread vs error (10 std quantile bins)\n{title}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------------------------
# Registry, defaults and the CLI
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Default settings of one experiment (``full`` is what docs/results uses, ``quick`` is a CI smoke run)."""

    cases: tuple[str, ...]
    ratios: tuple[int, ...]
    noises: tuple[float, ...]
    members: int
    iters: int | None = None
    latent_samples: int = 0


_QUICK_CASE = ("blacksea@0:32,0:64",)
EXPERIMENTS: dict[str, dict[str, Settings]] = {
    "ratios": {
        "full": Settings(("mediterranean:0", "mediterranean:3", "gulfstream", "kuroshio", "roms_txla:1"),
                         (1, 2, 4, 8, 16, 32), (0.0, 0.05), 1),
        "quick": Settings(_QUICK_CASE, (2, 4), (0.05,), 1, 5),
    },
    "ensemble-size": {
        "full": Settings(("gulfstream", "kuroshio", "mediterranean:3"), (16,), (0.0,), 8),
        "quick": Settings(_QUICK_CASE, (4,), (0.0,), 3, 5),
    },
    "uncertainty": {
        "full": Settings(("gulfstream",), (16,), (0.0,), 8, None, 32),
        "quick": Settings(_QUICK_CASE, (4,), (0.0,), 2, 5, 4),
    },
}


def run_experiment(name: str, *, quick: bool = False, cases: Sequence[str] | None = None,
                   ratios: Sequence[int] | None = None, noises: Sequence[float] | None = None,
                   members: int | None = None, latent_samples: int | None = None, iters: int | None = None,
                   recipe: str | None = None, seed: int = 0, device: str = "auto", out: str | Path | None = None,
                   on_progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> ExperimentResult:
    """Run experiment ``name`` with its full (or ``quick``) defaults for every setting left as None.

    Parameters
    ----------
    name : str
        ``ratios``, ``ensemble-size`` or ``uncertainty``.
    quick : bool
        Tiny smoke settings (one small crop, a few iterations).
    Other parameters
        As in :func:`run_ratios`, :func:`run_ensemble_size` and :func:`run_uncertainty`.
    """
    if name not in EXPERIMENTS:
        raise SSHDipError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    d = EXPERIMENTS[name]["quick" if quick else "full"]
    kw = dict(cases=list(cases or d.cases), ratios=list(ratios or d.ratios),
              noises=list(noises if noises is not None else d.noises), recipe=recipe or default_recipe(),
              iters=iters if iters is not None else d.iters, seed=seed, device=device, out=out,
              on_progress=on_progress, should_stop=should_stop, members=members or d.members)
    if name == "ratios":
        return run_ratios(**kw)
    if name == "ensemble-size":
        return run_ensemble_size(**kw)
    return run_uncertainty(latent_samples=latent_samples or d.latent_samples, **kw)


def load_results(folder: str | Path) -> ExperimentResult:
    """Read an output folder written by an experiment (its CSV and PNGs), e.g. ``docs/results/ratios``.

    Raises
    ------
    SSHDipError
        When the folder holds no experiment CSV.
    """
    p = Path(folder)
    if not p.is_dir():
        raise SSHDipError(f"{p} is not a folder")
    for name in EXPERIMENTS:
        csv = p / f"{name}.csv"
        if csv.exists():
            table = pd.read_csv(csv)
            summ_path = p / f"{name}_summary.csv"
            summary = pd.read_csv(summ_path) if summ_path.exists() else table
            figures = sorted(p.glob("*.png"))
            return ExperimentResult(name, table, summary, p, figures, sorted(p.iterdir()))
    raise SSHDipError(f"{p} holds no experiment table ({', '.join(f'{n}.csv' for n in EXPERIMENTS)})")


def _float_list(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (np.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number ≥ 0")
    return v


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be ≥ {minimum}")
        return v
    return parse


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``experiment`` subcommand to the ``ssh-dip`` subparsers ``sub``."""
    e = sub.add_parser("experiment", help="run a sweep reproducing a paper figure (CSV, PNG, NetCDF)",
                       description="Experiments: ratios (paper Fig. 3), ensemble-size (Fig. 5/9), "
                                   "uncertainty (Fig. 6). Options left out take the experiment's full defaults "
                                   "(or the --quick ones).")
    e.add_argument("name", choices=list(EXPERIMENTS), help="experiment")
    e.add_argument("--out", required=True, help="output folder (created)")
    e.add_argument("--cases", nargs="+", metavar="CASE",
                   help="sample[:time][@y0:y1,x0:x1] or a NetCDF path, e.g. mediterranean:3 gulfstream")
    e.add_argument("--ratios", nargs="+", type=int, choices=RATIOS, metavar="R", help="ratios among 1 2 4 8 16 32")
    e.add_argument("--noise", nargs="+", type=_float_list, metavar="F",
                   help="noise std as fractions of the field std (e.g. 0 0.05)")
    e.add_argument("--members", type=_int_at_least(1), help="ensemble size K")
    e.add_argument("--latent-samples", type=_int_at_least(2), help="latent draws M (uncertainty)")
    e.add_argument("--iters", type=_int_at_least(1), help="iterations per fit (default: the recipe's)")
    e.add_argument("--recipe", help="fit recipe (default: the current default recipe; 'paper' for the paper's)")
    e.add_argument("--seed", type=int, default=0, help="seed of noise and initialisation")
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    e.add_argument("--quick", action="store_true", help="tiny smoke settings (CI)")
    e.set_defaults(func=cmd_experiment)
    return e


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run the experiment of ``args``; print the summary table; one progress line per fit on stderr."""
    def progress(message: str, fraction: float) -> None:
        if STEP_MARKER not in message:
            print(message, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    res = run_experiment(args.name, quick=args.quick, cases=args.cases, ratios=args.ratios, noises=args.noise,
                         members=args.members, latent_samples=args.latent_samples, iters=args.iters,
                         recipe=args.recipe, seed=args.seed, device=args.device, out=args.out,
                         on_progress=progress)
    print(res.text())
    print(f"{args.name}: {len(res.table)} rows, {len(res.files)} files in {res.out} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


__all__ = ["Case", "EXPERIMENTS", "ExperimentCancelled", "ExperimentResult", "Settings", "add_parser",
           "cmd_experiment", "cumulative_means", "default_recipe", "ensemble_size_rows", "gaussian_crps",
           "load_results", "parse_case", "run_ensemble_size", "run_experiment", "run_ratios", "run_uncertainty",
           "uncertainty_rows"]
