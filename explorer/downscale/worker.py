"""The Downscale tab's worker thread: it runs ``dipcore.downscale.downscale`` (or a stand-in with its signature) on
the loaded field, computes each snapshot's data misfit (RMS of ``pool(estimate) − observation``: the worker's cost,
not the page's) and hands snapshots and the outcome to the job's latest-wins slot. It never touches the page or
the state: :class:`explorer.downscale.state.DownscaleState` polls the slot on the session's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dipcore.degrade import pool
from dipcore.errors import SSHDipError
from dipcore.io import Field
from explorer.run.job import Job


class _Stopped(Exception):
    """Raised from the progress callback to leave ``downscale`` when Stop was pressed (it has no stop flag of
    its own: the exception unwinds its loop and the fit generator is closed when it is dropped)."""


@dataclass
class Snapshot:
    """The newest state of a run, as the worker hands it over (arrays in metres, fine grid, NaN on land)."""

    step: int
    iters: int
    estimate: np.ndarray
    std: np.ndarray | None
    elapsed: float


def misfit_rms(estimate: np.ndarray, observation: np.ndarray, factor: int) -> float:
    """RMS (metres) of ``pool(estimate, factor) − observation`` over the cells where both are finite."""
    d = pool(np.asarray(estimate, dtype=np.float32), factor) - observation
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d.astype(np.float64) ** 2))) if d.size else float("nan")


def work(job: Job, fit: Callable, field: Field, factor: int, opts: dict, curve: list) -> None:
    """The worker: run ``fit`` (``downscale``'s signature) on ``field``; snapshots and the outcome go to the slot,
    misfit points to ``curve`` (under ``job.lock``)."""
    obs = np.asarray(field.values, dtype=np.float32)

    def progress(p) -> None:
        if job.stop_requested and not p.done:
            raise _Stopped
        m = misfit_rms(p.estimate, obs, factor)  # the worker's cost, not the page's
        snap = Snapshot(int(p.step), int(p.iters), np.asarray(p.estimate, np.float32),
                        None if p.member_std is None else np.asarray(p.member_std, np.float32), float(p.elapsed))
        with job.lock:
            curve.append((snap.step, m))
        job.put({"snapshot": snap})

    try:
        ds = fit(field.data, factor, progress=progress, **opts)
    except _Stopped:
        job.put({"stopped": True})
        return
    except SSHDipError as exc:  # the user's input or choice: a message, not a traceback
        job.put({"error": str(exc)})
        return
    except MemoryError:
        job.put({"error": "out of memory: use a smaller factor, fewer members or a smaller region"})
        return
    job.put({"result": ds})


__all__ = ["Snapshot", "misfit_rms", "work"]
