"""The predictive uncertainty of a downscaled field: one per-pixel std, calibrated on the observation alone.

Why. The members of an ensemble all reproduce the same coarse data and invent the sub-cell detail alike, so their
spread is 7–20 times smaller than their error (docs/results.md). The error of a downscaled SSH map is what lies
below the coarse cell: the part of the field the data cannot see. Its size is set by the energy of the field at
scales the observation does not resolve, so it must come from the observation's own finest scales and from an
assumption about how the spectrum goes on below them.

How (no truth is used anywhere):

1. **Degrade again.** The observation is pooled ×2 once more and super-resolved back onto its own grid by
   iterative back-projection (IBP), where it is its own truth (ZSSR's idea); with the four ×2 offsets of the pooling
   averaged, the mean squared error of that step, less the known noise, is ``E2``: the energy of the observation's
   finest octave that a reconstruction misses.
2. **Transfer down the ladder.** The fine error is ``T_r² E2 + G_r σ²``: ``T_r`` carries the miss from one octave
   above the observation to ``ratio`` octaves below it, ``G_r`` is the share of the observation noise σ that stays in
   the estimate. Both are fitted once, offline, by ``scripts/calibrate_uncertainty.py`` on twin experiments of
   fields the project never scores itself on (crops of the global DUACS map away from the samples, synthetic
   turbulence and Gaussian random fields), and stored in ``dipcore/uncertainty/calibration.json``.
3. **A prior on what lies below.** How the error grows below the observed scales depends on the kind of field, not
   on anything the coarse map shows: a gridded altimetry map (and any field on a grid of
   :data:`MAPPED_SPACING_KM` or more) is smooth below its mapping scale, a model or turbulence field has energy down to its grid.
   ``prior="auto"`` picks ``"mapped"`` or ``"dynamic"`` from the fine grid spacing; the choice is reported.
4. **Where.** The magnitude is spread over the map by a pattern (RMS 1 over the ocean): the estimate's smoothed
   gradient (fronts) and/or the degrade-again error map of step 1 blown up to the fine grid, blended with a flat
   part, because the patterns are only partly right (corr(|error|, pattern) 0.3–0.5 on real maps, ~0.1 on
   turbulence). Which parts and how much of them is fitted per prior with the transfer (lowest CRPS on the
   design set).
5. **Members.** The ensemble's own spread, when there is one, is added in quadrature.

docs/results.md reports how it scores against the truth (spread/skill, coverage, CRPS against a flat σ that knows
the true RMSE), on the project's fields and on fields it was never fitted on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from dipcore.constants import PRIORS
from dipcore.degrade import Degradation, bicubic_up, fill_nearest, pool
from dipcore.errors import SSHDipError

CALIBRATION = Path(__file__).with_name("calibration.json")
MAPPED_SPACING_KM = 8.0  # fine grids this coarse hold mapped (or numerically smoothed) fields: see choose_prior
SHIFTS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the four offsets of the ×2 pooling
PATTERN_PARTS = ("gradient", "degrade-again")


@dataclass(frozen=True)
class Prior:
    """The transfer of one kind of field: per ratio, ``T_r`` and ``G_r`` (see the module docstring)."""

    name: str
    transfer: dict[int, float]
    noise_leak: dict[int, float]
    pattern_weight: float                  # share of the pattern in the variance, the rest flat
    pattern_parts: tuple[str, ...] = PATTERN_PARTS  # which maps make the pattern (see :func:`pattern`)

    def at(self, ratio: int) -> tuple[float, float]:
        """(T_r, G_r) at ``ratio``; ratios between calibrated ones interpolate in log ratio."""
        if ratio == 1:
            return 0.0, 1.0  # nothing below the cell; the estimate keeps the observation's noise
        rs = sorted(self.transfer)
        x = np.log2(np.clip(ratio, rs[0], rs[-1]))
        lx = np.log2(rs)
        return (float(np.interp(x, lx, [self.transfer[r] for r in rs])),
                float(np.interp(x, lx, [self.noise_leak[r] for r in rs])))


@lru_cache(maxsize=1)
def priors() -> dict[str, Prior]:
    """The calibrated priors from ``dipcore/uncertainty/calibration.json``."""
    data = json.loads(CALIBRATION.read_text())
    return {name: Prior(name, {int(k): v for k, v in p["transfer"].items()},
                        {int(k): v for k, v in p["noise_leak"].items()}, float(p["pattern_weight"]),
                        tuple(p["pattern_parts"]))
            for name, p in data["priors"].items()}


def choose_prior(spacing_km: float | None, prior: str = "auto") -> str:
    """``"mapped"`` for a fine grid spacing of :data:`MAPPED_SPACING_KM` or more, else ``"dynamic"``.

    Gridded altimetry (DUACS L4 at 1/4° or 1/8°) and coarse models are smooth below ~100 km, so their error falls
    off fast below the observed scales; finer grids (regional models, synthetic turbulence, grids of unknown
    spacing) keep energy down to the grid. ``prior`` other than ``"auto"`` is taken as given.
    """
    if prior != "auto":
        if prior not in PRIORS:
            raise SSHDipError(f"unknown uncertainty prior {prior!r}; choose auto, {', '.join(PRIORS)}")
        return prior
    return "mapped" if spacing_km is not None and spacing_km >= MAPPED_SPACING_KM else "dynamic"


def _offsets(y: np.ndarray):
    """The observation cropped at each ×2 pooling offset to even sides (only those still ≥ 4×4 cells)."""
    for dy, dx in SHIFTS:
        a = y[dy:, dx:]
        a = a[: a.shape[0] // 2 * 2, : a.shape[1] // 2 * 2]
        if min(a.shape) >= 4 and np.isfinite(pool(a, 2)).sum() >= 3:
            yield dy, dx, a


def self_error(observation: np.ndarray, sigma: float = 0.0) -> tuple[float, np.ndarray]:
    """Degrade-again: the mean squared error of IBP ×2 rebuilding the observation from itself pooled ×2.

    Returns the error averaged over the four pooling offsets (less the noise σ² of the observation, floored at
    5 % of it), and the squared-error map of offset (0, 0) on the observation's grid (NaN on land), for the
    pattern. Raises SSHDipError when the observation is under 4×4 ocean cells (nothing to pool once more).
    """
    y = np.asarray(observation, dtype=np.float32)
    total, count, first = 0.0, 0, None
    for dy, dx, a in _offsets(y):
        ocean = np.isfinite(a)
        back = Degradation(2, sigma=sigma / 2, mask=ocean).ibp(pool(a, 2))
        d2 = (back - a) ** 2
        total, count = total + float(np.nansum(d2)), count + int(np.isfinite(d2).sum())
        if first is None and (dy, dx) == (0, 0):
            first = np.full(y.shape, np.nan, dtype=np.float32)
            first[: a.shape[0], : a.shape[1]] = d2
    if not count:
        raise SSHDipError(f"the {y.shape[0]}×{y.shape[1]} observation is too small to be pooled once more "
                          "(it needs at least 4×4 cells)")
    raw = total / count
    return max(raw - sigma ** 2, 0.05 * raw), first


def _finest_octave(observation: np.ndarray, sigma: float) -> tuple[float, np.ndarray | None, str]:
    """``E2`` with its map and how it was had: degrade-again, or, for an observation under 4×4 cells, its whole
    variance less the noise (an upper bound of what its finest octave holds: the uncertainty is then too large,
    never too small)."""
    try:
        e2, smap = self_error(observation, sigma)
        return e2, smap, "degrade-again"
    except SSHDipError:
        y = np.asarray(observation, dtype=np.float64)
        var = float(np.nanvar(y)) if np.isfinite(y).sum() > 1 else 0.0
        return max(var - sigma ** 2, 0.05 * var), None, "observation variance (too small to pool once more)"


def pattern(estimate: np.ndarray, self_map: np.ndarray | None, ratio: int, mask: np.ndarray,
            parts: tuple[str, ...] = PATTERN_PARTS) -> np.ndarray:
    """Where the error sits, RMS 1 over the ocean: the mean square of the chosen ``parts``, each scaled to RMS 1 —
    ``"gradient"``, the estimate's |∇| smoothed over a coarse cell (fronts), and ``"degrade-again"``, the
    degrade-again error map of :func:`self_error` blown up to the fine grid (where the observation's own finest
    octave was missed). Flat where there is no part to use."""
    maps = []
    if "gradient" in parts:
        gy, gx = np.gradient(fill_nearest(np.where(mask, estimate, np.nan).astype(np.float64)))
        maps.append(ndimage.gaussian_filter(np.hypot(gy, gx), ratio, mode="nearest"))
    if "degrade-again" in parts and self_map is not None and np.isfinite(self_map).any():
        smooth = ndimage.gaussian_filter(fill_nearest(self_map.astype(np.float64)), 1.0, mode="nearest")
        up = np.sqrt(np.maximum(bicubic_up(smooth, ratio), 0.0))
        maps.append(up[: mask.shape[0], : mask.shape[1]])
    p2 = np.ones(mask.shape)
    if maps:
        p2 = np.zeros(mask.shape)
        for m in maps:
            rms = float(np.sqrt(np.mean(m[mask] ** 2))) if mask.any() else 0.0
            p2 += (m / rms) ** 2 if rms > 0 else 1.0
        p2 /= len(maps)
    return np.where(mask, np.sqrt(p2), np.nan)


@dataclass(frozen=True)
class Uncertainty:
    """The predictive std of an estimate and how it was made."""

    std: np.ndarray           # per-pixel std (m), NaN on land
    expected_rmse: float      # its RMS over the ocean (m): the error the map expects, without the truth
    prior: str                # "mapped" or "dynamic"
    self_error: float         # E2 (m²), the degrade-again miss of the observation's finest octave
    transfer: float           # T_r
    noise_leak: float         # G_r
    basis: str = "degrade-again"  # how E2 was had (see _finest_octave)


def predictive_std(estimate: np.ndarray, observation: np.ndarray, degradation: Degradation, *,
                   mask: np.ndarray | None = None, member_std: np.ndarray | None = None,
                   spacing_km: float | None = None, prior: str = "auto") -> Uncertainty:
    """The calibrated per-pixel uncertainty of ``estimate`` (see the module docstring).

    Parameters
    ----------
    estimate : np.ndarray
        Fine estimate (H, W), metres, NaN on land.
    observation : np.ndarray
        The coarse observation it was made from (H/ratio, W/ratio), metres.
    degradation : Degradation
        Its ratio and noise σ (metres).
    mask : np.ndarray, optional
        Fine ocean mask; defaults to the estimate's finite cells.
    member_std : np.ndarray, optional
        The ensemble's spread, added in quadrature.
    spacing_km : float, optional
        Fine grid spacing, for ``prior="auto"``.
    prior : str
        ``"auto"``, ``"mapped"`` or ``"dynamic"``.

    Raises
    ------
    SSHDipError
        For an unknown prior.
    """
    mask = np.isfinite(estimate) if mask is None else np.asarray(mask, dtype=bool)
    r, sigma = degradation.ratio, float(degradation.sigma)
    chosen = choose_prior(spacing_km, prior)
    p = priors()[chosen]
    t, g = p.at(r)
    e2, smap, basis = (0.0, None, "no sub-grid part at ×1") if r == 1 else _finest_octave(observation, sigma)
    level2 = t ** 2 * e2 + g * sigma ** 2
    shape = pattern(estimate, smap, r, mask, p.pattern_parts) if r > 1 else np.where(mask, 1.0, np.nan)
    var = level2 * (p.pattern_weight * shape ** 2 + 1.0 - p.pattern_weight)
    if member_std is not None:
        var = var + np.nan_to_num(np.asarray(member_std, dtype=np.float64)) ** 2
    std = np.where(mask, np.sqrt(var), np.nan).astype(np.float32)
    rms = float(np.sqrt(np.nanmean(std[mask].astype(np.float64) ** 2))) if mask.any() else float("nan")
    return Uncertainty(std, rms, chosen, float(e2), t, g, basis)


__all__ = ["CALIBRATION", "MAPPED_SPACING_KM", "PRIORS", "Prior", "Uncertainty", "choose_prior", "pattern",
           "predictive_std", "priors", "self_error"]
