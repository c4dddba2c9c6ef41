"""The fit loop: argmin_θ ‖d(g_θ(z)) − X_lr‖² on ocean cells, for K members at once, as a Python generator.

``fit(...)`` yields :class:`Progress` events every ``every`` steps and a last one with ``done=True``. Closing
the generator (``.close()``), or simply not pulling the next event, stops the work: nothing runs between two
events except the steps that lead to the next one. The pieces the loop calls (data and networks set up once, the
held-out early stopping, the reported fields) are in :mod:`dipcore.fitting`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import numpy as np
import torch

from dipcore import metrics
from dipcore.fitting import memory
from dipcore.degrade import Degradation
from dipcore.errors import SSHDipError
from dipcore.fitting.options import check_options
from dipcore.fitting.setup import FitData, Networks, Optimiser, base_field, fine_ocean
from dipcore.fitting.tracking import Ema, HeldOut, Report, Settle, holdout_cells
from dipcore.recipes import DEFAULT_RECIPE, RECIPES, Recipe, get_recipe  # noqa: F401  (the app reads them here)
from dipcore.recipes import guided_recipe

if TYPE_CHECKING:  # the guide package loads when a fit is given a guide
    from dipcore.guide import GuideReport


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; an unavailable CUDA request is a user error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SSHDipError("CUDA was requested but no CUDA GPU is available here; use --device cpu or auto")
    if not (name == "cpu" or name.startswith("cuda")):
        raise SSHDipError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)


@dataclass(frozen=True)
class Progress:
    """One progress event of a fit (arrays are float32 NumPy on the fine grid, metres, NaN on land); built once,
    whole, and never changed afterwards."""

    step: int
    iters: int
    loss: np.ndarray                 # per member, normalised units
    estimate: np.ndarray             # ensemble mean
    member_std: np.ndarray | None    # std across members (K > 1)
    elapsed: float                   # seconds since the fit started
    metrics: dict[str, float] = field(default_factory=dict)  # vs truth, when the truth is known
    members: np.ndarray | None = None  # (K, H, W) when asked for
    latent_std: np.ndarray | None = None  # final event, when latent samples were drawn
    latent_mean: np.ndarray | None = None
    done: bool = False
    device: str = "cpu"
    params_per_member: int = 0
    selected: np.ndarray | None = None  # holdout recipes: per member, the best step so far (the final event
                                        # reports those outputs; earlier events the current ones)
    holdout_loss: np.ndarray | None = None  # per member, the held-out misfit of the reported output
    lr: np.ndarray | None = None     # per member, the learning rate after this step (the plateau schedule's)
    motion: float | None = None      # settling recipes: how much the estimate moved over the last window (in units
                                     # of the observation's std; the fit stops below the recipe's ``settle``)
    stop_reason: str | None = None   # last event: "settled", "held-out" or "iterations" (see STOP_REASONS)
    uncertainty: np.ndarray | None = None  # last event: the predictive std of the estimate (metres, calibrated on
                                           # the observation alone: dipcore.uncertainty.predictive_std)
    expected_rmse: float | None = None     # last event: its RMS over the ocean (metres), the error the fit expects
    uncertainty_prior: str | None = None   # last event: the prior of what lies below the coarse cell it used
    guide: GuideReport | None = None  # a fit given a guide: used or not, why, the gate's numbers, the guide on the
                                      # fine grid, the classical guided estimate (dipcore.guide.GuideReport)

    @property
    def iters_per_s(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        """Seconds left at the current speed."""
        rate = self.iters_per_s
        return (self.iters - self.step) / rate if rate > 0 else float("nan")


STOP_REASONS = {
    "settled": "the estimate had settled (it no longer moved)",
    "held-out": "the held-out cells stopped improving",
    "iterations": "the iteration count was reached",
}


def member_seeds(seed: int, members: int) -> list[int]:
    """Member k of a fit with seed s is initialised exactly like a single fit with seed s + k."""
    return [int(seed) + k for k in range(members)]


@dataclass(frozen=True)
class Events:
    """Builds a fit's :class:`Progress` events: the reported fields masked to the fine ocean, their mean and
    spread, the scores against the truth when it is known (the last event's with the effective resolution)."""

    iters: int
    fine_ocean: np.ndarray
    start: float                     # time.perf_counter() when the fit started
    truth: np.ndarray | None
    dx_km: float | None
    keep_members: bool
    device: str
    params_per_member: int
    observation: np.ndarray          # for the last event's predictive uncertainty
    degradation: Degradation
    spacing_km: float | None
    prior: str
    guide: GuideReport | None = None  # a guided fit's report (its skill scales the uncertainty)

    def __call__(self, step: int, misfit: torch.Tensor, losses: list[float] | None, fields: np.ndarray,
                 last: bool, latent: tuple[np.ndarray, np.ndarray] | None = None, **extra: object) -> Progress:
        """The event of ``step``: ``fields`` (K, H, W) metres (masked here, in place), the members' ``misfit``
        (read on the host unless ``losses`` holds it already), ``latent`` (mean, std) and ``extra`` fields of
        :class:`Progress` (``lr``, ``selected``, ``holdout_loss``)."""
        if losses is None:
            losses = misfit.detach().cpu().tolist()
        fields[:, ~self.fine_ocean] = np.nan
        est = fields.mean(axis=0)
        member_std = fields.std(axis=0, ddof=1) if fields.shape[0] > 1 else None
        lat_mean, lat_std = latent if latent is not None else (None, None)
        if lat_std is not None:
            lat_std[~self.fine_ocean] = np.nan
        scores = metrics.scores(est, self.truth, self.dx_km if last else None) if self.truth is not None else {}
        if last:
            from dipcore.uncertainty import predictive_std

            u = predictive_std(est, self.observation, self.degradation, mask=self.fine_ocean, member_std=member_std,
                               spacing_km=self.spacing_km, prior=self.prior)
            extra.update(uncertainty=u.std, expected_rmse=u.expected_rmse, uncertainty_prior=u.prior)
            if self.guide is not None and self.guide.used:  # the guide predicts part of the sub-cell error
                from dipcore.guide import guided_std

                std = guided_std(u, member_std, self.guide.coherence.sub_skill, self.degradation.sigma)
                extra.update(uncertainty=np.where(self.fine_ocean, std, np.nan).astype(np.float32),
                             expected_rmse=float(np.sqrt(np.mean(std[self.fine_ocean].astype(np.float64) ** 2))))
        return Progress(step=step, iters=self.iters, loss=np.asarray(losses, dtype=np.float32), estimate=est,
                        member_std=member_std, elapsed=time.perf_counter() - self.start, metrics=scores,
                        members=fields if self.keep_members else None, latent_std=lat_std,
                        latent_mean=lat_mean.mean(axis=0) if lat_mean is not None else None, done=last,
                        device=self.device, params_per_member=self.params_per_member, guide=self.guide, **extra)


def fit(observation: np.ndarray, degradation: Degradation, recipe: str | Recipe = "default", *,
        members: int = 1, latent_samples: int = 0, iters: int | None = None, seed: int = 0,
        device: str | torch.device = "auto", every: int = 10, truth: np.ndarray | None = None,
        fine_mask: np.ndarray | None = None, dx_km: float | None = None, keep_members: bool = False,
        spacing_km: float | None = None, uncertainty_prior: str = "auto", guide=None) -> Iterator[Progress]:
    """Fit K generators to one coarse observation; yield :class:`Progress` every ``every`` steps.

    Parameters
    ----------
    observation : np.ndarray
        Coarse field X_lr (h, w), metres, NaN on land.
    degradation : Degradation
        The forward operator (its ratio maps the fine grid to ``observation``).
    recipe : str or Recipe
        A name of :data:`dipcore.recipes.RECIPES` (``"default"`` is ``dip``) or a custom :class:`Recipe`.
    members, latent_samples : int
        Ensemble size K (trained together); M draws of the input through the fitted members at the end
        (``latent_std`` in the last event).
    iters : int, optional
        Overrides the recipe's iteration count.
    seed : int
        Member k is initialised (and draws its inputs) from seed ``seed + k``.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    every : int
        Yield an event every ``every`` steps (the last step always yields).
    truth, fine_mask : np.ndarray, optional
        Fine truth (H, W): events then carry RMSE/SSIM/nRMSE; fine ocean mask (default: the operator's, or the
        observation's blown up).
    dx_km : float, optional
        Fine grid spacing, for the effective resolution in the final metrics.
    keep_members : bool
        Put each member's field in every event (for per-pixel inspection).
    spacing_km, uncertainty_prior
        Fine grid spacing (default ``dx_km``) and the prior of what lies below the coarse cell, for the last
        event's predictive ``uncertainty`` (:func:`dipcore.uncertainty.predictive_std`).
    guide : dipcore.guide.Guide or np.ndarray or dipcore.guide.GuidePlan, optional
        A fine guide map (SST): the recipe's guided one runs if the coherence gate passes it (:func:`_guided`).

    Yields
    ------
    Progress
    """
    rec = get_recipe(recipe) if guide is None else guided_recipe(recipe)
    n_iter = int(rec.iters if iters is None else iters)
    check_options(iters=n_iter, members=members, latent_samples=latent_samples)
    dev, obs = resolve_device(device), np.asarray(observation, dtype=np.float32)
    r = degradation.ratio
    memory.check_fit(rec, members, (obs.shape[0] * r, obs.shape[1] * r), r, dev, latent_samples)  # before allocating
    mask = fine_ocean(obs, degradation, fine_mask)
    start = time.perf_counter()
    rec, detail, channels, guided = _guided(guide, rec, obs, degradation, mask, member_seeds(seed, members))
    try:
        data = FitData.build(obs, degradation, mask, holdout_cells(np.isfinite(obs), rec.holdout, seed), dev)
        base, shift = base_field(data, rec, detail)
        nets = Networks(rec, data, member_seeds(seed, members), base, channels)
        opt, ema, tracker = Optimiser(nets, rec, n_iter), Ema(rec.ema), HeldOut(data, rec.patience)
        settle = Settle(data, rec.settle, rec.settle_window, rec.min_iters)
        report = Report(data, rec, shift, latent_samples)
        event = Events(n_iter, mask, start, truth, dx_km, keep_members, str(dev), nets.params_per_member, obs,
                       degradation, dx_km if spacing_km is None else spacing_km, uncertainty_prior, guided)
        for step in range(1, n_iter + 1):
            opt.zero_grad()
            out = nets()                                         # (K, H, W)
            misfit = data.misfit(out)
            data.objective(misfit, rec.discrepancy).sum().backward()  # members share no parameter: own grads
            losses = opt.step(misfit)
            averaged = ema(out.detach())
            settled = settle.update(step, averaged)
            current, last = tracker.update(step, averaged, last=step == n_iter or settled)
            if step % every == 0 or last:
                fields, latent = report(current, last, nets)
                why = _stop_reason(step == n_iter, settled) if last else None
                yield event(step, misfit, losses, fields, last, latent, lr=opt.lr, motion=settle.motion,
                            stop_reason=why, **tracker.selection())
            if last:
                return
    except torch.cuda.OutOfMemoryError as exc:
        raise SSHDipError(f"out of GPU memory for {members} member(s) on a {mask.shape[0]}×{mask.shape[1]} grid; "
                          "use fewer members, a smaller region or --device cpu") from exc


def _guided(guide: object | None, recipe: Recipe, observation: np.ndarray, degradation: Degradation, mask: np.ndarray,
            seeds: list[int]) -> tuple[Recipe, np.ndarray | None, np.ndarray | None, GuideReport | None]:
    """What a guide changes in a fit (:func:`dipcore.guide.plan_guide`; a ``GuidePlan`` is taken as it is): the
    recipe that runs (the unguided default, exactly, when the gate refused the guide; for the guided recipe's
    iteration count, the default's for the guided default), each member's sub-cell detail, the networks' guide
    channels and the report every event carries (``Progress.guide``). Without a guide, nothing."""
    if guide is None:
        return recipe, None, None, None
    from dipcore.guide import GuidePlan, plan_guide

    plan = guide if isinstance(guide, GuidePlan) else \
        plan_guide(guide, observation, degradation, mask, seeds, recipe=recipe.name, fallback=DEFAULT_RECIPE)
    if not plan.report.used:
        return get_recipe(DEFAULT_RECIPE), None, None, plan.report
    return recipe, plan.detail, plan.channels, plan.report


def _stop_reason(at_cap: bool, settled: bool) -> str:
    """Why a fit's last step was its last (a last step that is neither the cap nor settled: the held-out cells)."""
    return "settled" if settled else "iterations" if at_cap else "held-out"


def run(observation: np.ndarray, degradation: Degradation, **kwargs) -> Progress:
    """Run a fit to the end and return its last event (convenience for scripts and tests)."""
    last = None
    for last in fit(observation, degradation, **kwargs):
        pass
    return last  # type: ignore[return-value]


__all__ = ["DEFAULT_RECIPE", "Progress", "RECIPES", "Recipe", "STOP_REASONS", "fit", "get_recipe", "member_seeds",
           "resolve_device", "run"]
