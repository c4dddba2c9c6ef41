"""The Experiments tab's sweeps in the background: :class:`SweepSession`, the
:class:`explorer.run.lifecycle.RunSession` of a paper-figure sweep (``dipcore.experiments.run_experiment``).

A :class:`SweepJob` runs the sweep in its thread and posts :class:`SweepProgress` updates (the sweep's own words
and the fraction done); the finished ``ExperimentResult`` is its outcome. The session writes the tab's parameters
(``status``, ``fraction``, ``result``, ``error``, ``running``, ``written``); the tab (:mod:`explorer.ui.experiments`)
draws them. Stop asks the job to stop; the sweep polls it between fit steps. On a shared server a sweep is fits like
the sidebar's: it waits for its turn in the server's queue (it holds one slot for the whole sweep) and must stay
within the server's limits. It writes to a new temporary folder unless a script names one (the page takes no path).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from dipcore.errors import SSHDipError
from explorer.data.progress import EndReason
from explorer.data.server_limits import Limits
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job
from explorer.run.lifecycle import Run, RunSession

FLUSH_MS = 300


@dataclass(frozen=True)
class SweepProgress:
    """What a sweep says as it goes: its own line (which case, which fit) and the fraction done (0…1)."""

    message: str
    fraction: float


class SweepJob(Job):
    """One sweep: ``dipcore.experiments.run_experiment(experiment, **kwargs)`` in the job's thread.

    Parameters
    ----------
    experiment : str
        The experiment's name (``dipcore.experiments.EXPERIMENTS``).
    kwargs : dict
        Its arguments (quick, recipe, iters, device, out, cases).
    queue : FitQueue, optional
        The server's fit queue.
    """

    def __init__(self, experiment: str, kwargs: dict, queue: FitQueue | None = None):
        super().__init__(name="ssh-dip-experiment", queue=queue)
        self.experiment, self.kwargs = experiment, kwargs

    def work(self):
        from dipcore import experiments as ex

        try:
            return ex.run_experiment(self.experiment, on_progress=lambda m, f: self.post(SweepProgress(m, f)),
                                     should_stop=lambda: self.stop_requested, **self.kwargs)
        except ex.ExperimentCancelled:  # Stop, between two fit steps
            return None

    def failure(self, exc: Exception) -> str:
        """A bad setting's own message (ValueError, dipcore's errors among them); anything else with its type."""
        return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"


class SweepSession(RunSession):
    """Runs the sweeps of one Experiments tab (its ``experiment``, ``quick``, ``recipe``, ``iters``, ``device``,
    ``out_dir`` and ``cases()``) and shows them on it.

    Parameters
    ----------
    state : explorer.ui.experiments.ExperimentsTab
        The tab's parameters: what to sweep and where the sweep is shown.
    queue : FitQueue, optional
        The server's fit queue: a sweep waits there for its turn (None: it runs at once).
    limits : Limits, optional
        The server's limits: a sweep over them is refused with a message (None: no limits).
    """

    period_ms = FLUSH_MS

    def __init__(self, state, queue: FitQueue | None = None, limits: Limits | None = None):
        super().__init__(state, queue)
        self.limits = limits

    def run(self) -> bool:
        """Start the tab's experiment in a worker thread (returns at once); False while one runs or, with the
        message, over the server's limits."""
        s = self.state
        if not self.may_start():
            return False
        out = s.out_dir.strip() or tempfile.mkdtemp(prefix=f"ssh-dip-{s.experiment}-")
        cases = s.cases()
        on = ", ".join(cases) if cases else "its own cases"
        s.status = f"running {s.experiment} ({'quick' if s.quick else 'full'}) on {on} → {out}"
        s.fraction = 0.0
        kwargs = dict(quick=s.quick, recipe=s.recipe, iters=s.iters or None, device=s.device, out=out, cases=cases)
        self.start(SweepJob(s.experiment, kwargs, queue=self.queue))
        return True

    def check(self) -> None:
        """A sweep's fits obey the server's limits like the sidebar's (its iterations and members per fit)."""
        if self.limits is None:
            return
        from dipcore import experiments as ex
        from dipcore.solver import get_recipe

        s = self.state
        d = ex.EXPERIMENTS[s.experiment]["quick" if s.quick else "full"]
        iters, members = s.iters or d.iters or get_recipe(s.recipe).iters, d.members
        if iters > self.limits.max_iters or members > self.limits.max_members:
            raise SSHDipError(f"this sweep's fits take {iters:,} iterations and up to {members} members; this server "
                              f"allows {self.limits.max_iters:,} and {self.limits.max_members}: set fewer "
                              "iterations or tick quick")

    # ---- the flush's hooks --------------------------------------------------------------------------------
    def show_queue(self, position: int | None) -> None:
        self.state.status = f"queued, position {position}: waiting for the server's fits to finish"

    def show(self, update: SweepProgress) -> None:
        self.state.param.update(fraction=update.fraction, status=update.message)

    def end(self, run: Run) -> EndReason:
        s, o = self.state, run.outcome
        if o is not None and o.value is not None:
            res = o.value
            s.param.update(result=res, fraction=1.0, status=f"done: {res.name}, {len(res.table)} rows in {res.out}",
                           written=[*s.written, str(res.out)])  # this session's results join the folders to load
            return EndReason.FINISHED
        if o is not None and o.error:
            s.param.update(error=o.error, status="failed")
            return EndReason.FAILED
        s.status = "stopped"
        return EndReason.STOPPED


__all__ = ["FLUSH_MS", "SweepJob", "SweepProgress", "SweepSession"]
