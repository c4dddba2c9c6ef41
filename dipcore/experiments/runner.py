"""Running the fits of a sweep: progress to a callback, cancellation by a flag, one fit to its end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dipcore import recipes, solver
from dipcore.constants import RATIOS
from dipcore.errors import SSHDipError
from dipcore.experiments.cases import Case, expand_cases, parse_case
from dipcore.experiments.results import prepare_out

ProgressFn = Callable[[str, float], None]
StopFn = Callable[[], bool]

#: Messages passed to ``on_progress`` while a fit runs contain this marker; the line that closes a fit does not.
STEP_MARKER = ": step "


class ExperimentCancelled(RuntimeError):
    """Raised inside a sweep when ``should_stop()`` returns True (the UI's Stop button)."""


def default_recipe() -> str:
    """The current default recipe name, read at call time (recipes may be added while we run)."""
    return recipes.DEFAULT_RECIPE


@dataclass
class Tracker:
    """Counts fits, forwards progress to the callback and checks the stop flag."""

    total: int
    on_progress: ProgressFn | None = None
    should_stop: StopFn | None = None
    done: int = 0

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise ExperimentCancelled("experiment cancelled")

    def say(self, message: str, within: float = 0.0) -> None:
        if self.on_progress is not None:
            self.on_progress(message, min(1.0, (self.done + within) / max(self.total, 1)))


def run_fit(twin, tracker: Tracker, label: str, *, recipe: str, members: int, iters: int | None, seed: int,
            device: str, latent_samples: int = 0, keep_members: bool = False):
    """One fit to the end, reporting every few steps and checking for cancellation between events.

    Calls ``dipcore.solver.fit`` as looked up at call time (tests replace it with a stand-in).
    """
    n = int(iters or recipes.get_recipe(recipe).iters)
    tracker.check()
    gen = solver.fit(twin.observation, twin.degradation, recipe, members=members, latent_samples=latent_samples,
                     iters=n, seed=seed, device=device, every=max(1, n // 20), keep_members=keep_members)
    head = f"[{tracker.done + 1}/{tracker.total}] {label}"
    final = None
    try:
        for final in gen:
            tracker.check()
            tracker.say(f"{head}{STEP_MARKER}{final.step}/{final.iters}", final.step / final.iters)
    finally:
        gen.close()  # stops the work at once when cancelled
    tracker.done += 1
    return final, head


def check_common(cases: Sequence[str], ratios: Sequence[int], noises: Sequence[float],
                 out: str | Path | None) -> tuple[list[Case], Path | None]:
    """Check the settings every sweep shares; return the parsed cases (time ranges expanded) and the (created)
    output folder."""
    bad = [r for r in ratios if r not in RATIOS]
    if bad or not ratios:
        raise SSHDipError(f"ratios must be among {', '.join(map(str, RATIOS))}; got {list(ratios)}")
    if not noises or any(not np.isfinite(s) or s < 0 for s in noises):
        raise SSHDipError(f"noise fractions must be finite and ≥ 0; got {list(noises)}")
    parsed = [parse_case(c) for c in expand_cases(cases)]
    if not parsed:
        raise SSHDipError("give at least one case")
    return parsed, prepare_out(out)


__all__ = ["STEP_MARKER", "ExperimentCancelled", "ProgressFn", "StopFn", "Tracker", "check_common",
           "default_recipe", "run_fit"]
