"""How a tab's runs live and end: the one pattern of the explore tab's fit, the Downscale tab and the Experiments
tab's sweeps.

A :class:`RunSession` belongs to one browser session and one tab. :meth:`RunSession.start` starts a
:class:`explorer.run.job.Job` reporting into a :class:`explorer.run.job.Slot` of the session's; from then on the
session's periodic callback (:meth:`RunSession.flush`, every ``period_ms``; called by hand in scripts and tests)
empties the slot on the session's event loop and walks the run (a :class:`Run`) through explicit phases::

    IDLE ──start──▶ QUEUED ──admitted──▶ RUNNING ──outcome, or Stop──▶ ENDING ──conclude_delay──▶ ENDED
                      └─────────────── Stop while queued ───────────────▶┘

While QUEUED the tab says its place in the server's line; while RUNNING it shows the newest update; at the end it
first writes only its end line (:meth:`RunSession.end`, which says the :class:`explorer.data.progress.EndReason`),
and ``conclude_delay`` later (at once without a periodic callback) the rest: the buttons and the results
(:meth:`RunSession.conclude`). Stop ends a run at the next flush, with what the page shows; the worker leaves after
the step it is computing, unseen. Subclasses write their state's parameters in these hooks; the session never
builds a view. A closed tab stops its run within about a second: the flush notices that the page's last
connection has gone (Bokeh destroys the session itself only after ``--unused-session-lifetime``).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dipcore.errors import SSHDipError
from explorer.data.progress import EndReason
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job, Outcome, Slot

log = logging.getLogger(__name__)

GONE_S = 0.5  # a session without a connection for this long has lost its tab: its run is stopped


class Phase(Enum):
    """Where a run is (see the module docstring)."""

    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    ENDING = "ending"
    ENDED = "ended"


@dataclass(eq=False)
class Run:
    """One run as its session tracks it: the job and the slot it reports into (the session's), the phase, and once
    it ends, whether a stop ended it, what the job left (``outcome``; None when Stop came first), why (``reason``)
    and what the page keeps of it (``kept``: the fit's last event shown)."""

    job: Job
    slot: Slot
    phase: Phase = Phase.QUEUED
    shown: int = 0                     # updates shown
    stopped: bool = False
    outcome: Outcome | None = None
    reason: EndReason | None = None
    kept: Any = None
    conclude_at: float = 0.0           # ENDING: when the rest of the end goes out


class TabWatch:
    """Notices that a served session's page has gone: no connection for ``GONE_S`` after having had one (a session
    has no connection until its page has loaded; a reconnecting page finds its run stopped, its result kept)."""

    def __init__(self):
        self.since: float | None = None
        self.connected_once = False

    def gone(self, doc, now: float) -> bool:
        ctx = getattr(doc, "session_context", None)
        server_session = getattr(ctx, "session", None)  # bokeh's public ServerSession (None before it exists)
        if server_session is None:
            return False
        if server_session.connection_count > 0:
            self.since, self.connected_once = None, True
            return False
        if not self.connected_once:
            return False
        self.since = self.since or now
        return now - self.since >= GONE_S


def stop_periodic(periodic) -> None:
    """Stop a session's periodic callback, if there is one. Bokeh may already have stopped it with the session (it
    then raises): that is the state we want, so the error is dropped, not reported."""
    if periodic is None:
        return
    try:
        periodic.stop()
    except Exception:  # already stopped with the session
        log.debug("periodic callback already stopped", exc_info=True)


class RunSession:
    """The runs of one tab of one browser session (see the module docstring), one at a time.

    Parameters
    ----------
    state : param.Parameterized
        What the tab shows: the session writes its ``running`` (True from start to the end's conclusion) and
        ``error`` parameters, and whatever the subclass's hooks write.
    queue : FitQueue, optional
        Where runs wait for their turn (None: they run at once).

    Subclasses set ``period_ms`` (the periodic flush) and ``conclude_delay`` (s between a run's end line and the
    rest of its end) and implement :meth:`show`, :meth:`end` and :meth:`conclude`; :meth:`show_queue`,
    :meth:`show_admitted`, :meth:`batch` and :meth:`hold` are optional.
    """

    period_ms = 100
    conclude_delay = 0.0

    def __init__(self, state, queue: FitQueue | None = None):
        self.state = state
        self.queue = queue
        self.current: Run | None = None    # the current (or last) run
        self.doc = None                    # the Bokeh document of the browser session (attach())
        # event times (benchmarks/bench_explorer.py and the browser tests read them): stop_called, end_shown, tab_gone
        self.stats: dict = {}
        self._periodic = None
        self._closed = False
        self._tab = TabWatch()
        self._lock = threading.RLock()     # flush() is called by the periodic callback and by hand (tests, wait())

    # ---- the browser session ------------------------------------------------------------------------------
    def attach(self) -> None:
        """In a served page: flush every ``period_ms`` and close with the session (no-op elsewhere or twice)."""
        import panel as pn

        doc = pn.state.curdoc
        if self._periodic is not None or doc is None or doc.session_context is None:
            return
        self.doc = doc
        self._periodic = pn.state.add_periodic_callback(self.flush, period=self.period_ms)
        pn.state.on_session_destroyed(self._destroyed)

    @property
    def attached(self) -> bool:
        return self._periodic is not None

    def _destroyed(self, session_context) -> None:  # Bokeh wants exactly this signature
        self.close()

    def close(self) -> None:
        """The session ended: stop the run and the periodic flush (a run's end still to conclude is concluded)."""
        self._closed = True  # first: nothing may be scheduled on the dying document any more
        run = self.current
        if run is not None:
            run.job.stop()
        stop_periodic(self._periodic)
        self._periodic = None
        if run is not None and run.phase is Phase.ENDING:
            with self._lock, self.batch():
                self._conclude(run)

    # ---- runs ---------------------------------------------------------------------------------------------
    @property
    def job(self) -> Job | None:
        """The current (or last) run's job, None before the first run."""
        return self.current.job if self.current is not None else None

    @property
    def phase(self) -> Phase:
        return self.current.phase if self.current is not None else Phase.IDLE

    @property
    def running(self) -> bool:
        """From start until the run's end is concluded (the Run button comes back then)."""
        return self.phase in (Phase.QUEUED, Phase.RUNNING, Phase.ENDING)

    @property
    def position(self) -> int | None:
        """0 while the run works, k ≥ 1 while it is k-th in the server's queue, else None."""
        return self.current.job.position if self.running else None

    def start(self, job: Job) -> Job:
        """Start ``job`` as this session's run, reporting into a slot of the session's, and say whether it waits in
        line."""
        self.current = run = Run(job, Slot())
        self.state.running = True
        job.start(run.slot)
        self._admit(run)
        return job

    def may_start(self) -> bool:
        """Whether a run may start now: not while one is on, nor (with the message on the page) when :meth:`check`
        refuses it; clears the last message otherwise."""
        if self.running:
            return False
        try:
            self.check()
        except SSHDipError as exc:
            self.state.error = str(exc)
            return False
        self.state.error = ""
        return True

    def stop(self) -> None:
        """Stop the run: the page halts at the next flush (on the loop's next tick in a served page) with what it
        shows; the worker ends after the step it is computing, never blocking the page."""
        run = self.current
        if run is None:
            return
        run.job.stop()
        self.stats["stop_called"] = time.perf_counter()
        self._flush_soon()

    def discard(self) -> None:
        """Drop the run unseen (a new field voids it): its job is stopped and ends after its step, nothing it sends
        is shown, and the tab is idle at once."""
        run = self.current
        if run is None or run.phase is Phase.ENDED:
            return
        run.job.stop()
        run.stopped, run.reason, run.phase = True, EndReason.STOPPED, Phase.ENDED
        self.state.running = False

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the worker and show its end (scripts and tests); True when the worker has ended. In a served page
        the periodic flush shows it (this waits for that); without one, this flushes."""
        deadline = time.perf_counter() + timeout
        run = self.current
        if run is None:
            return True
        run.job.join(timeout)
        if self.attached:
            while run.phase is not Phase.ENDED and time.perf_counter() < deadline:
                time.sleep(0.02)
        else:
            self.flush()
        return not run.job.alive

    def _flush_soon(self) -> None:
        """Flush on the session loop's next tick, not at the next periodic flush (up to ``period_ms`` later). Not
        once the session is over: Bokeh leaves a document that raised in a callback as every thread's ``curdoc()``."""
        doc = self.doc
        if self._closed or not self.attached or doc is None or doc.session_context is None:
            return
        try:
            doc.add_next_tick_callback(self.flush)
        except Exception:  # the session is being destroyed: nothing left to show
            log.debug("no next tick for %s", type(self).__name__, exc_info=True)

    # ---- the periodic flush -------------------------------------------------------------------------------
    def flush(self) -> None:
        """Move the run's newest news onto the state (the periodic callback; cheap when idle, never raises)."""
        with self._lock:
            run = self.current
            if run is None or run.phase in (Phase.IDLE, Phase.ENDED):
                return
            try:
                with self.batch():  # one document message per flush
                    ended = self._advance(run)
            except Exception as exc:  # never let the periodic callback die
                log.error("%s: flush failed\n%s", type(self).__name__, traceback.format_exc())
                self.display_failed(exc)
                if run.phase is Phase.ENDING:  # a run that ended must still settle (its buttons, its result)
                    self._conclude(run)
                return
            if ended:  # its message carried the end line alone, and has left
                self.stats["end_shown"] = time.perf_counter()
                if self.conclude_delay <= 0 or not self.attached:
                    with self.batch():
                        self._conclude(run)

    def _advance(self, run: Run) -> bool:
        """One step of the run's phases; True when the run has just ended (its end line is in this message)."""
        now = time.perf_counter()
        if run.phase is Phase.ENDING:
            if now >= run.conclude_at:
                self._conclude(run)
            return False
        if self.doc is not None and self._tab.gone(self.doc, now) and not run.job.stop_requested:
            log.info("%s: the session lost its tab: stopping its run", type(self).__name__)
            self.stats["tab_gone"] = now
            run.job.stop()
        stopped = run.job.stop_requested
        if run.phase is Phase.QUEUED and not stopped:
            self._admit(run)
        update, outcome = run.slot.take(None if stopped else self.hold)
        run.outcome = run.outcome or outcome  # kept at once: a failure to show the update must not lose the end
        if update is not None and not (stopped and run.shown):  # after Stop the page keeps what it shows
            run.shown += 1
            self.show(update)
        if run.outcome is None and not stopped:
            return False
        run.phase, run.stopped = Phase.ENDING, stopped
        run.reason = self.end(run)
        run.conclude_at = now + self.conclude_delay
        return True

    def _admit(self, run: Run) -> None:
        if run.job.queued:
            self.show_queue(run.job.position)
        else:  # admitted (or no queue)
            run.phase = Phase.RUNNING
            self.show_admitted()

    def _conclude(self, run: Run) -> None:
        try:
            self.state.running = False
            self.conclude(run)
        except Exception as exc:
            log.error("%s: showing the run's end failed\n%s", type(self).__name__, traceback.format_exc())
            self.display_failed(exc)
        finally:  # only now: wait() (another thread) returns once the run's end is all shown
            run.phase = Phase.ENDED

    # ---- hooks --------------------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise SSHDipError, with what to do, when the next run would go over the server's limits."""

    def batch(self) -> AbstractContextManager:
        """Collect the model changes of one flush into one document message (default: none needed)."""
        return nullcontext()

    def hold(self, update: Any) -> bool:
        """True to leave ``update`` in the slot for now (back-pressure; never asked for a run's last update)."""
        return False

    def show_queue(self, position: int | None) -> None:
        """The run waits in the server's line at ``position`` (asked at every flush while it waits)."""

    def show_admitted(self) -> None:
        """The run has its turn (or needed none)."""

    def show(self, update: Any) -> None:
        """Show the newest update."""
        raise NotImplementedError

    def end(self, run: Run) -> EndReason:
        """The run has ended (``run.outcome``, ``run.stopped``): write its end line only, and say why it ended."""
        raise NotImplementedError

    def conclude(self, run: Run) -> None:
        """The rest of the run's end (``running`` is already False): the results, the downloads."""

    def display_failed(self, exc: Exception) -> None:
        """A flush failed (a bug in showing, never in the worker): say so on the page; the session lives on."""
        self.state.error = f"display error: {type(exc).__name__}: {exc}"


__all__ = ["GONE_S", "Phase", "Run", "RunSession", "TabWatch", "stop_periodic"]
