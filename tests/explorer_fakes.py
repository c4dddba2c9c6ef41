"""Stand-ins for ``dipcore.solver.fit`` that the explorer's server tests inject (``ExplorerApp(fit=…)``): events with
the real ``Progress`` type, paced or held by a gate, or failures at a chosen step; and a process's figures (threads,
RSS) the lifecycle tests compare."""

from __future__ import annotations

import os
import threading
import time

import numpy as np


def _event(step: int, iters: int, truth: np.ndarray, members: int, t0: float):
    from dipcore import metrics
    from dipcore.solver import Progress

    est = (truth + 0.01 / step).astype(np.float32)
    return Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est, member_std=None,
                    elapsed=time.perf_counter() - t0, metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9},
                    done=step == iters)


def paced_fit(rate: float = 50.0, seen: list | None = None):
    """Events at ``rate`` per second; appends torch's intra-op thread count in the fit's thread to ``seen``."""
    def fit(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        if seen is not None:
            import torch

            seen.append(torch.get_num_threads())
        t0 = time.perf_counter()
        for step in range(1, iters + 1):
            time.sleep(max(0.0, t0 + step / rate - time.perf_counter()))
            yield _event(step, iters, truth, members, t0)
    return fit


def gated_fit(gate: threading.Event, started: threading.Event | None = None, fail: BaseException | None = None):
    """Step 1 at once (``started`` is set), the other steps only once ``gate`` is set; with ``fail``, that exception
    is raised instead of the steps after the first."""
    def fit(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        t0 = time.perf_counter()
        yield _event(1, iters, truth, members, t0)
        if started is not None:
            started.set()
        while not gate.wait(0.02):
            pass
        if fail is not None:
            raise fail
        for step in range(2, iters + 1):
            yield _event(step, iters, truth, members, t0)
    return fit


def rss_mb() -> float:
    """Resident memory of this process in MiB (psutil, else /proc/self/statm)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def os_threads() -> int:
    """Threads of this process as the OS counts them (Python's and native: torch's OpenMP pool, BLAS…)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def settle_threads(baseline: int, timeout: float = 5.0) -> int:
    """``threading.active_count()`` once it is back to ``baseline`` (or after ``timeout`` s): daemon workers that
    were asked to stop end after their current step."""
    deadline = time.time() + timeout
    while threading.active_count() > baseline and time.time() < deadline:
        time.sleep(0.02)
    return threading.active_count()


def small_paced_app(iters: int, rate: float = 200.0):
    """A generator for a fixture: an ExplorerApp on a 32×64 crop of the first sample, one member, ``iters`` steps of
    :func:`paced_fit`; stopped and joined after the test."""
    from explorer.app import ExplorerApp

    app = ExplorerApp(fit=paced_fit(rate))
    app.param.update(index_crop="0 32 0 64", iters=iters, members=1)
    yield app
    app.stop()
    app.wait(30)


class FakeDoc:
    """A served Bokeh document as the explorer uses it: next-tick callbacks are recorded in ``ticks`` (:meth:`tick`
    runs them, as the session's loop would), no hold is in progress, and its session context (None: a destroyed
    document) has a server session with ``connections`` connections (None: no server session yet)."""

    def __init__(self, connections: int | None = None):
        from types import SimpleNamespace

        server_session = None if connections is None else SimpleNamespace(connection_count=connections)
        self.session_context = SimpleNamespace(id="fake", session=server_session)
        self.callbacks = SimpleNamespace(hold_value=None)
        self.ticks: list = []

    def add_next_tick_callback(self, fn) -> None:
        self.ticks.append(fn)

    def tick(self) -> None:
        todo, self.ticks = self.ticks, []
        for fn in todo:
            fn()
