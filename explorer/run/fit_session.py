"""The explore tab's fit in one browser session: start it, show its newest event on the state, end it.

:class:`FitSession` is the :class:`explorer.run.lifecycle.RunSession` of the fit: Run starts a
:class:`explorer.run.fit_job.FitJob` (the fit function is injected: ``dipcore.solver.fit`` by default, a stand-in
in tests) once the server's limits (:class:`explorer.data.server_limits.Limits`) allow it; the fit waits its turn
in the server's :class:`explorer.run.fitqueue.FitQueue` (the page says "queued, position k"), and the session's
periodic flush (every ``FLUSH_MS``; slower for large fields) moves its newest event onto the state and its feed, all
of one update in one document message, and not before the browser has painted the previous image update
(back-pressure). The page side of that (one message per update, the browser's paint acknowledgements) is a
*display* registered with :meth:`FitSession.attach_display` (``explorer.ui.live.LiveMaps``); without one (scripts,
tests) every flush pushes. A run's end goes out in two messages: its "done"/"stopped" line alone, then one flush
later the buttons and the result (publishing it held the loop ~0.5 s on a 1024² field, and the line with it).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dipcore.errors import SSHDipError
from dipcore.recipes import with_arch
from dipcore.style import CM
from dipcore.verdict import best_of, verdict
from explorer.data import inspector
from explorer.data import progress as prog
from explorer.data.progress import EndReason
from explorer.data.server_limits import Limits
from explorer.run.fit_job import FitJob
from explorer.run.fitqueue import FitQueue
from explorer.run.lifecycle import Run, RunSession

if TYPE_CHECKING:
    from explorer.data.state import ExplorerState

LARGE_CELLS = 1024 * 1024  # from this size maps are rasterised by datashader and pushed at most every LARGE_PERIOD
FLUSH_MS = 100          # periodic flush period (ms): a push waits for the browser's ack of the previous one
LARGE_PERIOD = 0.6


class Display(Protocol):
    """What the session needs from the page's live views (``explorer.ui.live.LiveMaps``)."""

    def hold(self) -> AbstractContextManager:
        """Collect the model changes made inside into one document message."""

    def busy(self, now: float) -> bool:
        """True while the browser has not painted the last image update."""

    def mark_sent(self) -> None:
        """Number the image update just made (the browser acknowledges it once painted)."""

    def on_painted(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on the session's loop whenever the browser acknowledges an image update."""


@dataclass
class Pacing:
    """When image updates may go out (``time.perf_counter`` seconds): the session's loop stays free for clicks."""

    last_image: float = 0.0  # the last image update let through
    next_push: float = 0.0   # not before: the last push's cost paid back (the loop at most ~half busy with pushes)
    last_pixel: float = 0.0  # the pixel view's last refresh during a run

    def defer(self, large: bool, now: float, display: Display | None) -> bool:
        """Hold the next image update back: the last push's cost is not yet paid back, or (large fields) one went
        out less than LARGE_PERIOD ago, or the browser is still painting the last one."""
        return (now < self.next_push or (large and now - self.last_image < LARGE_PERIOD)
                or (display is not None and display.busy(now)))


class FitSession(RunSession):
    """Runs the fits of one :class:`explorer.data.state.ExplorerState` and shows them on it.

    Parameters
    ----------
    state : ExplorerState
        What is fitted and where the run is shown (``running``, ``step``, ``progress_text``, ``result``…, and the
        feed's maps and curves).
    fit : callable, optional
        The fit function given to each :class:`FitJob` (default ``dipcore.solver.fit``).
    limits : Limits, optional
        What a fit may ask for (default: :class:`Limits` ()).
    queue : FitQueue, optional
        Where fits wait for their turn (default: a queue of this session's own with ``limits``' slots).
    """

    period_ms = FLUSH_MS
    conclude_delay = FLUSH_MS / 1000

    def __init__(self, state: ExplorerState, fit: Callable | None = None, limits: Limits | None = None,
                 queue: FitQueue | None = None):
        limits = limits if limits is not None else Limits()
        super().__init__(state, queue if queue is not None else FitQueue(limits.max_concurrent_fits))
        self.fit, self.limits = fit, limits
        self.display: Display | None = None
        self.recipe = None  # the recipe of the current (or last) run: does its count cap a fit that stops itself?
        self.pacing = Pacing()
        # push counters (benchmarks/bench_explorer.py and the browser tests read them); "image_times": when each
        # recent image update was let through, the clock the LARGE_PERIOD throttle reads
        self.stats.update(pushes=0, push_seconds=0.0, first_push=None, last_push=None,
                          image_times=collections.deque(maxlen=64))
        self._runs = 0
        state.param.watch(lambda e: self.stop(), ["twin"])     # a new field voids the run
        state.param.watch(self._on_tap, ["taps"])

    def attach_display(self, display: Display) -> None:
        """Show the updates through ``display`` (one message each, after the browser painted the last one)."""
        self.display = display
        display.on_painted(self.flush)  # the slot may hold a newer event: flush at once

    # ---- Run ----------------------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start a fit of the state's field and settings in a background thread (returns at once); False, with
        the message on the page, when it may not start."""
        from dipcore.solver import fit as solver_fit
        from dipcore.solver import resolve_device

        s = self.state
        if s.running:
            return False
        try:
            if s.twin is None:
                raise SSHDipError("load a field first")
            self.limits.check(s.members, s.iters, s.twin.truth.shape)
            resolve_device(s.device)
            recipe = with_arch(s.recipe, s.arch)
            guide = s.run_guide(recipe)  # None without one; a guide that cannot be used here says why
        except Exception as exc:
            s.report(exc)
            return False
        self._runs += 1
        self.recipe = recipe
        s.error = ""
        s.run_twin, s.run_config = s.twin, s.config()
        s.result, s.last = None, None
        s.verdict = ""
        s.end_reason = ""
        s.step = 0
        self.start(FitJob(self.fit or solver_fit, s.twin, s.run_config, recipe=recipe, tap=s.tap, run_id=self._runs,
                          queue=self.queue, threads=self.limits.threads_per_fit(), guide=guide))
        return True

    # ---- the flush's hooks --------------------------------------------------------------------------------
    @contextmanager
    def batch(self):
        """One document message per flush (the display's hold); a push's cost, serialising the message included,
        paces the next one."""
        hold = self.display.hold if self.display is not None else nullcontext
        t0, pushes = time.perf_counter(), self.stats["pushes"]
        with hold():
            yield
        if self.stats["pushes"] != pushes:
            cost = time.perf_counter() - t0
            self.stats["push_seconds"] += cost
            self.pacing.next_push = time.perf_counter() + cost

    def hold(self, p) -> bool:
        now = time.perf_counter()
        return not p.done and self.pacing.defer(self.job.twin.truth.size >= LARGE_CELLS, now, self.display)

    def show_queue(self, position: int | None) -> None:
        n = self.queue.slots
        self.state.progress_text = (f"queued, position {position}: this server runs {n} fit{'s' if n > 1 else ''} "
                                    "at a time (Stop leaves the queue)")

    def show_admitted(self) -> None:
        cfg = self.state.run_config
        most = "at most " if prog.stops_itself(self.recipe) else ""
        self.state.progress_text = f"starting {cfg['members']} member(s), {most}{cfg['iters']} iterations…"

    def show(self, p) -> None:
        """Event ``p`` on the state and its feed (maps, curves, progress line; the pixel view twice a second)."""
        s, job = self.state, self.job
        if job.twin is not s.twin:  # an event of a run the field change voided
            return
        s.last = p
        s.step = p.step
        send = s.feed.send
        send("estimate", p.estimate)
        send("error", p.estimate - s.run_twin.truth)
        send("change", p.estimate - s.run_twin.ibp)
        send("std", p.member_std)
        send("uncertainty", getattr(p, "uncertainty", None))  # the last event's calibrated σ (None before)
        report = getattr(p, "guide", None)
        # what the gate did, said once per run, and only while the guide chosen is the one this run was given
        if report is not None and s.guide.report is not report and s.run_config.get("guide") == s.guide.label:
            s.guide.show(report)
        curve, sc = job.scores(upto=p.step), s.baseline_scores()
        send("rmse", (curve[:, 0], curve[:, 1] * CM, {k: v[0] * CM for k, v in sc.items()}))
        send("ssim", (curve[:, 0], curve[:, 2], {k: v[1] for k, v in sc.items()}))
        s.progress_text = self.running_line(p)
        self._count_push()
        t = time.perf_counter()
        if s.tap is not None and (p.done or t - self.pacing.last_pixel > 0.5):
            self.pacing.last_pixel = t
            self.push_pixel()

    def running_line(self, p) -> str:
        """'step 120/1500 (a cap: it stops once the estimate settles) · 9.8 it/s · at most 2.3 min left · RMSE …'."""
        rate = self._rate()
        cap = prog.cap_note(self.recipe)
        # no ETA from the first (warm-up) steps: it read 1134 s for a 60 s run; speed over recent steps only
        eta = prog.eta_text(p.step, p.iters, rate, cap=bool(cap))
        parts = [f"step {p.step}/{p.iters}" + (f" ({cap})" if cap else "")]
        parts += [f"{rate:.2f} it/s"] if np.isfinite(rate) else []
        parts += [eta] if eta else []
        return " · ".join(parts + [self.scores_text(p)])

    def _count_push(self) -> None:
        t = time.perf_counter()
        if self.display is not None:
            self.display.mark_sent()
        self.pacing.last_image = t
        st = self.stats
        st["image_times"].append(t)
        st["pushes"] += 1
        st["first_push"] = st["first_push"] or t
        st["last_push"] = t

    def _rate(self) -> float:
        """Iterations per second of the current run over its recent steps (explorer.data.progress.recent_rate)."""
        return prog.recent_rate(self.job.recent_times(prog.RATE_WINDOW + 1))

    def end(self, run: Run) -> EndReason:
        """Change only the progress line in this message, so that the page shows "stopped"/"done" at once."""
        s = self.state
        if run.outcome is not None and run.outcome.error:
            s.error = run.outcome.error
        p = s.last
        reason = prog.end_reason(p, stopped=run.stopped, failed=bool(s.error))
        if s.run_twin is not s.twin:  # the field changed while the fit ran: its result is void
            s.progress_text, p = "idle: press Run", None
        elif p is None:
            left = run.job.ticket is not None and run.job.ticket.admitted is None
            s.progress_text = "stopped while queued: not run" if left else "stopped before the first step"
        else:
            s.progress_text = prog.end_line(p, reason, p.iters_per_s, self.scores_text(p))
        run.kept = p
        return reason

    def conclude(self, run: Run) -> None:
        """The end reason and message, then (with a last event) the verdict, downloads, latent std map, pixel view
        and the lazy tabs."""
        s, p = self.state, run.kept
        s.end_reason = run.reason.value
        if p is None:
            return
        how = prog.stop_sentence(p) if run.reason in (EndReason.SETTLED, EndReason.EARLY) else \
            f"{run.reason.value} at step {p.step}"
        s.message = f"Fit {how} after {p.elapsed:.1f} s on {p.device}"
        if p.done and p.selected is not None:  # held-out check: the answer is each member's best step
            s.message += (f"; the estimate is each member's output at the step that best predicted the held-out "
                          f"cells (step {prog.estimate_steps(p)}), made consistent with all the data")
        sc = s.baseline_scores()
        three = (p.metrics.get("rmse", np.nan) * CM, sc["ibp"][0] * CM, sc["bicubic"][0] * CM)
        s.best = best_of(*three)  # before the text: the verdict's watchers read it
        expected = getattr(p, "expected_rmse", None)
        told = (f". Without the truth the fit expected ≈ {expected * CM:.2f} cm (its uncertainty's RMS)"
                if expected is not None and np.isfinite(expected) else "")
        said = verdict(*three)  # a sentence that may end with its own full stop: no ".." before the next one
        s.verdict = ("" if p.done else f"Stopped at step {p.step}: ") + (said.rstrip(".") + told if told else said)
        s.result = p  # its views are the slowest to redraw
        s.feed.send("latent", p.latent_std)
        self.push_pixel()

    def scores_text(self, p) -> str:
        """'RMSE … cm (bicubic …, IBP …)' of a Progress event (its SSIM has its curve, right under the line: the
        line stays two lines long on a 1440 px screen)."""
        sc = self.state.baseline_scores()
        b_rmse, i_rmse = sc["bicubic"][0], sc["ibp"][0]
        return f"RMSE {p.metrics.get('rmse', np.nan) * CM:.2f} cm (bicubic {b_rmse * CM:.2f}, IBP {i_rmse * CM:.2f})"

    # ---- the tapped pixel and the transect ----------------------------------------------------------------
    def _on_tap(self, event) -> None:
        if self.job is not None:
            self.job.set_tap(self.state.tap)
        self.push_pixel()

    def pixel_info(self) -> dict:
        """Everything the pixel view shows for the tapped cell (explorer.data.inspector.pixel_info)."""
        s = self.state
        return inspector.pixel_info(s, self.job if s.last is not None else None)

    def push_pixel(self) -> None:
        self.state.feed.send("pixel", self.pixel_info())
        self.state.feed.send("transect", inspector.transect_info(self.state))


__all__ = ["FLUSH_MS", "LARGE_CELLS", "LARGE_PERIOD", "Display", "FitSession", "Pacing"]
