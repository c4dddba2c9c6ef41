"""Scores of an estimate against the truth, on ocean cells only.

RMSE in metres; nRMSE score µ = 1 − RMSE/RMS(truth) (ocean-data-challenges convention: RMS of the truth's
anomaly about its mean, so a flat map of the mean scores 0); SSIM from scikit-image with ``data_range`` taken
from the truth, averaged over the ocean part of its map; effective resolution from the PSD score; and the
uncertainty diagnostics spread/skill, corr(|error|, std) and the ensemble CRPS.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity


def _ocean(truth: np.ndarray, *others: np.ndarray) -> np.ndarray:
    m = np.isfinite(truth)
    for o in others:
        m &= np.isfinite(o)
    return m


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Root mean square error over cells where both are finite (metres)."""
    m = _ocean(truth, estimate)
    return float(np.sqrt(np.mean((estimate[m] - truth[m]) ** 2))) if m.any() else float("nan")


def nrmse_score(estimate: np.ndarray, truth: np.ndarray) -> float:
    """µ = 1 − RMSE / RMS(truth anomaly): 1 is perfect, 0 is no better than the mean."""
    m = _ocean(truth, estimate)
    rms = float(np.sqrt(np.mean((truth[m] - truth[m].mean()) ** 2)))
    return 1.0 - rmse(estimate, truth) / rms if rms > 0 else float("nan")


def ssim(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity (scikit-image), ``data_range`` = truth max − min, averaged over ocean cells.

    Land is filled with the truth's ocean mean in both images before the local windows are computed, so it
    adds no structure; the SSIM map is then averaged over ocean cells only.
    """
    m = _ocean(truth, estimate)
    if m.sum() < 4:
        return float("nan")
    fill = float(truth[m].mean())
    t = np.where(m, truth, fill).astype(np.float64)
    e = np.where(m, estimate, fill).astype(np.float64)
    data_range = float(truth[m].max() - truth[m].min()) or 1.0
    win = min(7, *(s - (1 - s % 2) for s in t.shape))  # odd window no larger than the grid
    if win < 3:
        return float("nan")
    _, smap = structural_similarity(t, e, data_range=data_range, win_size=win, full=True)
    return float(smap[m].mean())


def psd_score(estimate: np.ndarray, truth: np.ndarray, dx_km: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Along-x PSD score 1 − PSD(error)/PSD(truth) against wavelength.

    Rows are detrended (mean removed), land set to zero, Hann-windowed; spectra averaged over rows.

    Returns
    -------
    wavelength, score : np.ndarray
        Wavelengths (units of ``dx_km``) from large to small, and the score at each.
    """
    m = _ocean(truth, estimate)
    t = np.where(m, truth - np.nanmean(truth[m]), 0.0)
    e = np.where(m, estimate - truth, 0.0)
    win = np.hanning(t.shape[1])
    rows = m.mean(axis=1) > 0.5  # mostly-ocean rows only
    if not rows.any():
        rows = m.any(axis=1)
    pt = (np.abs(np.fft.rfft(t[rows] * win, axis=1)) ** 2).mean(axis=0)[1:]
    pe = (np.abs(np.fft.rfft(e[rows] * win, axis=1)) ** 2).mean(axis=0)[1:]
    freq = np.fft.rfftfreq(t.shape[1], d=dx_km)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - pe / pt
    return 1.0 / freq, score


def effective_resolution(estimate: np.ndarray, truth: np.ndarray, dx_km: float = 1.0) -> float:
    """Smallest wavelength resolved: where the PSD score, scanned from large to small scales, drops below 0.5.

    Linear interpolation in log-wavelength between the bracketing frequencies. Returns the largest wavelength
    when the score is below 0.5 everywhere and the grid's Nyquist wavelength (2·dx) when it never drops.
    """
    wl, score = psd_score(estimate, truth, dx_km)
    below = np.where(~(score >= 0.5))[0]
    if below.size == 0:
        return float(2 * dx_km)
    i = below[0]
    if i == 0:
        return float(wl[0])
    s0, s1 = score[i - 1], score[i]
    f = (s0 - 0.5) / (s0 - s1) if np.isfinite(s1) and s0 != s1 else 0.0
    return float(np.exp(np.log(wl[i - 1]) + f * (np.log(wl[i]) - np.log(wl[i - 1]))))


def spread_skill(std: np.ndarray, estimate: np.ndarray, truth: np.ndarray) -> float:
    """√(mean ensemble variance) / RMSE of the mean: ≈ 1 when the spread is calibrated."""
    m = _ocean(truth, estimate, std)
    err = rmse(estimate, truth)
    return float(np.sqrt(np.mean(std[m] ** 2)) / err) if err > 0 else float("nan")


def error_std_correlation(std: np.ndarray, estimate: np.ndarray, truth: np.ndarray) -> float:
    """Pearson correlation between |error| and the std map over ocean cells."""
    m = _ocean(truth, estimate, std)
    a, b = np.abs(estimate[m] - truth[m]), std[m]
    if a.size < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def crps_ensemble(members: np.ndarray, truth: np.ndarray) -> float:
    """Mean CRPS of a (K, H, W) ensemble: E|X − y| − ½ E|X − X'| (metres), over ocean cells."""
    m = _ocean(truth, *members)
    x = members[:, m].astype(np.float64)
    y = truth[m]
    t1 = np.abs(x - y).mean(axis=0)
    xs = np.sort(x, axis=0)
    k = x.shape[0]
    # E|X − X'| from sorted samples: 2/K² Σ_i (2i − K − 1) x_(i)
    coef = (2 * np.arange(1, k + 1) - k - 1)[:, None]
    t2 = 2.0 * (coef * xs).sum(axis=0) / k**2
    return float((t1 - 0.5 * t2).mean())


def spread_error_bins(std: np.ndarray, estimate: np.ndarray, truth: np.ndarray, bins: int = 10):
    """Binned spread-vs-error: for std quantile bins, mean std and RMS error. Returns (std_mean, rmse)."""
    m = _ocean(truth, estimate, std)
    s, e = std[m], (estimate[m] - truth[m])
    edges = np.unique(np.quantile(s, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)
    out_s, out_e = [], []
    for b in range(len(edges) - 1):
        sel = idx == b
        if sel.any():
            out_s.append(float(s[sel].mean()))
            out_e.append(float(np.sqrt(np.mean(e[sel] ** 2))))
    return np.array(out_s), np.array(out_e)


def gaussian_crps(mean: np.ndarray, std: np.ndarray, truth: np.ndarray) -> float:
    """Mean CRPS of a Gaussian forecast N(mean, std²) over cells where all three are finite (metres)."""
    from scipy.stats import norm

    m = _ocean(truth, mean, std)
    s = np.maximum(np.asarray(std, dtype=np.float64)[m], 1e-12)
    z = (truth[m] - mean[m]) / s
    crps = s * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(crps.mean()) if crps.size else float("nan")


def calibration(std: np.ndarray, estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """How well a per-pixel std describes the error of ``estimate``, over cells where all three are finite.

    Returns spread/skill, corr(|error|, std), the share of cells whose |error| is within ±1σ and ±2σ, the Gaussian
    CRPS (cm) and that of a flat σ equal to the true RMSE around the same estimate (an oracle a useful per-pixel σ
    must beat), and the RMSE (m).
    """
    m = _ocean(truth, estimate, std)
    err = np.abs(estimate[m] - truth[m]).astype(np.float64)
    s = std[m].astype(np.float64)
    rms = float(np.sqrt(np.mean(err ** 2))) if err.size else float("nan")
    flat = np.full_like(truth, rms, dtype=np.float64)
    return {"spread_skill": spread_skill(std, estimate, truth), "corr": error_std_correlation(std, estimate, truth),
            "coverage_1sigma": float(np.mean(err <= s)) if err.size else float("nan"),
            "coverage_2sigma": float(np.mean(err <= 2 * s)) if err.size else float("nan"),
            "crps_cm": 100 * gaussian_crps(estimate, np.where(m, std, np.nan), truth),
            "crps_flat_cm": 100 * gaussian_crps(estimate, np.where(m, flat, np.nan), truth), "rmse": rms}


def scores(estimate: np.ndarray, truth: np.ndarray, dx_km: float | None = None) -> dict[str, float]:
    """RMSE, nRMSE µ, SSIM and (when ``dx_km`` is known) effective resolution in km."""
    out = {"rmse": rmse(estimate, truth), "nrmse": nrmse_score(estimate, truth), "ssim": ssim(estimate, truth)}
    if dx_km:
        out["eff_res_km"] = effective_resolution(estimate, truth, dx_km)
    return out
