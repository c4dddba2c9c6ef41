"""The Downscale tab's background job: it runs ``dipcore.downscale.downscale`` (or a stand-in with its signature) on
the loaded field, computes each snapshot's data misfit (RMS of ``pool(estimate) − observation``: the worker's cost,
not the page's) and posts :class:`Snapshot` updates to its session's slot; the finished ``xr.Dataset`` is its
outcome. The misfit curve is the job's own record, read with :meth:`DownscaleJob.misfit`. It never touches the page
or the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dipcore.degrade import pool
from dipcore.errors import SSHDipError
from dipcore.io import Field
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job


class _Stopped(Exception):
    """Raised from the progress callback to leave ``downscale`` when Stop was pressed (it has no stop flag of
    its own: the exception unwinds its loop and the fit generator is closed when it is dropped)."""


@dataclass(frozen=True)
class Snapshot:
    """The newest state of a run (arrays in metres, fine grid, NaN on land): what the job posts at each step. The
    last one of a fit (``done``) adds its calibrated ``uncertainty``, the ``expected_rmse`` (its RMS, metres) and
    why the fit stopped (``stop_reason``, dipcore.solver.STOP_REASONS). A guided run's events carry the gate's
    report (``guide``, a :class:`dipcore.guide.GuideReport`: the guide on the fine grid, used or not and why)."""

    step: int
    iters: int
    estimate: np.ndarray
    std: np.ndarray | None
    elapsed: float
    done: bool = False
    uncertainty: np.ndarray | None = None
    expected_rmse: float | None = None
    stop_reason: str | None = None
    guide: object | None = None


def snapshot(p) -> Snapshot:
    """The :class:`Snapshot` of a ``dipcore.solver.Progress`` event (float32 copies)."""
    as32 = lambda a: None if a is None else np.asarray(a, np.float32)  # noqa: E731
    return Snapshot(int(p.step), int(p.iters), as32(p.estimate), as32(p.member_std), float(p.elapsed),
                    bool(p.done), as32(getattr(p, "uncertainty", None)), getattr(p, "expected_rmse", None),
                    getattr(p, "stop_reason", None), getattr(p, "guide", None))


def misfit_rms(estimate: np.ndarray, observation: np.ndarray, factor: int) -> float:
    """RMS (metres) of ``pool(estimate, factor) − observation`` over the cells where both are finite."""
    d = pool(np.asarray(estimate, dtype=np.float32), factor) - observation
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d.astype(np.float64) ** 2))) if d.size else float("nan")


class DownscaleJob(Job):
    """One downscaling run of ``field`` by ``factor``.

    Parameters
    ----------
    fit : callable
        ``fit(da, factor, *, progress, **opts)`` → ``xr.Dataset`` (the signature of
        ``dipcore.downscale.downscale``).
    field : Field
        The coarse map (the observation).
    factor : int
        How much finer the answer is, per side.
    opts : dict
        The rest of ``fit``'s arguments (members, recipe, seed, device, iters, every, history, provenance).
    threads : int, optional
        Torch intra-op threads of the fit, set in the job's own thread (None: torch's setting).
    queue : FitQueue, optional
        The server's fit queue.
    """

    def __init__(self, fit: Callable, field: Field, factor: int, opts: dict, threads: int | None = None,
                 queue: FitQueue | None = None):
        super().__init__(name="ssh-dip-downscale", queue=queue)
        self.fit, self.field, self.factor, self.opts, self.threads = fit, field, factor, opts, threads
        self._lock = threading.Lock()  # guards the misfit curve: written by the worker, read on the loop
        self._misfit: list[tuple[int, float]] = []
        self._final: tuple[int, float] | None = None

    def misfit(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, misfit RMS in metres) of the networks' own output so far; the fit's last event is kept apart
        (:meth:`final_misfit`): the tab's recipe, the default, makes it consistent with the map (back-projection),
        and on the curve it would read as a cliff."""
        with self._lock:
            a = np.array(self._misfit, dtype=float).reshape(-1, 2)
        return a[:, 0], a[:, 1]

    def final_misfit(self) -> tuple[int, float] | None:
        """(step, misfit RMS in metres) of the fit's final answer once it has come (None before)."""
        with self._lock:
            return self._final

    def work(self):
        if self.threads:  # torch's thread count belongs to the calling thread: set it in the worker's own
            import torch

            torch.set_num_threads(self.threads)
        obs = np.asarray(self.field.values, dtype=np.float32)

        def progress(p) -> None:
            if self.stop_requested and not p.done:
                raise _Stopped
            m = misfit_rms(p.estimate, obs, self.factor)  # the worker's cost, not the page's
            with self._lock:
                if p.done:
                    self._final = (int(p.step), m)
                else:
                    self._misfit.append((int(p.step), m))
            self.post(snapshot(p))

        try:
            return self.fit(self.field.data, self.factor, progress=progress, **self.opts)
        except _Stopped:
            return None

    def failure(self, exc: Exception) -> str:
        """The user's input or choice as a message; out of memory with what to do; anything else as a failure."""
        if isinstance(exc, SSHDipError):
            return str(exc)
        if isinstance(exc, MemoryError):
            return "out of memory: use a smaller factor, fewer members or a smaller region"
        return f"the run failed: {type(exc).__name__}: {exc}"


__all__ = ["DownscaleJob", "Snapshot", "misfit_rms", "snapshot"]
