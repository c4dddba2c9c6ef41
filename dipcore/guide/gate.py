"""Does the guide carry the SSH's detail? Measured at the coarse scale, where the observation is its own truth.

The observation's finest octave is what iterative back-projection (IBP) misses when the observation is pooled ×2
once more and rebuilt: ``d_obs = obs − IBP₂(pool₂(obs))`` (degrade-again, as :mod:`dipcore.uncertainty` measures
it). The guide, transformed (:func:`dipcore.guide.esqg.transform`) and pooled to the observation's grid, gives the
same octave ``d_guide``. A least-squares slope ``a`` (through 0) of ``d_obs`` on ``d_guide`` is the guide's
amplitude in metres; with the eSQG transform it holds across scales when SQG holds (ψ̂ ∝ b̂/|k| is scale-free), so
the same ``a`` times the fine guide's sub-cell detail is the guided estimate's detail.

The gate: ``a`` is fitted on three quadrants of the map and scored on the fourth, for each quadrant; the guide is
used only when the pooled out-of-quadrant skill ``r2_cv`` (the share of ``d_obs``'s energy it predicts) reaches
:data:`GATE_R2` and every quadrant's slope has the sign of the whole map's. White noise, a field of another day or
region, a tracer the SSH does not drive: their skill out of sample is ~0 or below, and the fit is then the unguided
one, exactly. The four ×2 pooling offsets are all used (more cells at large ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dipcore.degrade import pool
from dipcore.guide.esqg import detail
from dipcore.uncertainty.predictive import SHIFTS  # the four offsets of the ×2 pooling, as the uncertainty's

GATE_R2 = 0.1     # the least out-of-sample skill at which the guide is used
MIN_CELLS = 16    # observation cells (per offset, ×2-pooled octave) below which nothing is measured


@dataclass(frozen=True)
class Coherence:
    """The guide's skill at the coarse scale and the gate's decision."""

    transform: str
    coefficient: float   # metres per unit of the transformed guide's detail
    stderr: float        # its jackknife error over the quadrants (metres per unit)
    r2_cv: float         # out-of-quadrant share of the observation's finest octave the guide predicts
    corr: float          # in-sample correlation of d_obs and d_guide
    cells: int           # coarse cells measured (all offsets)
    accepted: bool
    reason: str          # one line: why the guide is used or not
    sub_skill: float = 0.0  # r2_cv with the observation noise taken out of both sides: the share of the sub-cell
                            # signal the guide predicts (what the uncertainty is scaled by)


def _octave(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``x − IBP₂(pool₂(x))`` on ``ok`` (NaN elsewhere); sides even: eSQG's :func:`detail` at ×2."""
    return np.where(ok, detail(x, 2, ok), np.nan)


def octave_pairs(observation: np.ndarray, guide_coarse: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finest octave of the observation and of the pooled guide at the four ×2 offsets: (d_obs, d_guide,
    quadrant of each cell 0..3), over cells where both are known."""
    h, w = observation.shape
    do, dg, quad = [], [], []
    rows, cols = np.mgrid[:h, :w]
    q = (rows >= h / 2).astype(int) * 2 + (cols >= w / 2).astype(int)
    for dy, dx in SHIFTS:
        sl = (slice(dy, dy + (h - dy) // 2 * 2), slice(dx, dx + (w - dx) // 2 * 2))
        o, g = observation[sl], guide_coarse[sl]
        ok = np.isfinite(o) & np.isfinite(g)
        if min(o.shape) < 4 or ok.sum() < MIN_CELLS or not np.isfinite(pool(np.where(ok, o, np.nan), 2)).any():
            continue
        a, b = _octave(o, ok), _octave(g, ok)
        keep = np.isfinite(a) & np.isfinite(b)
        do.append(a[keep])
        dg.append(b[keep])
        quad.append(q[sl][keep])
    if not do:
        return np.empty(0), np.empty(0), np.empty(0, dtype=int)
    return np.concatenate(do), np.concatenate(dg), np.concatenate(quad)


def _slope(y: np.ndarray, x: np.ndarray) -> float:
    sxx = float(np.dot(x, x))
    return float(np.dot(x, y)) / sxx if sxx > 0 else 0.0


def coherence(observation: np.ndarray, guide_fine: np.ndarray, ratio: int, transform: str = "esqg",
              gate: float = GATE_R2, sigma: float = 0.0) -> Coherence:
    """The gate on a guide already transformed and on the fine grid (``guide_fine``, NaN off the ocean).

    ``observation`` (h, w) metres with white noise of std ``sigma``; ``ratio`` maps the fine grid to it. See the
    module docstring. The noise, which no guide predicts, is 3/4 of σ² in the octave (the part of white noise
    orthogonal to the ×2 block means); ``sub_skill`` is the skill on the rest.
    """
    gc = pool(np.asarray(guide_fine, dtype=np.float32), ratio)
    do, dg, quad = octave_pairs(np.asarray(observation, dtype=np.float32), gc)
    if do.size < MIN_CELLS:
        return Coherence(transform, 0.0, 0.0, 0.0, 0.0, int(do.size), False,
                         f"the observation is too small to measure the guide's coherence ({do.size} cells at the "
                         "coarse scale): the guide is not used")
    a = _slope(do, dg)
    corr = float(np.corrcoef(do, dg)[0, 1]) if do.std() > 0 and dg.std() > 0 else 0.0
    folds = [f for f in range(4) if (quad == f).any() and (quad != f).any()]
    slopes, res = [], 0.0
    for f in folds:
        af = _slope(do[quad != f], dg[quad != f])
        slopes.append(af)
        res += float(np.sum((do[quad == f] - af * dg[quad == f]) ** 2))
    tested = np.isin(quad, folds)
    energy = float(np.sum(do[tested] ** 2))
    r2 = 1.0 - res / energy if energy > 0 and folds else 0.0
    k = len(slopes)
    se = float(np.sqrt((k - 1) / k * np.sum((np.array(slopes) - np.mean(slopes)) ** 2))) if k > 1 else abs(a)
    same_sign = all(np.sign(s) == np.sign(a) for s in slopes) and a != 0
    accepted = bool(r2 >= gate and same_sign)
    words = (f"out-of-sample skill {r2:.2f} at the coarse scale (corr {corr:.2f}, {do.size} cells)")
    reason = (f"the guide is used: {words}" if accepted else
              f"the guide is not used: {words}, below the gate's {gate:.2f}" if r2 < gate else
              f"the guide is not used: {words}, but its slope changes sign across the map")
    noise = 0.75 * float(sigma) ** 2 * int(tested.sum())
    clean = energy - noise
    sub = 1.0 - max(res - noise, 0.0) / clean if clean > 0.05 * energy else 0.0
    return Coherence(transform, a, se, float(r2), corr, int(do.size), accepted, reason, float(max(sub, 0.0)))


__all__ = ["Coherence", "GATE_R2", "MIN_CELLS", "coherence", "octave_pairs"]
