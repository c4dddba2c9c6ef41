"""How a run is reported: its speed and ETA while it runs, and, once it ends, why it ended and which step the
estimate comes from (on the page and in the downloaded NetCDF's ``config_*`` attributes).

A recipe with a stopping rule (the default ``dip`` stops once its estimate has settled) treats its iteration count
as a cap: while it runs the page says so and its ETA reads "at most"; when it ends the page says where and why
(:func:`stop_sentence`, from the last event's ``stop_reason``).

Pure functions of ``dipcore.solver.Progress`` events and (step, elapsed) pairs, so the app and the tests share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dipcore.solver import Progress

ETA_AFTER = 5      # steps before an ETA is shown: the first steps pay for warm-up (allocation, JIT, caches)
RATE_WINDOW = 20   # the speed is measured over this many recent steps, not since the start



# why a fit stopped by itself (its last event's ``stop_reason``), in the page's words: "settled at step 330 (the
# estimate no longer moved)". dipcore.solver.STOP_REASONS says the same for the CLI.
STOP_WORDS = {
    "settled": ("settled", "the estimate no longer moved"),
    "held-out": ("stopped itself", "the held-out cells stopped improving"),
    "iterations": ("ran to its cap", "it reached its iteration count"),
}


class EndReason(Enum):
    """Why a run ended; the value is how the page and the NetCDF's ``config_end_reason`` say it."""

    FINISHED = "finished"            # all its iterations (a sweep: all its fits; a downscale: its file is ready)
    SETTLED = "settled"              # the recipe's stopping rule: the estimate no longer moved
    EARLY = "early-stopped"          # the recipe's held-out check ended it before its iterations
    STOPPED = "stopped by the user"  # Stop, a new field, a closed tab
    FAILED = "failed"                # the worker raised: its message is shown


def recent_rate(times: Sequence[tuple[int, float]], window: int = RATE_WINDOW) -> float:
    """Iterations per second over the last ``window`` steps.

    Parameters
    ----------
    times : sequence of (int, float)
        (step, seconds since the fit started) of the events seen so far, in order.
    window : int
        How many recent steps to measure over: the first, slow step (warm-up) must not set the pace for long.

    Returns
    -------
    float
        Steps per second, NaN while fewer than two events are known or no time has passed.
    """
    if len(times) < 2:
        return float("nan")
    s1, t1 = times[-1]
    s0, t0 = times[max(0, len(times) - 1 - window)]
    return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else float("nan")


def duration(seconds: float) -> str:
    """'42 s', '2.5 min' or '1.3 h'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def eta_text(step: int, iters: int, rate: float, cap: bool = False) -> str:
    """'ETA 42 s' once ``ETA_AFTER`` steps are done and the rate is known; '' before (no wild first guess). With
    ``cap`` (the recipe may stop before ``iters``): 'at most 42 s left'."""
    if step < ETA_AFTER or not np.isfinite(rate) or rate <= 0:
        return ""
    left = duration((iters - step) / rate)
    return f"at most {left} left" if cap else f"ETA {left}"


def stops_itself(recipe) -> bool:
    """Whether a recipe (a ``dipcore.recipes.Recipe``) may end before its iteration count: its count is a cap."""
    return bool(getattr(recipe, "settle", 0) or getattr(recipe, "holdout", 0))


def cap_note(recipe) -> str:
    """What the iteration count means for ``recipe``, in a few words for the progress line ('' for none)."""
    if getattr(recipe, "settle", 0):
        return "a cap: it stops once the estimate settles"
    if getattr(recipe, "holdout", 0):
        return "a cap: it stops when the held-out cells stop improving"
    return ""


def end_reason(p: Progress | None, stopped: bool, failed: bool = False) -> EndReason:
    """Why a fit whose last event shown is ``p`` ended: its stopping rule (``p.stop_reason``: settled, held-out) or
    all its iterations, a failure of the worker (unless Stop came first), else a stop. An event without a
    ``stop_reason`` (a stand-in fit) that ends before ``iters`` counts as the held-out check's."""
    if p is not None and p.done:
        why = getattr(p, "stop_reason", None)
        if why == "settled":
            return EndReason.SETTLED
        if why == "held-out" or (why is None and p.step < p.iters):
            return EndReason.EARLY
        return EndReason.FINISHED
    if failed and not stopped:
        return EndReason.FAILED
    return EndReason.STOPPED


def stop_sentence(p: Progress) -> str:
    """Where and why a fit that ended by itself stopped: 'settled at step 330 of at most 1500 (the estimate no
    longer moved)'; '' for an event that is not the last of its fit."""
    if not p.done:
        return ""
    why = getattr(p, "stop_reason", None) or ("iterations" if p.step >= p.iters else "held-out")
    verb, because = STOP_WORDS.get(why, (why, why))
    where = f"at step {p.step}" if why == "iterations" else f"at step {p.step} of at most {p.iters}"
    return f"{verb} {where} ({because})"


def estimate_steps(p: Progress) -> str:
    """Which step(s) the estimate of event ``p`` comes from: ``"45"``, or, when a held-out recipe picked each
    member's best step, those steps (``"80, 95"``)."""
    if p.done and p.selected is not None:
        return ", ".join(str(int(k)) for k in np.atleast_1d(p.selected))
    return str(p.step)


def end_config(p: Progress, reason: EndReason) -> dict:
    """What the downloaded result records about the run's end (``config_last_step``, ``config_end_reason`` and
    ``config_estimate_steps`` attributes once ``dipcore.export.result_dataset`` writes them)."""
    return {"last_step": int(p.step), "end_reason": reason.value, "estimate_steps": estimate_steps(p)}


def end_line(p: Progress, reason: EndReason, rate: float, scores: str) -> str:
    """The progress line of an ended run, e.g. 'stopped at step 45/300 · stopped by the user · estimate from step
    45 · 2.10 it/s · RMSE …', or for a fit that stopped itself 'done at step 330/1500 · settled at step 330 of at
    most 1500 (the estimate no longer moved) · …'. It starts with 'done' or 'stopped' (what a glance looks for)."""
    state = "done" if p.done else "stopped"
    src = estimate_steps(p)
    src = f"estimate from step{'s' if ',' in src else ''} {src}"
    speed = f"{rate:.2f} it/s · " if np.isfinite(rate) else ""
    why = stop_sentence(p) if reason in (EndReason.SETTLED, EndReason.EARLY) else reason.value
    return f"{state} at step {p.step}/{p.iters} · {why} · {src} · {speed}{scores}"


__all__ = ["ETA_AFTER", "RATE_WINDOW", "STOP_WORDS", "EndReason", "cap_note", "duration", "end_config", "end_line",
           "end_reason", "estimate_steps", "eta_text", "recent_rate", "stop_sentence", "stops_itself"]
