"""The fit of one browser session: start it, move its newest event onto the state, and end it with the session.

A Run starts a :class:`explorer.run.job.FitJob` (the fit function is injected: ``dipcore.solver.fit`` by default, a
stand-in in tests); the job's thread writes its newest event into a locked slot ("latest wins") and a periodic
callback of the session (:meth:`FitSession.flush`, every ``FLUSH_MS``; slower for large fields) moves it onto the
state and its feed, all of one update in one document message, and not before the browser has painted the
previous image update (back-pressure). The page side of that (one message per update, the browser's paint
acknowledgements) is a *display* registered with :meth:`FitSession.attach_display` (``explorer.ui.live.LiveMaps``);
without one (scripts, tests) every flush pushes.

The server's limits (:class:`explorer.data.server_limits.Limits`) are checked before a fit starts, and the fit waits its
turn in the server's :class:`explorer.run.fitqueue.FitQueue` (the page says "queued, position k"); the queue is the one
thing shared between sessions. A closed tab stops its fit within about a second: the flush notices that the
session's last connection has gone (Bokeh destroys the session itself only after ``--unused-session-lifetime``).
"""

from __future__ import annotations

import collections
import logging
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dipcore.errors import SSHDipError
from dipcore.recipes import with_arch
from dipcore.verdict import best_of, verdict
from explorer.data import inspector
from explorer.data import progress as prog
from explorer.run.fitqueue import FitQueue
from explorer.data.geometry import CM
from explorer.run.job import FitJob
from explorer.data.server_limits import Limits
from explorer.ui.ticks import stop_periodic

if TYPE_CHECKING:
    from explorer.data.state import ExplorerState

log = logging.getLogger(__name__)

LARGE_CELLS = 1024 * 1024  # from this size maps are rasterised by datashader and pushed at most every LARGE_PERIOD
FLUSH_MS = 100          # periodic flush period (ms): a push waits for the browser's ack of the previous one
LARGE_PERIOD = 0.6
GONE_S = 0.5            # a session without a connection for this long has lost its tab: its fit is stopped


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


class FitSession:
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

    def __init__(self, state: ExplorerState, fit: Callable | None = None, limits: Limits | None = None,
                 queue: FitQueue | None = None):
        self.state = state
        self.fit = fit
        self.limits = limits if limits is not None else Limits()
        self.queue = queue if queue is not None else FitQueue(self.limits.max_concurrent_fits)
        self.job: FitJob | None = None     # the current (or last) fit
        self.display: Display | None = None
        # push counters and event times (benchmarks/bench_explorer.py and the browser tests read them)
        # ("image_times": when each recent image update was let through, the clock the LARGE_PERIOD throttle reads)
        self.stats: dict = {"pushes": 0, "push_seconds": 0.0, "first_push": None, "last_push": None,
                            "image_times": collections.deque(maxlen=64)}
        self._ended = None                 # (last event or None, end reason) of a run that just ended, until
        #                                    _conclude() settles and publishes it
        self._run_id = 0
        self._last_image_push = self._next_push = self._last_pixel_push = self._conclude_after = 0.0
        self._periodic = None
        self._doc = None                   # the Bokeh document of the browser session (attach())
        self._unconnected_since: float | None = None
        self._was_connected = False        # a session has no connection until its page has loaded
        state.param.watch(lambda e: self.stop(), ["twin"])     # a new field voids the run
        state.param.watch(self._on_tap, ["taps"])

    # ---- lifecycle ----------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Register the periodic flush and stop the fit when the browser session ends (call inside a session)."""
        import panel as pn

        if self._periodic is None and pn.state.curdoc is not None:
            self._doc = pn.state.curdoc
            self._periodic = pn.state.add_periodic_callback(self.flush, period=FLUSH_MS)
            pn.state.on_session_destroyed(self._destroyed)

    @property
    def attached(self) -> bool:
        return self._periodic is not None

    def _destroyed(self, session_context) -> None:  # Bokeh wants exactly this signature
        self.close()

    def close(self) -> None:
        """The session ended: stop the fit and the periodic flush (a run's end still to conclude is concluded)."""
        self.stop()
        stop_periodic(self._periodic)
        if self._ended is not None:
            self._conclude()

    def attach_display(self, display: Display) -> None:
        """Show the updates through ``display`` (one message each, after the browser painted the last one)."""
        self.display = display
        display.on_painted(self.flush)  # the slot may hold a newer event: flush at once

    # ---- the fit ------------------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start a fit in a background thread of this session (returns at once)."""
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
        except Exception as exc:
            s.report(exc)
            return False
        s.error = ""
        self._run_id += 1
        twin, cfg = s.twin, s.config()
        s.run_twin, s.run_config = twin, cfg
        job = FitJob(self.fit or solver_fit, twin, cfg, recipe=recipe, tap=s.tap, run_id=self._run_id,
                     queue=self.queue, threads=self.limits.threads_per_fit())
        s.result, s.last = None, None
        s.verdict = ""
        s.end_reason = ""
        s.step = 0
        self.job = job
        s.running = True
        job.start()
        s.progress_text = self._queue_text(job.position)
        return True

    @property
    def queue_position(self) -> int | None:
        """0 while this session's fit runs, k ≥ 1 while it is k-th in the server's queue, else None."""
        job = self.job
        return job.position if job is not None and self.state.running else None

    def _queue_text(self, pos: int | None) -> str:
        cfg = self.state.run_config
        if pos:
            n = self.queue.slots
            return (f"queued, position {pos}: this server runs {n} fit{'s' if n > 1 else ''} at a time "
                    "(Stop leaves the queue)")
        return f"starting {cfg['members']} member(s), {cfg['iters']} iterations…"

    def stop(self) -> None:
        """Stop the fit: the page halts at once (next flush) with the last estimate kept; the worker ends
        after the step it is computing, never blocking the page."""
        if self.job is not None:
            self.job.stop()
            self.stats["stop_called"] = time.perf_counter()
            if self._doc is not None and self._periodic is not None:
                # show it on the loop's next tick, not at the next periodic flush (up to FLUSH_MS later)
                try:
                    self._doc.add_next_tick_callback(self.flush)
                except Exception:  # the session is being destroyed: nothing left to show
                    pass

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the worker and show its end (for scripts and tests). True when the worker has ended. In a browser
        session the session's own periodic flush shows it (this waits for that); without one, this flushes."""
        deadline = time.perf_counter() + timeout
        job = self.job
        if job is not None:
            job.join(timeout)
        if self._periodic is not None:
            while (self.state.running or self._ended is not None) and time.perf_counter() < deadline:
                time.sleep(0.02)
        else:
            self.flush()
            self.flush()
        return job is None or not job.alive

    # ---- pushing to the page ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Push the newest snapshot to the page (called every FLUSH_MS by the session; cheap when idle)."""
        if self._ended is not None:  # a run ended and its line went out: conclude it once the loop could write it
            if time.perf_counter() >= self._conclude_after:
                self._conclude()
            return
        hold = self.display.hold if self.display is not None else nullcontext
        t0, pushes = time.perf_counter(), self.stats["pushes"]
        try:
            with hold():  # one document message per update
                self._flush()
            if self._ended is not None:  # a run ended: the message carries only its "stopped"/"done" line
                self.stats["end_shown"] = time.perf_counter()
                self._conclude_soon()
            if self.stats["pushes"] != pushes:  # the cost includes serialising the message (on leaving the hold)
                cost = time.perf_counter() - t0
                self.stats["push_seconds"] += cost
                # keep the session's event loop at most ~half busy with pushes, so Stop and other clicks get in
                self._next_push = time.perf_counter() + cost
        except Exception as exc:  # never let the periodic callback die
            log.error("flush failed\n%s", traceback.format_exc())
            self.state.error = f"display error: {type(exc).__name__}: {exc}"
            if self._ended is not None:  # a run that ended must still settle (its buttons, its result)
                self._conclude()

    def _conclude_soon(self) -> None:
        """Settle and publish the run that just ended at the next periodic flush, or now without a session. Panel
        writes a callback's messages in a task that runs after it, behind any image still being written; publishing
        the result views then held the event loop ~0.5 s (2-core CPU, 1024² field), and the "stopped" line with it."""
        self._conclude_after = time.perf_counter() + FLUSH_MS / 1000
        if self._periodic is None:
            self._conclude()

    def _conclude(self) -> None:
        """Settle (:meth:`_settle`) and publish (:meth:`_publish`) the run that ended, in one message."""
        hold = self.display.hold if self.display is not None else nullcontext
        p, reason = self._ended
        try:
            with hold():
                self._settle(p, reason)
                if p is not None:
                    self._publish(p)
        except Exception as exc:
            log.error("showing the run's end failed\n%s", traceback.format_exc())
            self.state.error = f"display error: {type(exc).__name__}: {exc}"
        finally:  # only now: wait() (another thread) returns once the result is all published
            self._ended = None

    def _defer(self, large: bool, now: float) -> bool:
        """Hold the next image update back: the browser is still painting the last one, or (large fields) one
        went out less than LARGE_PERIOD ago, or the last push's cost is not yet paid back; the loop stays free."""
        return (now < self._next_push or (large and now - self._last_image_push < LARGE_PERIOD)
                or (self.display is not None and self.display.busy(now)))

    def _flush(self) -> None:
        job, s = self.job, self.state
        if job is None or not s.running:
            return
        self._check_connected()
        if s.last is None and not job.stop_requested and s.progress_text.startswith("queued"):
            s.progress_text = self._queue_text(job.position)  # the line moved (or the fit was admitted)
        now = time.perf_counter()
        large = job.twin.truth.size >= LARGE_CELLS
        up = job.take_update(lambda: self._defer(large, now))
        if up is None:
            return
        p = up.event
        if p is not None and job.twin is s.twin and not (up.stopped and s.last is not None):
            self._show(p, up.curve)
            if self.display is not None:
                self.display.mark_sent()
            self._last_image_push = now
            self.stats["image_times"].append(now)
        if up.error:
            s.error = up.error
        if up.ended or up.stopped:
            self._finish(up.stopped)

    def _show(self, p, curve) -> None:
        s = self.state
        twin = s.run_twin
        s.last = p
        s.step = p.step
        send = s.feed.send
        send("estimate", p.estimate)
        send("error", p.estimate - twin.truth)
        send("std", p.member_std)
        sc = s.baseline_scores()
        send("rmse", (curve[:, 0], curve[:, 1] * CM, {k: v[0] * CM for k, v in sc.items()}))
        send("ssim", (curve[:, 0], curve[:, 2], {k: v[1] for k, v in sc.items()}))
        rate = self._rate()
        # no ETA from the first (warm-up) steps: it read 1134 s for a 60 s run; speed over recent steps only
        eta = prog.eta_text(p.step, p.iters, rate)
        speed = f"{rate:.2f} it/s · " if np.isfinite(rate) else ""
        s.progress_text = f"step {p.step}/{p.iters} · {speed}{eta + ' · ' if eta else ''}{self.scores_text(p)}"
        self.stats["pushes"] += 1
        t = time.perf_counter()
        self.stats["first_push"] = self.stats["first_push"] or t
        self.stats["last_push"] = t
        if s.tap is not None and (p.done or t - self._last_pixel_push > 0.5):
            self._last_pixel_push = t
            self.push_pixel()

    def _check_connected(self) -> None:
        """Stop the fit of a session whose tab has gone: no connection for GONE_S after having had one. Bokeh
        destroys the session (and calls :meth:`close`) only ``--unused-session-lifetime`` ms later (15 s by
        default); a reconnecting page finds its fit stopped, its last estimate kept."""
        ctx = getattr(self._doc, "session_context", None)
        server_session = getattr(ctx, "session", None)  # bokeh's public ServerSession (None before it exists)
        if server_session is None:
            return
        if server_session.connection_count > 0:
            self._unconnected_since = None
            self._was_connected = True
        elif self._was_connected:
            now = time.perf_counter()
            self._unconnected_since = self._unconnected_since or now
            if now - self._unconnected_since >= GONE_S and self.job is not None and not self.job.stop_requested:
                log.info("session %s lost its tab: stopping its fit", ctx.id)
                self.stats["tab_gone"] = now
                self.stop()

    def _rate(self) -> float:
        """Iterations per second of the current run over its recent steps (explorer.data.progress.recent_rate)."""
        if self.job is None:
            return float("nan")
        return prog.recent_rate(self.job.recent_times(prog.RATE_WINDOW + 1))

    def _finish(self, stopped: bool) -> None:
        """The run ended: change only the progress line in this message, so that the page shows "stopped"/"done" at
        once; the buttons and the result views follow (:meth:`_conclude_soon`)."""
        s = self.state
        p = s.last
        reason = prog.end_reason(p, stopped=stopped, failed=bool(s.error))
        if s.run_twin is not s.twin:  # the field changed while the fit ran: its result is void
            s.progress_text, p = "idle: press Run", None
        elif p is None:
            left = self.job is not None and self.job.ticket is not None and self.job.ticket.admitted is None
            s.progress_text = "stopped while queued: not run" if left else "stopped before the first step"
        else:
            s.progress_text = prog.end_line(p, reason, p.iters_per_s, self.scores_text(p))
        self._ended = (p, reason)  # settled and published once this message is out (flush, _conclude_soon)

    def _settle(self, p, reason: str) -> None:
        """The run is over: the buttons, the end reason and (``p``: its last event, if any) the message."""
        s = self.state
        s.running = False
        s.end_reason = reason
        if p is None:
            return
        s.message = f"Fit {reason} at step {p.step} after {p.elapsed:.1f} s on {p.device}"
        if p.done and p.selected is not None:  # held-out check: the answer is each member's best step
            steps = ", ".join(str(int(k)) for k in p.selected)
            s.message += (f"; the estimate is each member's output at the step that best predicted the held-out "
                          f"cells (step {steps}), made consistent with all the data")

    def _publish(self, p) -> None:
        """The result of the run that just ended: the verdict, downloads, latent std map, pixel view, the lazy tabs."""
        s = self.state
        sc = s.baseline_scores()
        three = (p.metrics.get("rmse", np.nan) * CM, sc["ibp"][0] * CM, sc["bicubic"][0] * CM)
        s.best = best_of(*three)  # before the text: the verdict's watchers read it
        s.verdict = ("" if p.done else f"Stopped at step {p.step}: ") + verdict(*three)
        s.result = p  # its views are the slowest to redraw
        s.feed.send("latent", p.latent_std)
        self.push_pixel()

    def scores_text(self, p) -> str:
        """'RMSE … cm (bicubic …, IBP …) · SSIM … (bicubic …, IBP …)' of a Progress event."""
        sc = self.state.baseline_scores()
        (b_rmse, b_ssim), (i_rmse, i_ssim) = sc["bicubic"], sc["ibp"]
        return (f"RMSE {p.metrics.get('rmse', np.nan) * CM:.2f} cm (bicubic {b_rmse * CM:.2f}, IBP {i_rmse * CM:.2f})"
                f" · SSIM {p.metrics.get('ssim', np.nan):.3f} (bicubic {b_ssim:.3f}, IBP {i_ssim:.3f})")

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


__all__ = ["FLUSH_MS", "GONE_S", "LARGE_CELLS", "LARGE_PERIOD", "Display", "FitSession"]
