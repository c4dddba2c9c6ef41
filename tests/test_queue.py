"""A server many sessions share (issue 13): its limits (explorer/data/server_limits.py), the FIFO queue of fits
(explorer/run/fitqueue.py), the queue seen from three sessions, and faults inside the worker that must free its slot.

Fits are stand-ins injected into the apps (tests/explorer_fakes.py); every app of a test gets the same
``FitQueue`` (what ``explorer/main.py`` gives every session of a server)."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
from explorer_fakes import gated_fit, paced_fit

from dipcore.errors import SSHDipError
from explorer.app import ExplorerApp
from explorer.data.server_limits import Limits, default_concurrency
from explorer.run.fitqueue import CANCELLED, RELEASED, RUNNING, FitQueue, server_queue

CROP = "0 32 0 64"


@pytest.fixture
def make_app():
    """``make_app(**kw)``: a new app (``ExplorerApp(**kw)``), its fit stopped and joined at the end; ``gates`` set
    there too (a gated stand-in holds its worker until then)."""
    apps, gates = [], []

    def make(**kw) -> ExplorerApp:
        apps.append(ExplorerApp(**kw))
        a = apps[-1]
        a.index_crop = CROP
        a.param.update(iters=5, members=1, device="cpu")
        assert a.error == ""
        return a

    make.gates = gates
    yield make
    for g in gates:
        g.set()
    for a in apps:
        a.close()
        a.wait(30)


def flush_until(apps, cond, timeout: float = 30.0) -> bool:
    """Play the sessions' periodic flush until ``cond()`` holds (or the timeout passes)."""
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        for a in apps:
            a.flush()
        time.sleep(0.02)
    return cond()


# ---- the limits -----------------------------------------------------------------------------------------------
def test_limits_come_from_the_server_arguments_and_read_as_one_line():
    lim = Limits.from_argv(["--max-cells", "5000", "--max-members", "3", "--max-iters", "100",
                            "--max-concurrent-fits", "2", "--an-option-of-someone-else", "x"])
    assert lim == Limits(max_cells=5000, max_members=3, max_iters=100, max_concurrent_fits=2)
    assert lim.summary() == ("This server: at most 3 members, 100 iterations, 5,000 cells; 2 fits at a time "
                             "(others queue).")
    assert Limits.from_argv([]).max_concurrent_fits == default_concurrency()
    with pytest.raises(SSHDipError, match="invalid int value: 'many'"):
        Limits.from_argv(["--max-members", "many"])
    with pytest.raises(SSHDipError, match="--max-iters must be at least 1"):
        Limits(max_iters=0)
    # the default fits the machine: one per GPU, else one per two cores; each fit's share of the cores
    assert default_concurrency(cpus=2, gpus=0) == 1 and default_concurrency(cpus=16, gpus=0) == 8
    assert default_concurrency(cpus=16, gpus=2) == 2 and default_concurrency(cpus=1, gpus=0) == 1
    assert Limits(max_concurrent_fits=3).threads_per_fit(cpus=8) == 2
    assert Limits(max_concurrent_fits=4).threads_per_fit(cpus=2) == 1


def test_a_request_over_a_limit_is_a_message_not_a_fit(make_app):
    from dipcore.io import Field

    lim = Limits(max_cells=40_000, max_members=2, max_iters=50, max_concurrent_fits=1)
    app = make_app(fit=paced_fit(), limits=lim)
    assert app.members <= 2 and app.iters <= 50          # the page opens within the limits
    app.members = 3
    assert not app.run() and not app.running and app.job is None
    assert "K = 3 members is more than this server allows (2)" in app.error
    app.param.update(members=2, iters=51)
    assert not app.run() and "51 iterations is more than this server allows (50)" in app.error
    app.iters = 50
    assert app.run() and app.wait(30) and app.error == "" and app.result.done
    # a field larger than the limit is refused at loading (its twin would hold the server), the crop stays
    big = Field.from_array(np.tile(app.full_field.values, (2, 1)), name="adt", dx_km=25.0)
    assert not app.load_field_object(big, "256×256") and "this server takes at most 40,000" in app.error
    assert app.field.shape == (32, 64) and app.index_crop == CROP
    with pytest.raises(SSHDipError, match="256×256 = 65,536 cells; this server takes at most 40,000"):
        lim.check(1, 1, (256, 256))


def test_the_page_says_what_the_server_allows(make_app):
    from bokeh.document import Document

    app = make_app(fit=paced_fit(), limits=Limits(max_members=6, max_iters=999, max_cells=10**6,
                                                  max_concurrent_fits=2))
    app.__panel__().get_root(Document())
    import panel as pn

    texts = [m.object for m in app.__panel__().select(pn.pane.Markdown)]
    assert "This server: at most 6 members, 999 iterations, 1,000,000 cells; 2 fits at a time (others queue)." \
        in texts
    slider = next(w for w in app.__panel__().select(pn.widgets.IntSlider) if "members" in w.name)
    assert slider.end == 6


def test_the_worker_shares_the_cores_between_concurrent_fits(make_app):
    seen = []
    app = make_app(fit=paced_fit(seen=seen), limits=Limits(max_concurrent_fits=2))
    assert app.run() and app.wait(30)
    assert seen == [Limits(max_concurrent_fits=2).threads_per_fit()]


# ---- the queue alone ------------------------------------------------------------------------------------------
def test_the_queue_admits_first_come_first_served_and_stop_leaves_it():
    q = FitQueue(1)
    a, b, c = (q.join(n) for n in "abc")
    assert [q.position(t) for t in (a, b, c)] == [0, 1, 2] and q.counts() == (1, 2)
    assert q.wait(a, 0) and not q.wait(b, 0.01)
    assert q.cancel(c) and c.state == CANCELLED and q.position(c) is None and not q.wait(c)
    assert not q.cancel(a)                       # a running ticket is not cancelled: its worker releases it
    woke = []
    th = threading.Thread(target=lambda: woke.append(q.wait(b, 10)))
    th.start()
    q.release(a)
    th.join(5)
    assert woke == [True] and b.state == RUNNING and a.state == RELEASED and q.position(b) == 0
    assert b.waited is not None and b.waited >= 0
    q.release(b)
    q.release(b)                                 # idempotent
    assert q.counts() == (0, 0)
    q.resize(2)
    d, e, f = (q.join() for _ in range(3))
    assert [q.position(t) for t in (d, e, f)] == [0, 0, 1]


def test_the_server_has_one_queue():
    assert server_queue(1) is server_queue(1)


# ---- three sessions, one slot ---------------------------------------------------------------------------------
def test_three_sessions_queue_and_stop_leaves_the_queue(make_app):
    q, lim = FitQueue(1), Limits(max_concurrent_fits=1)
    gates = [threading.Event() for _ in range(3)]
    make_app.gates.extend(gates)
    apps = [make_app(fit=gated_fit(g), queue=q, limits=lim) for g in gates]
    for a in apps:
        assert a.run()
    assert flush_until(apps, lambda: apps[0].step == 1)
    assert [a.queue_position for a in apps] == [0, 1, 2]
    assert apps[0].progress_text.startswith("step 1/5")
    assert apps[1].progress_text.startswith("queued, position 1")
    assert apps[2].progress_text.startswith("queued, position 2")
    # Stop on the third: it leaves the queue at once, its worker ends without fitting
    t0 = time.perf_counter()
    apps[2].stop()
    assert apps[2].job.join(5)
    left = time.perf_counter() - t0
    apps[2].flush()
    assert not apps[2].running and apps[2].progress_text == "stopped while queued: not run"
    assert apps[2].result is None and apps[2].error == "" and apps[2].job.ticket.admitted is None
    assert [a.queue_position for a in apps] == [0, 1, None]
    # it can join again: at the end of the line
    assert apps[2].run()
    apps[2].flush()
    assert apps[2].queue_position == 2 and apps[2].progress_text.startswith("queued, position 2")
    # the first ends: the second starts, the third moves up
    t_end = time.perf_counter()
    gates[0].set()
    assert flush_until(apps, lambda: apps[1].step >= 1 and not apps[0].running)
    assert apps[0].result.done and apps[1].queue_position == 0
    assert flush_until(apps, lambda: apps[2].progress_text.startswith("queued, position 1"))
    gates[1].set()
    gates[2].set()
    assert flush_until(apps, lambda: apps[2].result is not None and apps[2].result.done)
    handover = apps[1].job.ticket.admitted - t_end
    waits = [a.job.ticket.waited for a in apps]
    print(f"queue, 3 sessions, 1 slot: waits {', '.join(f'{w:.2f}' for w in waits)} s (first, second, third "
          f"re-queued); the second admitted {handover * 1000:.0f} ms after the first was let finish; Stop of "
          f"the queued third took {left * 1000:.0f} ms")
    assert waits[0] < 0.5 and left < 1.0 and handover < 2.0
    assert q.counts() == (0, 0)


def test_three_one_second_fits_wait_their_turn(make_app):
    """Three sessions press Run together, one slot, fits of 20 steps at 20/s: the second waits ~1 s, the third
    ~2 s, and each starts as soon as the one before gave its slot back."""
    q, lim = FitQueue(1), Limits(max_concurrent_fits=1)
    apps = [make_app(fit=paced_fit(20.0), queue=q, limits=lim) for _ in range(3)]
    for a in apps:
        a.iters = 20
        assert a.run()
    assert flush_until(apps, lambda: all(a.result is not None and a.result.done for a in apps))
    tickets = [a.job.ticket for a in apps]
    waits = [t.waited for t in tickets]
    handovers = [(b.admitted - a.released) * 1000 for a, b in itertools.pairwise(tickets)]
    print(f"queue, 3 sessions × 1 s fits, 1 slot: waits {', '.join(f'{w:.2f}' for w in waits)} s; handover "
          f"{', '.join(f'{h:.1f}' for h in handovers)} ms")
    assert waits[0] < 0.2 and 0.9 < waits[1] < waits[2] and waits[2] > 1.9
    assert all(0 <= h < 50 for h in handovers)
    assert [a.queue_position for a in apps] == [None] * 3 and q.counts() == (0, 0)


# ---- faults inside the worker ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fault, shown", [
    (RuntimeError("simulated failure"), "the fit failed: RuntimeError: simulated failure"),
    ("oom", "out of GPU memory: use fewer members, a smaller region or the CPU"),
    (SSHDipError("this fit needs about 41.2 GiB of memory; 15.0 GiB are free: use fewer members or a smaller "
                 "region"), "this fit needs about 41.2 GiB"),
])
def test_a_failing_fit_frees_its_slot_and_the_queued_fit_runs(make_app, fault, shown):
    import torch

    if fault == "oom":
        fault = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    q, lim = FitQueue(1), Limits(max_concurrent_fits=1)
    gate, started = threading.Event(), threading.Event()
    make_app.gates.append(gate)
    bad = make_app(fit=gated_fit(gate, started, fail=fault), queue=q, limits=lim)
    good = make_app(fit=paced_fit(), queue=q, limits=lim)
    assert bad.run() and started.wait(10) and good.run()
    good.flush()
    assert good.progress_text.startswith("queued, position 1")
    gate.set()                                           # the first fit now raises
    assert flush_until([bad, good], lambda: good.result is not None and good.result.done)
    assert shown in bad.error and "Traceback" not in bad.error and not bad.running
    assert bad.field.shape == (32, 64) and bad.index_crop == CROP     # what was loaded stays
    assert not bad.job.alive and good.error == "" and q.counts() == (0, 0)
    # and the session that failed runs a good fit afterwards
    bad.session.fit = paced_fit()
    assert bad.run() and bad.wait(30) and bad.error == "" and bad.result.done


def test_a_fit_that_fails_before_its_first_event_frees_its_slot(make_app):
    def broken(*a, **k):
        raise MemoryError("cannot allocate")

    q = FitQueue(1)
    a = make_app(fit=broken, queue=q, limits=Limits(max_concurrent_fits=1))
    assert a.run() and a.wait(30)
    assert "MemoryError: cannot allocate" in a.error and q.counts() == (0, 0)
