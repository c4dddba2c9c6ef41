"""How a run is reported: its speed and ETA while it runs, and, once it ends, why it ended and which step the
estimate comes from (on the page and in the downloaded NetCDF's ``config_*`` attributes).

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



class EndReason(Enum):
    """Why a run ended; the value is how the page and the NetCDF's ``config_end_reason`` say it."""

    FINISHED = "finished"            # all its iterations (a sweep: all its fits; a downscale: its file is ready)
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


def eta_text(step: int, iters: int, rate: float) -> str:
    """'ETA 42 s' once ``ETA_AFTER`` steps are done and the rate is known; '' before (no wild first guess)."""
    if step < ETA_AFTER or not np.isfinite(rate) or rate <= 0:
        return ""
    left = (iters - step) / rate
    return f"ETA {left:.0f} s" if left < 120 else f"ETA {left / 60:.1f} min"


def end_reason(p: Progress | None, stopped: bool, failed: bool = False) -> EndReason:
    """Why a fit whose last event shown is ``p`` ended: all its iterations, the recipe's held-out check (``p`` is
    done before ``iters``), a failure of the worker (unless Stop came first), else a stop."""
    if p is not None and p.done:
        return EndReason.FINISHED if p.step >= p.iters else EndReason.EARLY
    if failed and not stopped:
        return EndReason.FAILED
    return EndReason.STOPPED


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
    45 · 2.10 it/s · RMSE …'. It starts with 'done' or 'stopped' (what a glance looks for)."""
    state = "done" if p.done else "stopped"
    src = estimate_steps(p)
    src = f"estimate from step{'s' if ',' in src else ''} {src}"
    speed = f"{rate:.2f} it/s · " if np.isfinite(rate) else ""
    return f"{state} at step {p.step}/{p.iters} · {reason.value} · {src} · {speed}{scores}"


__all__ = ["ETA_AFTER", "RATE_WINDOW", "EndReason", "end_config", "end_line", "end_reason", "estimate_steps",
           "eta_text", "recent_rate"]
