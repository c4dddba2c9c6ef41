"""Sub-grid uncertainty: the error no ensemble member can see, calibrated on the observation's own ladder.

Why. Every member of a fit is consistent with the same coarse data, so members differ only in what they invent
below the coarse cell, and on real SSH that spread is an order of magnitude below the actual error
(docs/results.md §5). The error of a super-resolved SSH field sits where the field is steep — a front displaced or
sharpened inside a coarse cell — and grows with the cell size. This module models it as

    std(x) = c · G(x) · L,

with G the smoothed gradient magnitude of the estimate (per fine cell), L the coarse cell size (``ratio`` fine
cells) and c a constant calibrated on the data alone: the observation is degraded once more (×2), super-resolved
back onto its own grid by the consistent bicubic estimate, and c is the ratio of that reconstruction's RMS error
to the RMS of G·L at that level. No truth is used, so it applies to any field; the assumption (error linear in
the cell size, i.e. a k⁻³-like spectrum) is what limits it, and docs/results.md reports how it scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from dipcore.degrade import MIN_COARSE, Degradation, fill_nearest, pool
from dipcore.errors import SSHDipError


@dataclass
class SubgridStd:
    """A calibrated sub-grid std map (metres, NaN on land) and the constant it was scaled with."""

    std: np.ndarray
    factor: float          # c in std = c · G · L
    calibration_rmse: float  # RMS error (m) of the ×2 reconstruction of the observation that set c


def gradient_map(x: np.ndarray, mask: np.ndarray, smooth: float) -> np.ndarray:
    """|∇x| per grid cell, Gaussian-smoothed over ``smooth`` cells, NaN outside ``mask``."""
    gy, gx = np.gradient(fill_nearest(np.asarray(x, dtype=np.float64)))
    g = ndimage.gaussian_filter(np.hypot(gy, gx), max(smooth, 0.0), mode="nearest")
    return np.where(mask, g, np.nan)


def consistent_estimate(observation: np.ndarray, ratio: int, mask: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """Bicubic back-projected to the data (iterative back-projection): the reference estimator of the ladder."""
    deg = Degradation(ratio, sigma=sigma, mask=mask)
    return deg.backproject(deg.bicubic(observation), observation)


def subgrid_std(estimate: np.ndarray, observation: np.ndarray, degradation: Degradation,
                mask: np.ndarray | None = None) -> SubgridStd:
    """Per-pixel std of the error below the observation's resolution, calibrated on the observation (no truth).

    Parameters
    ----------
    estimate : np.ndarray
        Fine estimate (H, W), metres, NaN on land.
    observation : np.ndarray
        The coarse observation it was made from (H/ratio, W/ratio).
    degradation : Degradation
        Ratio and noise σ of the observation (the noise's share of the calibration error is removed).
    mask : np.ndarray, optional
        Fine ocean mask; defaults to the estimate's finite cells.

    Raises
    ------
    SSHDipError
        When the observation is too small to be degraded once more (fewer than 2×2 cells left).
    """
    r = degradation.ratio
    mask = np.isfinite(estimate) if mask is None else np.asarray(mask, dtype=bool)
    y = np.asarray(observation, dtype=np.float32)
    h, w = (y.shape[0] // 2) * 2, (y.shape[1] // 2) * 2
    if h // 2 < MIN_COARSE or w // 2 < MIN_COARSE:
        raise SSHDipError(f"the {y.shape[0]}×{y.shape[1]} observation is too small to calibrate a sub-grid std "
                          "(it must stay at least 2×2 once pooled by 2)")
    y = y[:h, :w]
    ocean = np.isfinite(y)
    coarser = pool(y, 2)
    if not np.isfinite(coarser).any():
        raise SSHDipError("the observation has no ocean cell (all land)")
    # level above: super-resolve the observation pooled ×2 back onto its own grid, where it is the truth
    back = consistent_estimate(coarser, 2, ocean)
    err2 = np.nanmean((back - y) ** 2) - degradation.sigma ** 2   # the noise is not a sub-grid error
    g_above = gradient_map(back, ocean, 0.5) / r                   # per fine cell
    ref = float(np.sqrt(np.nanmean((g_above * 2 * r) ** 2)))
    factor = float(np.sqrt(max(err2, 0.0))) / ref if ref > 0 else 0.0
    std = factor * gradient_map(estimate, mask, 0.5 * r) * r
    return SubgridStd(std.astype(np.float32), factor, float(np.sqrt(max(err2, 0.0))))


def try_subgrid_std(estimate: np.ndarray, observation: np.ndarray, degradation: Degradation,
                    mask: np.ndarray | None = None) -> SubgridStd | None:
    """:func:`subgrid_std`, or None when the observation is too small to calibrate it (callers then omit it)."""
    try:
        return subgrid_std(estimate, observation, degradation, mask)
    except SSHDipError:
        return None


def fit_stds(twin, final) -> tuple[np.ndarray, np.ndarray] | None:
    """(sub-grid std, total std) of a finished fit ``final`` (a ``dipcore.solver.Progress``) of a twin experiment;
    None when its observation is too small to calibrate the sub-grid part."""
    sub = try_subgrid_std(final.estimate, twin.observation, twin.degradation, twin.mask)
    return None if sub is None else (sub.std, total_std(final.member_std, sub.std))


def total_std(member_std: np.ndarray | None, subgrid: np.ndarray) -> np.ndarray:
    """Members' spread and the sub-grid std, added in quadrature (they are independent sources)."""
    if member_std is None:
        return subgrid
    return np.sqrt(np.square(member_std) + np.square(subgrid)).astype(np.float32)


__all__ = ["SubgridStd", "consistent_estimate", "fit_stds", "gradient_map", "subgrid_std", "total_std",
           "try_subgrid_std"]
