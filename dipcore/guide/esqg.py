"""The guide's transforms and its detail below a coarse cell.

Surface quasi-geostrophy (SQG; Held et al. 1995, Lapeyre & Klein 2006, Isern-Fontanet et al. 2006) ties the surface
streamfunction, and with it SSH, to surface buoyancy, which SST follows: ψ̂(k) ∝ b̂(k)/|k|. :func:`esqg` applies
that transfer to a guide (the "effective" SQG of Lapeyre & Klein: one amplitude, fitted to the data, for the
whole field). :func:`detail` keeps what a fine field holds below the coarse cell of a ratio: the field minus the
iterative back-projection (IBP) of its own block means, so its block means are (nearly) zero and adding it to an
estimate leaves that estimate's coarse data untouched.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

from dipcore.degrade import Degradation, fill_nearest, pool


def plane_removed(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values`` on ``mask`` less their least-squares plane, land filled from the nearest ocean cell (float64).

    The plane is the large-scale meridional/zonal SST gradient: it carries no eddy and, transformed, would
    leak into every scale of the streamfunction of a non-periodic map.
    """
    f = fill_nearest(np.where(mask, values, np.nan).astype(np.float64))
    ny, nx = f.shape
    yy, xx = np.mgrid[:ny, :nx]
    a = np.column_stack([np.ones(int(mask.sum())), yy[mask], xx[mask]])
    coef, *_ = np.linalg.lstsq(a, f[mask], rcond=None)
    return f - (coef[0] + coef[1] * yy + coef[2] * xx)


def esqg(values: np.ndarray, mask: np.ndarray, spacing: tuple[float, float] | None = None) -> np.ndarray:
    """The effective-SQG streamfunction of a tracer map, up to its amplitude: ``ifft(ĝ / |k|)``.

    The plane is removed first (:func:`plane_removed`); the transform is a type-II DCT (the map's even extension:
    no jump at the edges, so no ringing from them), with |k| from the grid ``spacing`` (dy, dx) in any unit
    (default: square cells). Returns a float64 map of unit std over ``mask``, NaN elsewhere.
    """
    f = plane_removed(values, mask)
    ny, nx = f.shape
    dy, dx = spacing if spacing is not None else (1.0, 1.0)
    ky, kx = np.pi * np.arange(ny) / (ny * dy), np.pi * np.arange(nx) / (nx * dx)
    k = np.hypot(*np.meshgrid(kx, ky))
    k[0, 0] = np.inf  # the mean carries no streamfunction
    out = fft.idctn(fft.dctn(f, type=2, norm="ortho") / k, type=2, norm="ortho")
    std = float(out[mask].std()) or 1.0
    return np.where(mask, (out - out[mask].mean()) / std, np.nan)


def detail(values: np.ndarray, ratio: int, mask: np.ndarray) -> np.ndarray:
    """What a fine map holds below the ``ratio`` cell: ``values − IBP(pool(values))`` on ``mask`` (0 elsewhere).

    ``values`` (H, W) must have sides that are multiples of ``ratio``; land and gaps in ``mask`` are left out of
    the block means. The result's block means over ``mask`` are zero to IBP's tolerance.
    """
    m = np.asarray(mask, dtype=bool)
    v = np.where(m, values, np.nan).astype(np.float32)
    coarse = pool(v, ratio)
    back = Degradation(ratio, mask=m).ibp(coarse)
    return np.where(m, v.astype(np.float64) - back, 0.0)


def esqg_alone(values: np.ndarray, observation: np.ndarray, ratio: int, mask: np.ndarray,
               spacing: tuple[float, float] | None = None) -> np.ndarray:
    """The classical guided baseline: SSH from the guide alone through eSQG, ``a × esqg(values) + c``, with (a, c)
    fitted by least squares to the coarse observation's cells (the block means of the transform). Metres on
    ``mask``, NaN elsewhere; the estimate is not made consistent with the data (that is the guided IBP's job)."""
    m = np.asarray(mask, dtype=bool)
    t = esqg(values, m, spacing)
    tc = pool(np.where(m, t, np.nan).astype(np.float32), ratio).astype(np.float64)
    ok = np.isfinite(tc) & np.isfinite(observation)
    a = np.column_stack([tc[ok], np.ones(int(ok.sum()))])
    coef, *_ = np.linalg.lstsq(a, np.asarray(observation, dtype=np.float64)[ok], rcond=None)
    return np.where(m, coef[0] * t + coef[1], np.nan).astype(np.float32)


TRANSFORMS = ("esqg", "raw")


def transform(values: np.ndarray, mask: np.ndarray, kind: str = "esqg",
              spacing: tuple[float, float] | None = None) -> np.ndarray:
    """The guide as the fit reads it: ``esqg`` (:func:`esqg`) or ``raw`` (plane removed, unit std), NaN off
    ``mask``."""
    if kind == "esqg":
        return esqg(values, mask, spacing)
    if kind != "raw":
        raise ValueError(f"unknown guide transform {kind!r}; choose one of {TRANSFORMS}")
    f = plane_removed(values, mask)
    std = float(f[mask].std()) or 1.0
    return np.where(mask, (f - f[mask].mean()) / std, np.nan)


__all__ = ["TRANSFORMS", "detail", "esqg", "esqg_alone", "plane_removed", "transform"]
