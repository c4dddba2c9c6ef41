"""The one background-work pattern of the explorer's tabs (explorer/run/lifecycle.py), with stand-in jobs and a
stand-in state: a run's phases (queued, running, ending, ended) and why it ended, Stop, the end line going out alone
before the rest, back-pressure, failures of the worker and of the display, a voided run, a closed session that
schedules nothing more, and a tab whose page has gone. The explore tab's fit on the same pattern:
tests/test_explorer.py; the Downscale tab: tests/test_downscale_tab.py."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
import param
import pytest

from explorer.data.progress import EndReason
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job
from explorer.run.lifecycle import GONE_S, Phase, RunSession, TabWatch, stop_periodic
from explorer_fakes import FakeDoc


class Board(param.Parameterized):
    """A tab's state as the session sees it: ``running`` and ``error``, written by the session."""

    running = param.Boolean(default=False)
    error = param.String(default="")


class Recorder(RunSession):
    """A session whose hooks note what they were asked to show, batch by batch."""

    def __init__(self, queue=None, held=False):
        super().__init__(Board(), queue)
        self.seen: list = []        # (hook, what), in order
        self.batches: list = []     # what each batch (one document message) carried
        self.held = held

    @contextmanager
    def batch(self):
        start = len(self.seen)
        yield
        if len(self.seen) > start:
            self.batches.append([h for h, _ in self.seen[start:]])

    def hold(self, update):
        return self.held

    def show_queue(self, position):
        self.seen.append(("queue", position))

    def show_admitted(self):
        self.seen.append(("admitted", None))

    def show(self, update):
        self.seen.append(("show", update))

    def end(self, run):
        self.seen.append(("end", (run.stopped, run.outcome)))
        if run.outcome is not None and run.outcome.error:
            self.state.error = run.outcome.error
            return EndReason.FAILED
        return EndReason.STOPPED if run.stopped else EndReason.FINISHED

    def conclude(self, run):
        self.seen.append(("conclude", self.state.running))


class Served(Recorder):
    """As in a served page: attached (the end's rest waits ``conclude_delay``) to a stand-in document."""

    attached = True
    conclude_delay = 0.05

    def __init__(self, doc, **kw):
        super().__init__(**kw)
        self.doc = doc


def gated_job(gate: threading.Event, steps: int = 3, fail: Exception | None = None, **kw) -> Job:
    """Posts 1, then waits for ``gate`` and posts the rest (or raises ``fail``); returns "result" when done."""
    def work(job):
        job.post(1)
        while not gate.wait(0.01):
            if job.stop_requested:
                return None
        if fail is not None:
            raise fail
        for i in range(2, steps + 1):
            job.post(i)
        return "result"
    return Job(work, **kw)


def shown(session) -> list:
    return [what for hook, what in session.seen if hook == "show"]


def flush_until(session, condition, timeout: float = 10.0) -> None:
    """Play the session's periodic flush until ``condition()`` holds (or the timeout passes)."""
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        session.flush()
        time.sleep(0.005)


def test_a_run_walks_through_its_phases_and_ends_finished():
    s, gate = Recorder(), threading.Event()
    assert s.phase is Phase.IDLE and not s.running and s.job is None
    job = s.start(gated_job(gate))
    assert s.phase is Phase.RUNNING and s.state.running and s.seen == [("admitted", None)]  # no queue: at once
    flush_until(s, lambda: shown(s))
    assert shown(s) == [1] and s.phase is Phase.RUNNING
    gate.set()
    assert job.join(10)
    s.flush()                                          # the last update, the end line, then (not served) the rest
    assert shown(s) == [1, 3] and s.phase is Phase.ENDED and not s.state.running
    assert s.current.reason is EndReason.FINISHED and s.current.outcome.value == "result"
    assert s.batches[-2:] == [["show", "end"], ["conclude"]]   # the end line leaves before the rest
    assert ("conclude", False) in s.seen                         # running is already False for the rest
    s.flush()
    assert s.seen[-1] == ("conclude", False)                     # an ended run is left alone


def test_stop_ends_the_run_at_the_next_flush_with_what_the_page_shows():
    s, gate = Recorder(), threading.Event()
    job = s.start(gated_job(gate))
    flush_until(s, lambda: shown(s))
    t0 = time.perf_counter()
    s.stop()
    s.flush()
    assert s.phase is Phase.ENDED and time.perf_counter() - t0 < 0.5
    assert s.current.stopped and s.current.reason is EndReason.STOPPED and s.current.outcome is None
    assert "stop_called" in s.stats and "end_shown" in s.stats
    gate.set()
    assert job.join(10)
    s.flush()
    assert shown(s) == [1]                             # nothing the worker sent later is shown


def ended_run(session, steps: int):
    """``session`` after a run of ``steps`` updates whose job has ended, flushed once."""
    gate = threading.Event()
    gate.set()
    assert session.start(gated_job(gate, steps=steps)).join(10)
    session.flush()
    return session


def test_a_served_run_sends_its_end_line_alone_and_the_rest_a_flush_later():
    s = ended_run(Served(FakeDoc()), steps=2)
    assert s.phase is Phase.ENDING and s.state.running and s.batches[-1] == ["show", "end"]
    s.flush()
    assert s.phase is Phase.ENDING                     # conclude_delay has not passed
    time.sleep(s.conclude_delay)
    s.flush()
    assert s.phase is Phase.ENDED and not s.state.running and s.batches[-1] == ["conclude"]


def test_a_queued_run_says_its_place_then_runs_and_stop_while_queued_never_works():
    queue, gate = FitQueue(1), threading.Event()
    first = queue.join("another session's fit")
    s = Recorder(queue=queue)
    job = s.start(gated_job(gate, queue=queue))
    assert s.phase is Phase.QUEUED and s.position == 1 and s.seen == [("queue", 1)]
    s.flush()
    assert s.seen[-1] == ("queue", 1) and not shown(s)
    queue.release(first)
    flush_until(s, lambda: shown(s))
    assert ("admitted", None) in s.seen and s.phase is Phase.RUNNING and s.position == 0
    s.stop()
    gate.set()
    assert job.join(10)
    s.flush()
    assert s.phase is Phase.ENDED and queue.counts() == (0, 0)

    other = queue.join("another session's fit")
    s2 = Recorder(queue=queue)
    calls = []
    job2 = s2.start(Job(lambda j: calls.append(1), queue=queue))
    s2.stop()
    s2.flush()
    assert s2.phase is Phase.ENDED and s2.current.reason is EndReason.STOPPED and s2.position is None
    assert job2.join(10) and calls == []
    queue.release(other)


def test_back_pressure_holds_updates_but_never_the_last_one():
    s, gate = Recorder(held=True), threading.Event()
    job = s.start(gated_job(gate, steps=3))
    time.sleep(0.05)
    s.flush()
    assert shown(s) == [] and s.phase is Phase.RUNNING  # held: the browser is still painting
    gate.set()
    assert job.join(10)
    s.flush()
    assert shown(s) == [3] and s.phase is Phase.ENDED   # the outcome is in: the last update goes out


def test_a_failing_worker_ends_the_run_with_its_message():
    s, gate = Recorder(), threading.Event()
    gate.set()
    job = s.start(gated_job(gate, fail=ValueError("no ocean here")))
    assert job.join(10)
    s.flush()
    assert s.current.reason is EndReason.FAILED and s.state.error == "ValueError: no ocean here"
    assert s.phase is Phase.ENDED and not s.state.running


def test_a_failing_display_is_a_message_and_the_run_still_settles():
    class Broken(Recorder):
        def conclude(self, run):
            raise RuntimeError("a view broke")

        def show(self, update):
            raise KeyError("no such map")

    s, gate = Broken(), threading.Event()
    gate.set()
    job = s.start(gated_job(gate, steps=2))
    assert job.join(10)
    s.flush()                                          # show raises: the flush reports it and the session lives on
    assert s.state.error == "display error: KeyError: 'no such map'"
    s.flush()
    assert s.phase is Phase.ENDED and not s.state.running   # the end settles even though conclude raised
    assert s.state.error == "display error: RuntimeError: a view broke"


def test_a_discarded_run_is_idle_at_once_and_nothing_it_sends_is_shown():
    s, gate = Recorder(), threading.Event()
    job = s.start(gated_job(gate))
    s.discard()                                        # a new field voids the run
    assert s.phase is Phase.ENDED and not s.state.running and job.stop_requested
    gate.set()
    job.join(10)
    s.flush()
    assert shown(s) == [] and not any(h == "end" for h, _ in s.seen)


def test_stop_flushes_on_the_next_tick_but_a_closed_session_schedules_nothing():
    doc, gate = FakeDoc(), threading.Event()
    s = Served(doc)
    job = s.start(gated_job(gate))
    s.stop()
    assert doc.ticks == [s.flush]                      # Stop shows on the loop's next tick, not 100 ms later
    s.close()
    s.stop()
    assert doc.ticks == [s.flush]  # a callback added to a destroyed document would leak it into curdoc()
    gate.set()
    assert job.join(10)

    gone = FakeDoc()
    gone.session_context = None                        # what a destroyed document looks like
    s2 = Served(gone)
    s2.start(gated_job(threading.Event()))
    s2.stop()
    assert gone.ticks == []


def test_close_stops_the_run_and_settles_one_that_was_ending():
    s = ended_run(Served(FakeDoc()), steps=1)
    assert s.phase is Phase.ENDING
    s.close()
    assert s.phase is Phase.ENDED and not s.state.running and s.seen[-1][0] == "conclude"


def test_the_tab_watch_waits_for_a_first_connection_then_for_gone_s():
    doc, watch = FakeDoc(connections=0), TabWatch()
    assert not watch.gone(doc, 0.0) and not watch.gone(doc, 100.0)   # a page still loading has no connection
    doc.session_context.session.connection_count = 1
    assert not watch.gone(doc, 100.0)
    doc.session_context.session.connection_count = 0
    assert not watch.gone(doc, 101.0) and not watch.gone(doc, 101.0 + GONE_S / 2)
    assert watch.gone(doc, 101.0 + GONE_S)
    assert not TabWatch().gone(FakeDoc(), 0.0)         # no server session (yet): nothing to say


def test_a_run_whose_tab_has_gone_is_stopped_by_the_flush():
    doc, gate = FakeDoc(connections=1), threading.Event()
    s = Served(doc)
    job = s.start(gated_job(gate))
    s.flush()
    doc.session_context.session.connection_count = 0
    s.flush()
    assert not job.stop_requested
    time.sleep(GONE_S + 0.05)
    s.flush()
    assert job.stop_requested and "tab_gone" in s.stats and s.phase is Phase.ENDING
    gate.set()
    assert job.join(10)


def test_wait_without_a_periodic_flush_shows_the_end():
    s, gate = Recorder(), threading.Event()
    gate.set()
    s.start(gated_job(gate))
    assert s.wait(10) and s.phase is Phase.ENDED and shown(s)[-1] == 3
    assert Recorder().wait(1)                          # nothing to wait for


@pytest.mark.parametrize("already_stopped", [False, True])
def test_stop_periodic_stops_and_tolerates_one_bokeh_already_stopped(already_stopped):
    class FakePeriodic:
        stops = 0

        def stop(self):
            self.stops += 1
            if already_stopped:
                raise ValueError("callback already removed")  # what Bokeh raises for a callback it removed

    p = FakePeriodic()
    stop_periodic(p)
    assert p.stops == 1
    stop_periodic(None)


def test_the_fit_session_walks_the_same_phases_and_says_why_each_run_ended():
    from explorer.app import ExplorerApp
    from explorer_fakes import gated_fit, paced_fit

    queue = FitQueue(1)
    other = queue.join("another session's fit")
    app = ExplorerApp(fit=paced_fit(200.0), queue=queue)
    app.param.update(index_crop="0 32 0 64", iters=5, members=1)
    try:
        assert app.run() and app.session.phase is Phase.QUEUED and app.queue_position == 1
        assert app.progress_text.startswith("queued, position 1")
        queue.release(other)
        assert app.wait(30) and app.session.phase is Phase.ENDED and not app.running
        assert app.session.current.reason is EndReason.FINISHED and app.end_reason == "finished"
        assert app.progress_text.startswith("done at step 5/5")

        gate = threading.Event()
        app.session.fit = gated_fit(gate)
        app.iters = 50
        assert app.run()
        flush_until(app.session, lambda: app.step >= 1)
        assert app.session.phase is Phase.RUNNING and app.running
        app.stop()
        app.flush()                                      # no periodic flush here: the end is concluded at once
        assert app.session.phase is Phase.ENDED and app.end_reason == "stopped by the user"
        assert app.result is not None and app.result.step == 1
        gate.set()

        def broken(*args, **kw):
            raise RuntimeError("the GPU fell over")
            yield  # unreachable: makes this a generator, as a fit is

        app.session.fit = broken
        assert app.run() and app.wait(30)
        assert app.session.current.reason is EndReason.FAILED and app.end_reason == "failed"
        assert "the GPU fell over" in app.error and app.result is None
    finally:
        app.stop()
        app.wait(30)
