"""What a fit does with a guide, decided once before its first step (:func:`plan_guide`), and what its events
report (:class:`GuideReport`).

The guide is checked on the fine grid, transformed (eSQG by default), gated at the coarse scale
(:mod:`dipcore.guide.gate`) and, when it passes, turned into the fine **sub-cell detail** a guided recipe adds to its
base field: ``a_k × detail_r(transformed guide)``, whose block means are zero, so the coarse data are never
touched by it (each member's answer is back-projected at the end anyway). Member k's amplitude ``a_k`` is ``a``
plus ``spread`` times its jackknife error times N(0, 1) from the member's seed: the members differ by the guide's
uncertainty too. The guided networks get the detail and the transformed guide as input channels. The classical
guided estimate, IBP plus ``a`` times the detail, back-projected, is kept as ``baseline``.

The calibrated predictive std of an unguided fit (:func:`dipcore.uncertainty.predictive_std`) expects IBP's
sub-cell error; where the guide predicts a share ``sub_skill`` of the observation's finest octave (noise taken
out), the sub-cell part of that variance is scaled by 1 − ``sub_skill`` (:func:`guided_std`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dipcore.degrade import Degradation
from dipcore.guide.esqg import detail, transform
from dipcore.guide.gate import GATE_R2, Coherence, coherence
from dipcore.guide.reading import GUIDE_STANDARD_NAMES
from dipcore.guide.regrid import Guide, check_guide

MEMBER_SPREAD = 1.0   # members' amplitudes differ by this many jackknife errors (N(0, 1) draws)
MAX_SKILL = 0.9       # the uncertainty is never scaled below √(1 − this) of the unguided one


@dataclass(frozen=True, eq=False)
class GuideReport:
    """What a guided fit's events carry (``Progress.guide``): the guide on the fine grid, the gate's decision
    and numbers, and the classical guided estimate."""

    used: bool
    message: str                    # one line: used or not, and why
    guide: Guide                    # the guide on the fine grid (its units, NaN off the ocean)
    coherence: Coherence            # the gate (transform, amplitude, skill)
    recipe: str                     # the recipe the fit ran (the unguided default when the guide is not used)
    baseline: np.ndarray | None = None   # IBP + a × detail, back-projected (metres), when used
    amplitudes: tuple[float, ...] = ()   # a_k per member (metres per unit of the transformed guide)

    def summary(self) -> dict:
        """JSON-able facts for a summary file (the guide's file, variable, coverage, time; the gate's numbers)."""
        c = self.coherence
        g = {k.removeprefix("guide_"): v for k, v in self.guide.attrs().items()}
        return {"used": self.used, "message": self.message, "recipe": self.recipe, "transform": c.transform,
                "amplitude_m": c.coefficient, "amplitude_stderr_m": c.stderr, "skill_cv": c.r2_cv,
                "sub_skill": c.sub_skill, "corr": c.corr, "cells": c.cells, "gate": GATE_R2, **g}

    def attributes(self) -> dict:
        """:meth:`summary` as NetCDF global attributes: ``guide_<key>``, booleans as 0/1."""
        return {f"guide_{k}": int(v) if isinstance(v, bool) else v for k, v in self.summary().items()}

    def variable_attrs(self) -> dict:
        """CF/ACDD attributes of an output's ``guide`` variable (the guide on the fine grid, in its units)."""
        g = self.guide
        what = g.long_name or g.name
        a = {"long_name": f"guide: {what} ({g.source}:{g.name}) on the fine grid, "
                          + ("used by the fit" if self.used else "not used by the fit (coherence gate)"),
             "coverage_content_type": "auxiliaryInformation", "comment": self.message}
        if g.units:
            a["units"] = g.units
        if g.standard_name in GUIDE_STANDARD_NAMES:
            a["standard_name"] = g.standard_name
        return a


@dataclass(frozen=True, eq=False)
class GuidePlan:
    """A guided fit's set-up: the report, each member's sub-cell detail to add (K, H, W, metres; None when the
    guide is not used) and the networks' guide channels (C, H, W, unit std; None likewise)."""

    report: GuideReport
    detail: np.ndarray | None
    channels: np.ndarray | None


def as_guide(guide: Guide | np.ndarray) -> Guide:
    """A :class:`Guide` from one, or from an array already on the fine grid."""
    return guide if isinstance(guide, Guide) else Guide.from_array(guide)


def _amplitudes(c: Coherence, seeds: list[int], spread: float) -> tuple[float, ...]:
    draws = [np.random.default_rng([int(s), 26]).standard_normal() for s in seeds]
    return tuple(float(c.coefficient + spread * c.stderr * d) for d in draws)


def plan_guide(guide: Guide | np.ndarray, observation: np.ndarray, degradation: Degradation, fine_mask: np.ndarray,
               seeds: list[int], *, recipe: str = "guided", fallback: str = "dip", kind: str = "esqg",
               spread: float = MEMBER_SPREAD, gate: float = GATE_R2) -> GuidePlan:
    """Check, transform and gate ``guide`` for a fit of ``observation``; see the module docstring.

    ``recipe`` and ``fallback`` are the names the report gives to what runs when the guide is used or not;
    ``kind`` the transform (``esqg`` or ``raw``); ``spread`` the members' amplitude spread in jackknife errors;
    ``gate`` the skill threshold (≤ 0: the guide is used whenever its slope keeps its sign; for measurements).

    Raises
    ------
    SSHDipError
        For a guide not on the fine grid, covering too little of it, or constant (:func:`check_guide`).
    """
    g = as_guide(guide)
    mask = np.asarray(fine_mask, dtype=bool)
    values, coverage, _ = check_guide(g.values, mask, f"{g.source}:{g.name}")
    if not isinstance(guide, Guide):
        g = Guide(values, g.name, g.source, g.units, coverage=coverage)
    r = degradation.ratio
    t = transform(values, mask, kind, g.grid_km)
    c = coherence(observation, t, r, kind, gate, degradation.sigma)
    if not c.accepted:
        return GuidePlan(GuideReport(False, c.reason, g, c, fallback), None, None)
    d = detail(np.where(mask, t, 0.0), r, mask)
    amps = _amplitudes(c, seeds, spread)
    obs = np.asarray(observation, dtype=np.float32)
    plain = Degradation(r, sigma=degradation.sigma, mask=mask)
    base = plain.ibp(obs) + c.coefficient * d
    baseline = plain.backproject(np.where(mask, base, np.nan).astype(np.float32), obs)
    scale = float(d[mask].std()) or 1.0
    channels = np.stack([d / scale, np.where(mask, t, 0.0)]).astype(np.float32)
    report = GuideReport(True, c.reason, g, c, recipe, baseline, amps)
    return GuidePlan(report, np.stack([a * d for a in amps]).astype(np.float32), channels)


def guided_std(u, member_std: np.ndarray | None, skill: float, sigma: float = 0.0) -> np.ndarray:
    """The predictive std of a guided fit from the unguided one, ``u`` (a
    :class:`dipcore.uncertainty.Uncertainty`): of its variance beyond the members' spread, the sub-cell share
    (``T² E2`` of ``T² E2 + G σ²``: the noise the estimate keeps is no guide's to predict) is scaled by
    1 − ``skill`` (clipped to [0, :data:`MAX_SKILL`]); the spread is added back in quadrature."""
    s = float(np.clip(skill, 0.0, MAX_SKILL))
    sub = u.transfer ** 2 * u.self_error
    level = sub + u.noise_leak * float(sigma) ** 2
    share = sub / level if level > 0 else 1.0
    m2 = np.nan_to_num(np.asarray(member_std, dtype=np.float64)) ** 2 if member_std is not None else 0.0
    rest = np.maximum(np.asarray(u.std, dtype=np.float64) ** 2 - m2, 0.0)
    return np.sqrt(rest * (1.0 - s * share) + m2).astype(np.float32)


__all__ = ["GuideReport", "GuidePlan", "MAX_SKILL", "MEMBER_SPREAD", "as_guide", "guided_std", "plan_guide"]
