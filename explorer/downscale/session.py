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
from explorer.data import progress as prog
from explorer.data.loading import noted
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
        if limits is not None:  # a server started with --max-iters below the recipe's must not refuse the first run
            state.iters = min(int(state.iters), limits.max_iters)
        self._model = 0.0  # the cost model's seconds per step of the current run (its timing rescales the model)
        self._guide: str | None = None  # the label of the guide the current run was given (None: none)
        state.param.watch(lambda e: self.discard(), ["field"])  # a new field voids the run, unseen

    def run(self) -> bool:
        """Start downscaling the loaded field in a worker thread (returns at once); False while a run is on, before
        a field is loaded, or (with the message) over the server's limits."""
        s = self.state
        if s.field is None or not self.may_start():
            return False
        notes: list[str] = []
        try:
            with noted(notes):  # what the guide's regridding warns of (a guide coarser than the fine grid…)
                guide = s.guide.on_fine(s.field.data, int(s.factor))  # one that cannot be used: said before the run
        except SSHDipError as exc:
            s.error = str(exc)
            return False
        if notes:
            s.notes = [*s.notes, *(n for n in map(s.guide.words, notes) if n not in s.notes)]
        self._guide = s.guide.label  # the guide this run is given: its gate speaks for that one only
        s.clear_run()
        s.misfit_note = ""
        factor = int(s.factor)
        opts = dict(members=s.members, recipe=s.recipe, seed=s.seed, device=s.device, iters=s.iters or None,
                    every=1, history=HISTORY, provenance=s.provenance(),
                    **({"guide": guide} if guide is not None else {}))  # a stand-in without it runs unguided
        threads = self.limits.threads_per_fit() if self.limits is not None else None
        s.status = f"starting ×{factor} with {s.members} member{'s' if s.members != 1 else ''}…"
        self._model = self.model_step_seconds()
        self.start(DownscaleJob(self.fit, s.field, factor, opts, threads, queue=self.queue))
        return True

    def recipe(self):
        from dipcore.recipes import get_recipe

        return get_recipe(self.state.recipe)

    def model_step_seconds(self) -> float:
        """What the cost model says a step of this run costs (before the session's own timing rescales it)."""
        from explorer.data.eta import step_seconds

        s = self.state
        return step_seconds(self.recipe(), s.field.shape, int(s.factor), int(s.members))

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
        return int(self.recipe().iters)

    # ---- the flush's hooks --------------------------------------------------------------------------------
    def show_queue(self, position: int | None) -> None:
        self.state.status = f"queued, position {position}: waiting for the server's other fits"

    def show(self, snap: Snapshot) -> None:
        s = self.state
        s.snapshot, s.misfit = snap, self.job.misfit()
        if s.guide.label == self._guide:  # not once another guide (or none) was chosen during the run
            s.show_guide(snap.guide)
        rate = snap.step / snap.elapsed if snap.elapsed > 0 else 0.0
        cap = prog.cap_note(self.recipe())
        eta = prog.eta_text(snap.step, snap.iters, rate, cap=bool(cap))
        s.status = (f"running: step {snap.step}/{snap.iters}" + (f" ({cap})" if cap else "")
                    + f" · {rate:.2f} it/s" + (f" · {eta}" if eta else ""))
        s.frame += 1

    def end(self, run: Run) -> EndReason:
        s, o = self.state, run.outcome
        s.misfit = self.job.misfit()
        if o is not None and o.value is not None:
            return self._finished(o.value)
        if o is not None and o.error:
            s.error = o.error
            s.status = "failed (your field is still loaded: change a setting and press Run again)"
            return EndReason.FAILED
        step = s.snapshot.step if s.snapshot is not None else 0
        s.status = (f"stopped at step {step}: the estimate so far is shown (no file: a run must finish)"
                    if step else "stopped before the first step")
        return EndReason.STOPPED

    def _finished(self, ds) -> EndReason:
        """The finished run's Dataset: its estimate, uncertainty and spread shown, its file offered, where and why
        it stopped and its expected RMSE said, its misfit explained; the session's pace learns its speed."""
        s, last = self.state, self.state.snapshot
        est = ds["estimate"].values
        steps = int(ds.attrs.get("iters", last.step if last else 0))
        cap = last.iters if last is not None else steps
        why = ds.attrs.get("stop_reason") or (last.stop_reason if last is not None else None)
        unc = ds["uncertainty"].values if "uncertainty" in ds else None
        expected = ds.attrs.get("expected_rmse_m")
        s.snapshot = Snapshot(steps, cap, est, ds["std"].values if "std" in ds else None,
                              float(ds.attrs.get("seconds", last.elapsed if last else 0.0)), True, unc,
                              expected, why)
        s.result = ds
        end = s.snapshot  # the run's last state: its step, cap and why it stopped
        reason = prog.end_reason(end, stopped=False)
        if steps > 0 and s.snapshot.elapsed > 0:
            s.pace.learn(s.snapshot.elapsed / steps, self._model)
        h, w = est.shape
        how = prog.stop_sentence(end) if reason in (EndReason.SETTLED, EndReason.EARLY) else f"{steps} steps"
        told = f" Expected RMSE ≈ {expected * 100:.2f} cm (from your map alone: the uncertainty's RMS)." \
            if expected is not None else ""
        s.status = (f"done in {prog.duration(s.snapshot.elapsed)}: {how}; {h}×{w} cells (×{s.factor}).{told} "
                    "Download the NetCDF in the sidebar.")
        s.misfit_note = misfit_words(self.job.misfit(), self.job.final_misfit(), s.reference_misfits(),
                                     self.recipe().project)
        s.update_plan()
        return reason

    def conclude(self, run: Run) -> None:
        self.state.frame += 1


def misfit_words(curve: tuple, final: tuple[int, float] | None, refs: dict[str, float], projected: bool) -> str:
    """What the misfit curve says, in words (cm): how close the networks' own output came to the map, against
    bicubic's, and what the final correction (back-projection) did: not an achievement of the networks."""
    steps, values = curve
    if not len(values):
        return ""
    own = float(values[-1]) * 100
    bic = refs.get("bicubic")
    than = f" (bicubic's: {bic * 100:.2g} cm)" if bic is not None else ""
    text = f"The networks' own output reproduces your map to {own:.2g} cm RMS at step {int(steps[-1])}{than}."
    if final is not None and projected:
        text += (f" The recipe then makes the final answer consistent with your map (back-projection), which "
                 f"leaves {final[1] * 100:.1g} cm by construction: that last drop is the correction, not the "
                 "networks' learning.")
    return text


__all__ = ["HISTORY", "POLL_MS", "DownscaleSession", "misfit_words"]
