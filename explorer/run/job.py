"""Background work of one browser session: a worker thread that never touches the page, a stop flag, and a
locked "latest wins" slot that the session's periodic callback empties.

:class:`Job` is the one implementation (the Experiments tab runs its sweeps in one); :class:`FitJob` is the
explorer's fit on top of it: it runs an injected fit function (``dipcore.solver.fit`` or a stand-in with its
signature) and keeps what the page draws besides the newest event: the score curve, the step times, decimated
estimate snapshots and the exact values at the tapped cell. Given a :class:`explorer.run.fitqueue.FitQueue`, a job takes
a ticket when it starts and its thread waits for its turn before working (Stop leaves the line); it gives the slot
back when its work ends, however it ends.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dipcore.errors import SSHDipError
from explorer.run.fitqueue import WAITING, FitQueue, Ticket

log = logging.getLogger(__name__)

HIST_SNAPSHOTS = 200      # at most this many decimated estimate snapshots per run (per-pixel history)
HIST_SIDE = 256           # snapshots are exact up to this side (the samples), decimated above it


class Job:
    """One background job: ``work(job)`` runs in a daemon thread; it reports through :meth:`put` (the newest item
    replaces an unread one) and polls :attr:`stop_requested`; the owner reads with :meth:`take`.

    Parameters
    ----------
    work : callable, optional
        ``work(job)``, run once in the thread (subclasses override :meth:`work` instead). An exception it lets
        out is logged and kept in :attr:`error`.
    name : str
        The thread's name.
    queue : FitQueue, optional
        The server's queue: the job joins it when started and works once admitted (None: works at once).
    """

    def __init__(self, work: Callable[[Job], None] | None = None, name: str = "ssh-dip-job",
                 queue: FitQueue | None = None):
        self.lock = threading.Lock()      # guards the slot, ``done``, ``error`` and a subclass's records
        self.thread: threading.Thread | None = None
        self.name = name
        self.done = False                 # the worker has returned
        self.error: str | None = None     # a failure not yet shown
        self.queue = queue
        self.ticket: Ticket | None = None  # its place in the queue, from start()
        self._work = work
        self._stop = threading.Event()
        self._slot: Any = None

    def start(self) -> Job:
        """Join the queue (first come, first served: the order of the clicks) and start the thread."""
        if self.thread is not None:
            raise RuntimeError("a job runs once")
        if self.queue is not None:
            self.ticket = self.queue.join(self.name)
        self.thread = threading.Thread(target=self._main, daemon=True, name=self.name)
        self.thread.start()
        return self

    def _main(self) -> None:
        try:
            if self.queue is not None and not self.queue.wait(self.ticket):
                return  # left the queue before its turn: Stop or a closed tab
            if not self.stop_requested:  # a Stop just as the slot came free
                self.work()
        except Exception as exc:  # a failure of the worker is reported; the session lives on
            log.error("%s failed\n%s", self.name, traceback.format_exc())
            with self.lock:
                self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if self.queue is not None:
                self.queue.release(self.ticket)  # whatever happened: a failed worker must not keep its slot
            with self.lock:
                self.done = True

    def work(self) -> None:
        if self._work is not None:
            self._work(self)

    def put(self, item: Any) -> None:
        """Offer ``item`` to the owner; an item not yet taken is replaced (latest wins)."""
        with self.lock:
            self._slot = item

    def take(self) -> Any:
        """The newest item not yet taken (None when there is none)."""
        with self.lock:
            item, self._slot = self._slot, None
        return item

    def stop(self) -> None:
        """Ask the worker to stop (it polls :attr:`stop_requested`); returns at once. A job still waiting for its
        turn leaves the queue at once."""
        self._stop.set()
        if self.queue is not None and self.ticket is not None:
            self.queue.cancel(self.ticket)

    @property
    def queued(self) -> bool:
        """True while the job waits for its turn in the queue."""
        return self.ticket is not None and self.ticket.state == WAITING

    @property
    def position(self) -> int | None:
        """0 once admitted (working), k ≥ 1 for the k-th waiting, None without a queue or once it has left."""
        if self.queue is None or self.ticket is None:
            return None
        return self.queue.position(self.ticket)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker (at most ``timeout`` s); True when it has ended (or never started)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.alive


@dataclass
class FitUpdate:
    """What :meth:`FitJob.take_update` hands the session: the newest event (or None), the score curve up to it
    (rows of step, RMSE, SSIM), whether the worker has ended or was asked to stop, and a failure to show."""

    event: Any
    curve: np.ndarray | None
    ended: bool
    stopped: bool
    error: str | None


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
        The server's fit queue (see :class:`Job`).
    threads : int, optional
        Torch intra-op threads of the fit (see :meth:`work`); None leaves torch's setting alone.
    """

    def __init__(self, fit: Callable, twin, cfg: dict, *, recipe=None, tap: tuple[int, int] | None = None,
                 run_id: int = 0, queue: FitQueue | None = None, threads: int | None = None):
        super().__init__(name=f"ssh-dip-fit-{run_id}", queue=queue)
        self.fit, self.twin, self.cfg, self.id = fit, twin, cfg, run_id
        self.threads = threads
        self.recipe = cfg["recipe"] if recipe is None else recipe  # a name, or a Recipe (another architecture)
        self.curve: list[tuple[int, float, float]] = []
        self.times: list[tuple[int, float]] = []   # (step, elapsed s): the recent speed and the ETA
        self.hist: list[tuple[int, np.ndarray, np.ndarray | None]] = []   # decimated snapshots
        h, w = twin.truth.shape
        self.stride = max(1, int(np.ceil(max(h, w) / HIST_SIDE)))
        self.tap = tap
        self.trace: list[tuple[int, float, float]] = []  # exact values at the tapped pixel since the tap
        self.events = 0

    def set_tap(self, tap: tuple[int, int] | None) -> None:
        with self.lock:
            self.tap, self.trace = tap, []

    def pixel_history(self, iy: int, ix: int):
        """(snapshots, trace) at cell (iy, ix): [(step, estimate, std)] from the decimated snapshots, and the exact
        values recorded since that cell was tapped (empty when it is not the tapped one)."""
        s = self.stride
        with self.lock:
            hist = [(st, e[iy // s, ix // s], 0.0 if d is None else d[iy // s, ix // s]) for st, e, d in self.hist]
            trace = list(self.trace) if self.tap == (iy, ix) else []
        return hist, trace

    def snapshots(self) -> list[tuple[int, np.ndarray]]:
        """The decimated estimate snapshots so far, [(step, estimate[::stride, ::stride])] (metres)."""
        with self.lock:
            return [(st, e) for st, e, _ in self.hist]

    def scores(self) -> np.ndarray:
        """The score curve so far: rows of (step, RMSE in metres, SSIM)."""
        with self.lock:
            return np.array(self.curve, dtype=float).reshape(-1, 3)

    def recent_times(self, n: int) -> list[tuple[int, float]]:
        """The last ``n`` (step, elapsed s) pairs."""
        with self.lock:
            return self.times[-n:]

    def take_update(self, defer: Callable[[], bool] | None = None) -> FitUpdate | None:
        """Take the newest event, with the curve, the end flags and any failure. When ``defer()`` is true the
        event stays in the slot and None is returned (back-pressure) — never for the last event of a run, nor
        once a stop was asked for."""
        stopped = self.stop_requested
        with self.lock:
            p, ended = self._slot, self.done
            if p is not None and defer is not None and not (p.done or ended or stopped) and defer():
                return None
            self._slot = None
            curve = np.array(self.curve, dtype=float).reshape(-1, 3) if p is not None else None
            err, self.error = self.error, None
        return FitUpdate(p, curve, ended, stopped, err)

    def work(self) -> None:
        import torch

        if self.threads:
            # On purpose: N fits at a time each with all the cores' threads would oversubscribe the CPU (N × cores
            # busy threads thrash); each gets its share (server_limits.Limits.threads_per_fit). With torch's OpenMP
            # backend the setting belongs to the calling thread, so it is made here, in the fit's own thread, and
            # leaves the server's other threads (and other fits) as they are.
            torch.set_num_threads(self.threads)
        twin, cfg, s = self.twin, self.cfg, self.stride
        every_hist = max(1, cfg["iters"] // HIST_SNAPSHOTS)
        gen = None
        try:
            gen = self.fit(twin.observation, twin.degradation, self.recipe, members=cfg["members"],
                           latent_samples=cfg["latent_samples"], iters=cfg["iters"], seed=cfg["seed"],
                           device=cfg["device"], every=1, truth=twin.truth, dx_km=twin.dx_km, keep_members=True)
            for p in gen:
                m = p.metrics
                with self.lock:
                    self._slot = p
                    self.events += 1
                    self.curve.append((p.step, m.get("rmse", np.nan), m.get("ssim", np.nan)))
                    self.times.append((p.step, p.elapsed))
                    if p.step % every_hist == 0 or p.step == 1 or p.done:
                        sd = p.member_std[::s, ::s].copy() if p.member_std is not None else None
                        self.hist.append((p.step, p.estimate[::s, ::s].copy(), sd))
                    if self.tap is not None:
                        iy, ix = self.tap
                        self.trace.append((p.step, float(p.estimate[iy, ix]),
                                           float(p.member_std[iy, ix]) if p.member_std is not None else 0.0))
                if self.stop_requested:
                    break
        except SSHDipError as exc:
            self._fail(str(exc))
        except torch.cuda.OutOfMemoryError:
            self._fail("out of GPU memory: use fewer members, a smaller region or the CPU")
        except Exception as exc:  # any failure of the worker is shown on the page; the session lives on
            log.error("fit worker failed\n%s", traceback.format_exc())
            self._fail(f"the fit failed: {type(exc).__name__}: {exc}")
        finally:
            if gen is not None and hasattr(gen, "close"):
                gen.close()

    def _fail(self, message: str) -> None:
        with self.lock:
            self.error = message


__all__ = ["HIST_SIDE", "HIST_SNAPSHOTS", "FitJob", "FitUpdate", "Job"]
