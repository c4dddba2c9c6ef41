"""The explore tab's fit as a background :class:`explorer.run.job.Job`: it runs an injected fit function
(``dipcore.solver.fit`` or a stand-in with its signature), posts each ``dipcore.solver.Progress`` event to its
session's slot, and keeps what the page draws besides the newest event: the score curve, the step times, decimated
estimate snapshots and the exact values at the tapped cell. These records are the job's own; the session and the
views read them through its locked methods (:meth:`FitJob.scores`, :meth:`FitJob.snapshots`…).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from dipcore.errors import SSHDipError
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job

HIST_SNAPSHOTS = 200      # at most this many decimated estimate snapshots per run (per-pixel history)
HIST_SIDE = 256           # snapshots are exact up to this side (the samples), decimated above it


class FitJob(Job):
    """One fit of one session (see the module docstring).

    Parameters
    ----------
    fit : callable
        ``fit(observation, degradation, recipe, *, members, latent_samples, iters, seed, device, every, truth,
        dx_km, keep_members)`` → iterator of ``dipcore.solver.Progress`` (the signature of
        ``dipcore.solver.fit``).
    twin : dipcore.twin.Twin
        What is fitted.
    cfg : dict
        The run's settings (members, latent_samples, iters, seed, device, recipe).
    recipe : str or Recipe, optional
        What ``fit`` gets as its recipe (default ``cfg["recipe"]``).
    tap : (int, int), optional
        The tapped cell: its exact values are recorded at every step.
    run_id : int
        Numbers the thread's name.
    queue : FitQueue, optional
        The server's fit queue (see :class:`explorer.run.job.Job`).
    threads : int, optional
        Torch intra-op threads of the fit (see :meth:`work`); None leaves torch's setting alone.
    guide : dipcore.guide.Guide, optional
        A guide map (SST) on the twin's fine grid, given to ``fit`` as ``guide=`` (only when there is one: a
        stand-in without that keyword still runs unguided fits).
    """

    def __init__(self, fit: Callable, twin, cfg: dict, *, recipe=None, tap: tuple[int, int] | None = None,
                 run_id: int = 0, queue: FitQueue | None = None, threads: int | None = None, guide=None):
        super().__init__(name=f"ssh-dip-fit-{run_id}", queue=queue)
        self.fit, self.twin, self.cfg, self.id = fit, twin, cfg, run_id
        self.guide = guide
        self.threads = threads
        self.recipe = cfg["recipe"] if recipe is None else recipe  # a name, or a Recipe (another architecture)
        h, w = twin.truth.shape
        self.stride = max(1, int(np.ceil(max(h, w) / HIST_SIDE)))
        self.events = 0
        self._lock = threading.Lock()  # guards the records below: written by the worker, read on the loop
        self._curve: list[tuple[int, float, float]] = []
        self._times: list[tuple[int, float]] = []   # (step, elapsed s): the recent speed and the ETA
        self._hist: list[tuple[int, np.ndarray, np.ndarray | None]] = []   # decimated snapshots
        self._tap = tap
        self._trace: list[tuple[int, float, float]] = []  # exact values at the tapped pixel since the tap

    # ---- what the page reads (any thread) -----------------------------------------------------------------
    def set_tap(self, tap: tuple[int, int] | None) -> None:
        """Record the exact values at cell ``tap`` from now on (None: no cell)."""
        with self._lock:
            self._tap, self._trace = tap, []

    def pixel_history(self, iy: int, ix: int):
        """(snapshots, trace) at cell (iy, ix): [(step, estimate, std)] from the decimated snapshots, and the exact
        values recorded since that cell was tapped (empty when it is not the tapped one)."""
        s = self.stride
        with self._lock:
            hist = [(st, e[iy // s, ix // s], 0.0 if d is None else d[iy // s, ix // s]) for st, e, d in self._hist]
            trace = list(self._trace) if self._tap == (iy, ix) else []
        return hist, trace

    def snapshots(self) -> list[tuple[int, np.ndarray]]:
        """The decimated estimate snapshots so far, [(step, estimate[::stride, ::stride])] (metres)."""
        with self._lock:
            return [(st, e) for st, e, _ in self._hist]

    def scores(self, upto: int | None = None) -> np.ndarray:
        """The score curve so far (up to step ``upto`` when given): rows of (step, RMSE in metres, SSIM)."""
        with self._lock:
            rows = self._curve if upto is None else [r for r in self._curve if r[0] <= upto]
            return np.array(rows, dtype=float).reshape(-1, 3)

    def recent_times(self, n: int) -> list[tuple[int, float]]:
        """The last ``n`` (step, elapsed s) pairs."""
        with self._lock:
            return self._times[-n:]

    # ---- the worker ---------------------------------------------------------------------------------------
    def work(self) -> None:
        import torch

        if self.threads:
            # On purpose: N fits at a time each with all the cores' threads would oversubscribe the CPU (N × cores
            # busy threads thrash); each gets its share (server_limits.Limits.threads_per_fit). With torch's OpenMP
            # backend the setting belongs to the calling thread, so it is made here, in the fit's own thread, and
            # leaves the server's other threads (and other fits) as they are.
            torch.set_num_threads(self.threads)
        twin, cfg = self.twin, self.cfg
        extra = {"guide": self.guide} if self.guide is not None else {}
        gen = self.fit(twin.observation, twin.degradation, self.recipe, members=cfg["members"],
                       latent_samples=cfg["latent_samples"], iters=cfg["iters"], seed=cfg["seed"],
                       device=cfg["device"], every=1, truth=twin.truth, dx_km=twin.dx_km, keep_members=True, **extra)
        try:
            every_hist = max(1, cfg["iters"] // HIST_SNAPSHOTS)
            for p in gen:
                self._record(p, every_hist)
                self.post(p)
                if self.stop_requested:
                    break
        finally:
            if hasattr(gen, "close"):
                gen.close()

    def _record(self, p, every_hist: int) -> None:
        """Keep what the page draws of event ``p`` besides the event itself."""
        m, s = p.metrics, self.stride
        with self._lock:
            self.events += 1
            self._curve.append((p.step, m.get("rmse", np.nan), m.get("ssim", np.nan)))
            self._times.append((p.step, p.elapsed))
            if p.step % every_hist == 0 or p.step == 1 or p.done:
                sd = p.member_std[::s, ::s].copy() if p.member_std is not None else None
                self._hist.append((p.step, p.estimate[::s, ::s].copy(), sd))
            if self._tap is not None:
                iy, ix = self._tap
                self._trace.append((p.step, float(p.estimate[iy, ix]),
                                    float(p.member_std[iy, ix]) if p.member_std is not None else 0.0))

    def failure(self, exc: Exception) -> str:
        """dipcore's message; out of GPU memory in words that say what to do; anything else as a failure."""
        if isinstance(exc, SSHDipError):
            return str(exc)
        if type(exc).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError (torch is imported by work)
            return "out of GPU memory: use fewer members, a smaller region or the CPU"
        return f"the fit failed: {type(exc).__name__}: {exc}"


__all__ = ["HIST_SIDE", "HIST_SNAPSHOTS", "FitJob"]
