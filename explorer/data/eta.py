"""How long a run will take, said before it starts: a cost model of one fit step, and the sentence the Downscale tab
shows under its Downscale button.

A step of the default recipe costs a fixed part (the loop, the events, the page's copies), then per member a part
that grows with the network's grid (``dip`` works on a grid twice as fine as the observation, whatever the factor)
and a smaller one with the fine grid (bicubic, pooling, back-projection). The constants were measured on this
project's 2-core CPU while other jobs kept it busy (load 4.5, ``dip``, 2026-12-06: the Gulf Stream twin at ×8, ×4
and ×2 with K = 1, 2, 4, and the Mediterranean at ×4 with K = 2, each within about 25 %): an idle machine is
faster, a GPU much faster. Once a run of the session has been timed, its speed rescales the model
(:meth:`Pace.learn`), so the next estimate is this server's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.data.progress import duration

BASE_S = 0.12      # s per step whatever the size
NET_S = 1.3e-5     # s per step, member and cell of the network's grid
FINE_S = 1.6e-6    # s per step, member and cell of the fine grid
USUAL_STEPS = 400  # a settling recipe usually stops after 200-450 steps (dipcore's measurements, docs/results.md)
QUICK_STEPS = 50   # a quick look in class: the cap the plan suggests when the usual run is long
LONG_S = 300       # a run longer than this is long for a class: the plan suggests a quick look


def network_cells(recipe, obs_shape: tuple[int, int], factor: int) -> int:
    """Cells of the grid the recipe's networks work on, for an observation of ``obs_shape`` refined ``factor``
    times (``Recipe.upsample``: -2 twice as fine as the observation, -1 the observation's grid, k the output's
    grid k times coarser)."""
    h, w = obs_shape
    up = int(getattr(recipe, "upsample", 1))
    if up == -2:
        return 4 * h * w
    if up == -1:
        return h * w
    up = max(1, min(up, factor))
    return math.ceil(h * factor / up) * math.ceil(w * factor / up)


def step_seconds(recipe, obs_shape: tuple[int, int], factor: int, members: int) -> float:
    """The model's seconds per step of a fit (before any rescaling)."""
    fine = obs_shape[0] * obs_shape[1] * factor * factor
    return BASE_S + members * (NET_S * network_cells(recipe, obs_shape, factor) + FINE_S * fine)


@dataclass
class Pace:
    """The cost model of one browser session, rescaled by the runs it has timed (no run: the model as measured)."""

    scale: float = 1.0
    timed: bool = False

    def learn(self, seconds_per_step: float, model_seconds: float) -> None:
        """A run took ``seconds_per_step`` where the model said ``model_seconds``: later estimates follow it."""
        if seconds_per_step > 0 and model_seconds > 0 and math.isfinite(seconds_per_step):
            self.scale, self.timed = seconds_per_step / model_seconds, True

    def seconds(self, recipe, obs_shape: tuple[int, int], factor: int, members: int, steps: int) -> float:
        return self.scale * step_seconds(recipe, obs_shape, factor, members) * steps

    def plan(self, recipe, obs_shape: tuple[int, int], factor: int, members: int, iters: int) -> str:
        """What a run will do and how long it will take, before it starts, e.g. "The recipe 'dip' stops by itself
        once the estimate settles (after at least 200 steps, usually a few hundred): 1500 is a cap. Time: about
        3 min if it settles near 400 steps, at most 11 min (a rough estimate from a 2-core CPU)."."""
        # until a run of this session has been timed the constants are the development CPU's, not this server's
        where = "as this session's last run went" if self.timed else "a rough estimate from a 2-core CPU"
        most = duration(self.seconds(recipe, obs_shape, factor, members, iters))
        settle = float(getattr(recipe, "settle", 0) or 0)
        if settle and iters > int(getattr(recipe, "min_iters", 0)):
            low = max(int(getattr(recipe, "min_iters", 0)), min(USUAL_STEPS, iters))
            usual = self.seconds(recipe, obs_shape, factor, members, low)
            text = (f"The recipe '{recipe.name}' stops by itself once the estimate settles (after at least "
                    f"{recipe.min_iters} steps, usually a few hundred): {iters} is a cap. Time: about "
                    f"{duration(usual)} if it settles near {low} steps, at most {most} ({where}).")
        else:
            usual = self.seconds(recipe, obs_shape, factor, members, iters)
            text = f"{iters} steps of the recipe '{recipe.name}'. Time: about {most} ({where})."
        if usual > LONG_S and iters > QUICK_STEPS:
            quick = duration(self.seconds(recipe, obs_shape, factor, members, QUICK_STEPS))
            text += f" For a quick look, set a cap of {QUICK_STEPS} steps (about {quick})."
        return text


__all__ = ["BASE_S", "FINE_S", "LONG_S", "NET_S", "QUICK_STEPS", "USUAL_STEPS", "Pace", "network_cells",
           "step_seconds"]
