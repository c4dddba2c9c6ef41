"""Pure scoring helpers and the tidy tables of the sweeps: their columns, rows from arrays, and their summaries.

No fit and no file here: every function turns arrays (metres, NaN on land) or tables into rows or tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dipcore import metrics
from dipcore.metrics import gaussian_crps  # noqa: F401  (the experiments' name for it)
from dipcore.errors import SSHDipError

RATIO_COLUMNS = ["experiment", "case", "grid", "ratio", "level", "noise", "method", "recipe", "members", "iters",
                 "seed", "rmse_cm", "ssim", "nrmse", "eff_res_km", "seconds", "note"]
ENSEMBLE_COLUMNS = ["experiment", "case", "grid", "ratio", "noise", "recipe", "iters", "seed", "k", "method",
                    "rmse_cm", "ssim", "nrmse", "eff_res_km"]
ENSEMBLE_METHODS = ("ensemble_mean", "mean_member", "best_member", "ibp", "bicubic")
UNCERTAINTY_COLUMNS = ["experiment", "case", "grid", "ratio", "noise", "recipe", "members", "latent_samples",
                       "iters", "seed", "source", "mean_std_cm", "rms_std_cm", "rmse_cm", "bicubic_rmse_cm",
                       "corr_abs_error", "spread_skill", "crps_cm", "crps_gauss_cm", "coverage_2sigma",
                       "crps_flat_cm"]


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


def score_row(estimate: np.ndarray, truth: np.ndarray, dx_km: float | None) -> dict[str, float]:
    """RMSE (cm), SSIM, nRMSE µ and effective resolution (km, NaN when the spacing is unknown)."""
    s = metrics.scores(estimate, truth, dx_km)
    return {"rmse_cm": 100 * s["rmse"], "ssim": s["ssim"], "nrmse": s["nrmse"],
            "eff_res_km": s.get("eff_res_km", float("nan"))}


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


def uncertainty_rows(estimate: np.ndarray, truth: np.ndarray, member_std: np.ndarray, latent_std: np.ndarray,
                     members: np.ndarray | None, total: np.ndarray | None = None,
                     predictive: np.ndarray | None = None) -> list[dict]:
    """Diagnostics of the spreads: ``ensemble`` across members, ``latent`` across latent draws and, when given,
    ``total`` (the ensemble spread and the earlier gradient-based sub-grid std in quadrature) and ``predictive``
    (the calibrated uncertainty every output carries, :func:`dipcore.uncertainty.predictive_std`).

    ``crps_cm`` is the empirical ensemble CRPS (ensemble only: latent draws are not kept); ``crps_gauss_cm``
    treats each spread as a Gaussian around the estimate, so the sources compare on the same footing;
    ``crps_flat_cm`` is that of a flat σ equal to the true RMSE (an oracle), the same on every row.
    """
    rows = []
    ocean = np.isfinite(truth) & np.isfinite(estimate)
    sources = [("ensemble", member_std), ("latent", latent_std), ("total", total), ("predictive", predictive)]
    for source, std in [(name, s) for name, s in sources if s is not None]:
        ok = ocean & np.isfinite(std)
        cal = metrics.calibration(std, estimate, truth)
        rows.append({
            "source": source,
            "mean_std_cm": 100 * float(std[ok].mean()),
            "rms_std_cm": 100 * float(np.sqrt(np.mean(std[ok] ** 2))),
            "rmse_cm": 100 * metrics.rmse(estimate, truth),
            "corr_abs_error": cal["corr"], "spread_skill": cal["spread_skill"],  # computed by calibration() above
            "crps_cm": 100 * metrics.crps_ensemble(members, truth) if source == "ensemble" and members is not None
            else float("nan"),
            "crps_gauss_cm": cal["crps_cm"], "coverage_2sigma": cal["coverage_2sigma"],
            "crps_flat_cm": cal["crps_flat_cm"],
        })
    return rows


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


def ensemble_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Wide view: per ratio × noise × k, the RMSE (cm) and SSIM of each method, averaged over cases."""
    g = table.groupby(["ratio", "noise", "k", "method"])[["rmse_cm", "ssim"]].mean().unstack("method")
    g.columns = [f"{score}_{method}" for score, method in g.columns]
    order = [f"{s}_{m}" for s in ("rmse_cm", "ssim") for m in ENSEMBLE_METHODS if f"{s}_{m}" in g.columns]
    return g[order].reset_index()


__all__ = ["ENSEMBLE_COLUMNS", "ENSEMBLE_METHODS", "RATIO_COLUMNS", "UNCERTAINTY_COLUMNS", "cumulative_means",
           "ensemble_size_rows", "ensemble_summary", "gaussian_crps", "ratios_summary", "score_row",
           "uncertainty_rows"]
