"""The Downscale tab's runs: :class:`DownscaleSession`, the :class:`explorer.run.lifecycle.RunSession` of
``dipcore.downscale.downscale`` (injected, so tests can hand in a stand-in) on the field a
:class:`explorer.downscale.state.DownscaleState` has loaded.

Run checks the server's limits, starts a :class:`explorer.downscale.worker.DownscaleJob` (it waits its turn in the
server's fit queue like the explore tab's fits) and the session's periodic flush moves its newest
:class:`explorer.downscale.worker.Snapshot` and misfit curve onto the state's parameters, which the tab's view
watches. A new field voids the run (:meth:`RunSession.discard`).
"""

from __future__ import annotations

from collections.abc import Callable

from dipcore.errors import SSHDipError
from dipcore.io import MAX_CELLS
from explorer.data.progress import EndReason
from explorer.data.server_limits import Limits
from explorer.downscale.state import DownscaleState
from explorer.downscale.worker import DownscaleJob, Snapshot
from explorer.run.fitqueue import FitQueue
from explorer.run.lifecycle import Run, RunSession

POLL_MS = 250  # how often the session moves the worker's newest snapshot to the page (a fit step takes longer)
HISTORY = "ssh-dip explorer: downscale my field (no truth)"


class DownscaleSession(RunSession):
    """Runs the downscaling of one :class:`DownscaleState`'s field and shows it on the state.

    Parameters
    ----------
    state : DownscaleState
        What is downscaled (``field``, ``factor``, ``members``…) and where the run is shown (``snapshot``,
        ``misfit``, ``result``, ``status``…).
    fit : callable, optional
        ``fit(da, factor, *, members, recipe, seed, device, iters, progress, every, provenance, history)`` →
        ``xr.Dataset`` (default :func:`dipcore.downscale.downscale`).
    queue : FitQueue, optional
        The server's fit queue: a run waits there for its turn (None: it runs at once).
    limits : Limits, optional
        The server's limits (members, iterations, cells; torch threads per fit). None: none but dipcore's own.
    """

    period_ms = POLL_MS

    def __init__(self, state: DownscaleState, fit: Callable | None = None, queue: FitQueue | None = None,
                 limits: Limits | None = None):
        super().__init__(state, queue)
        if fit is None:
            from dipcore.downscale import downscale as fit
        self.fit, self.limits = fit, limits
        state.param.watch(lambda e: self.discard(), ["field"])  # a new field voids the run, unseen

    def run(self) -> bool:
        """Start downscaling the loaded field in a worker thread (returns at once); False while a run is on, before
        a field is loaded, or (with the message) over the server's limits."""
        s = self.state
        if s.field is None or not self.may_start():
            return False
        s.clear_run()
        factor = int(s.factor)
        opts = dict(members=s.members, recipe=s.recipe, seed=s.seed, device=s.device, iters=s.iters or None,
                    every=1, history=HISTORY, provenance=s.provenance())
        threads = self.limits.threads_per_fit() if self.limits is not None else None
        s.status = f"starting ×{factor} with {s.members} member{'s' if s.members != 1 else ''}…"
        self.start(DownscaleJob(self.fit, s.field, factor, opts, threads, queue=self.queue))
        return True

    def check(self) -> None:
        """Refuse (SSHDipError) a run over the server's limits: the fine grid's cells, members, iterations."""
        s = self.state
        h, w = s.field.shape
        f = int(s.factor)
        cap = self.limits.max_cells if self.limits is not None else MAX_CELLS
        if h * w * f * f > cap:
            raise SSHDipError(f"×{f} of this {h}×{w} field would be {h * f}×{w * f} cells, more than the "
                              f"{cap:,} allowed here: choose a smaller factor or upload a smaller region")
        if self.limits is not None:
            iters = s.iters or self._recipe_iters()
            if s.members > self.limits.max_members or iters > self.limits.max_iters:
                raise SSHDipError(f"this server allows {self.limits.max_members} members and "
                                  f"{self.limits.max_iters:,} iterations per run")

    def _recipe_iters(self) -> int:
        from dipcore.solver import get_recipe

        return int(get_recipe(self.state.recipe).iters)

    # ---- the flush's hooks --------------------------------------------------------------------------------
    def show_queue(self, position: int | None) -> None:
        self.state.status = f"queued, position {position}: waiting for the server's other fits"

    def show(self, snap: Snapshot) -> None:
        s = self.state
        s.snapshot, s.misfit = snap, self.job.misfit()
        rate = snap.step / snap.elapsed if snap.elapsed > 0 else 0.0
        eta = f", about {(snap.iters - snap.step) / rate:.0f} s left" if rate > 0 else ""
        s.status = f"running: step {snap.step}/{snap.iters} ({rate:.2f} it/s{eta})"
        s.frame += 1

    def end(self, run: Run) -> EndReason:
        s, o = self.state, run.outcome
        s.misfit = self.job.misfit()
        if o is not None and o.value is not None:
            self._finished(o.value)
            return EndReason.FINISHED
        if o is not None and o.error:
            s.error = o.error
            s.status = "failed (your field is still loaded: change a setting and press Run again)"
            return EndReason.FAILED
        step = s.snapshot.step if s.snapshot is not None else 0
        s.status = (f"stopped at step {step}: the estimate so far is shown (no file: a run must finish)"
                    if step else "stopped before the first step")
        return EndReason.STOPPED

    def _finished(self, ds) -> None:
        """The finished run's Dataset: its estimate and std shown, its file offered, its misfit said."""
        s, last = self.state, self.state.snapshot
        est = ds["estimate"].values
        iters = int(ds.attrs.get("iters", last.step if last else 0))
        s.snapshot = Snapshot(iters, int(ds.attrs.get("iters", last.iters if last else 0)), est,
                              ds["std"].values if "std" in ds else None,
                              float(ds.attrs.get("seconds", last.elapsed if last else 0.0)))
        s.result = ds
        rms, mx = ds.attrs.get("misfit_rms_m", float("nan")), ds.attrs.get("misfit_max_abs_m", float("nan"))
        h, w = est.shape
        s.status = (f"done in {s.snapshot.elapsed:.0f} s: {h}×{w} cells (×{s.factor}); misfit to your map RMS "
                    f"{rms * 100:.3g} cm, max {mx * 100:.3g} cm. Download the NetCDF below.")

    def conclude(self, run: Run) -> None:
        self.state.frame += 1


__all__ = ["HISTORY", "POLL_MS", "DownscaleSession"]
