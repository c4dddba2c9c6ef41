"""What a fit tracks from step to step: the exponential average of each member's output (:class:`Ema`), the early
stopping on held-out coarse cells (:func:`holdout_cells`, :class:`HeldOut`), the stop once the estimate has settled
(:class:`Settle`) and the fields an event reports (:class:`Report`: the networks' own output while they learn; the
answer, made consistent with the data, at the end).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from dipcore.degrade import Projector
from dipcore.fitting.setup import FitData, Networks
from dipcore.recipes import Recipe

LATENT_CHUNK = 8  # latent draws run through the networks at once: bounds the memory at large grids


def holdout_cells(ocean: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A seeded random set of ``fraction`` of the ocean coarse cells (none when fewer than 10 would stay)."""
    held = np.zeros_like(ocean, dtype=bool)
    idx = np.flatnonzero(ocean)
    n = int(round(fraction * idx.size))
    if fraction <= 0 or n < 1 or idx.size - n < 10:
        return held
    held.flat[np.random.default_rng(10_000 + seed).choice(idx, n, replace=False)] = True
    return held


class Ema:
    """The exponential average of each member's output with weight ``decay`` on the past (0: the output itself)."""

    def __init__(self, decay: float):
        self.decay = decay
        self.value: torch.Tensor | None = None

    def __call__(self, out: torch.Tensor) -> torch.Tensor:
        if self.decay <= 0:
            return out
        self.value = out if self.value is None else self.decay * self.value + (1 - self.decay) * out
        return self.value


class HeldOut:
    """Early stopping on the held-out coarse cells: per member, the output that predicted them best so far, its
    step and its misfit; the fit ends when no member improved for ``patience`` steps. Inactive (every call a
    pass-through) when no cell is held out."""

    def __init__(self, data: FitData, patience: int):
        self.data, self.patience = data, patience
        self.best: torch.Tensor | None = None       # (K, H, W)
        self.best_loss: torch.Tensor | None = None  # (K,)
        self.best_step: torch.Tensor | None = None  # (K,)

    def update(self, step: int, current: torch.Tensor, last: bool) -> tuple[torch.Tensor, bool]:
        """Score ``current`` (K, H, W) on the held-out cells; return the fields to report and whether the fit ends
        here (at ``last``, or when every member stalled): then the best outputs, else ``current``."""
        if not self.data.n_held:
            return current, last
        ho = self.data.held_misfit(current)
        if self.best is None:
            self.best, self.best_loss = current.clone(), ho.clone()
            self.best_step = torch.full_like(ho, step)
        better = ho < self.best_loss
        self.best = torch.where(better[:, None, None], current, self.best)
        self.best_loss = torch.where(better, ho, self.best_loss)
        self.best_step = torch.where(better, torch.full_like(ho, step), self.best_step)
        last = last or bool((step - self.best_step >= self.patience).all())
        return (self.best if last else current), last

    def selection(self) -> dict[str, np.ndarray | None]:
        """The event's ``selected`` (per member, the best step so far) and ``holdout_loss`` (its misfit)."""
        if self.best_step is None:
            return {"selected": None, "holdout_loss": None}
        return {"selected": self.best_step.cpu().numpy().astype(int),
                "holdout_loss": self.best_loss.cpu().numpy().astype(np.float32)}


class Settle:
    """Stop once the estimate no longer moves: every :attr:`EVERY` steps the members' mean is kept, and its
    *motion* is the RMS over the ocean of the per-cell std of the last ``window // EVERY`` of them, in the fit's
    units (the observation's std). The fit has settled when the motion is below ``threshold`` at step
    ``min_steps`` or later. A windowed-variance rule (ES-WMV, Wang et al. 2021) on the exponentially averaged
    output, which decreases steadily: a threshold, not its minimum, says when. It sees only the fit, not the truth.

    Measured (docs/results.md, benchmarks/RESULTS.md): with 0.003 the default stops after 260–430 steps on the
    project's fields, its RMSE within −0.8 … +0.4 % of its 1500-step answer. ``threshold`` 0 turns it off.
    """

    EVERY = 10

    def __init__(self, data: FitData, threshold: float, window: int, min_steps: int):
        self.threshold, self.min_steps = threshold, min_steps
        self.fine, self.n_fine = data.fine, data.fine.sum()
        self.snaps: deque[torch.Tensor] = deque(maxlen=max(2, window // self.EVERY))
        self.motion: float | None = None

    def update(self, step: int, current: torch.Tensor) -> bool:
        """Record the (K, H, W) ``current`` fields at this step; True when the fit has settled."""
        if self.threshold <= 0 or step % self.EVERY:
            return False
        self.snaps.append(current.mean(dim=0).detach().clone())
        if len(self.snaps) < self.snaps.maxlen:
            return False
        var = torch.stack(tuple(self.snaps)).var(dim=0, unbiased=False)
        self.motion = float(((var * self.fine).sum() / self.n_fine).sqrt())
        return step >= self.min_steps and self.motion < self.threshold


class Report:
    """The (K, H, W) fields an event reports, in metres: the loop's fields with the base of all cells added.

    The user watches the network learn: events during the fit show its own output; only the answer (the last
    event) is made consistent with the data (``recipe.project``), which would otherwise hide what the network
    adds. With M latent samples the answer also gets their mean and spread (:meth:`latent`).
    """

    def __init__(self, data: FitData, recipe: Recipe, shift: torch.Tensor | float, latent_samples: int):
        self.data, self.recipe, self.shift, self.latent_samples = data, recipe, shift, latent_samples
        self.projector = Projector(data.degradation, data.observation, data.fine_ocean, scale=data.std,
                                   offset=data.mean, device=data.device) if recipe.project else None

    def answer(self, fields: torch.Tensor) -> torch.Tensor:
        """Fields made consistent with the data when the recipe asks for it (``recipe.project``)."""
        return self.projector(fields) if self.projector is not None else fields

    def __call__(self, current: torch.Tensor, last: bool, networks: Networks
                 ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """The fields of an event and, for the last one of a fit with latent samples, their (mean, std)."""
        shifted = current + self.shift
        fields = self.data.metres(self.answer(shifted) if last else shifted)
        if not (last and self.latent_samples > 0):
            return fields, None
        latent = self.latent(networks)
        # latent averaging is the member's estimate when no EMA is kept
        return (latent[0] if self.recipe.ema == 0 else fields), latent

    @torch.no_grad()
    def latent(self, networks: Networks) -> tuple[np.ndarray, np.ndarray]:
        """Per member, the mean and std over M latent draws of the answer; the std map is the RMS over members of
        their std. Returns (mean (K, H, W), std (H, W)), metres."""
        m = self.latent_samples
        outs = []
        for start in range(0, m, LATENT_CHUNK):
            out = networks.render(networks.net(networks.draw(min(LATENT_CHUNK, m - start))))
            outs.append(self.answer(out + self.shift))
        s = torch.cat(outs) * self.data.std + self.data.mean                          # (M, K, H, W)
        per_member_std = s.std(dim=0, unbiased=m > 1)
        lat_std = per_member_std.pow(2).mean(dim=0).sqrt()
        return s.mean(dim=0).cpu().numpy().astype(np.float32), lat_std.cpu().numpy().astype(np.float32)


__all__ = ["Ema", "HeldOut", "LATENT_CHUNK", "Report", "Settle", "holdout_cells"]
