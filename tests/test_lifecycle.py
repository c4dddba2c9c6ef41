"""Nothing leaks (issue 13): Run/Stop 20 times in one session and five sessions opened and closed leave the
process's threads at their baseline and its resident memory within 10 % of the first cycle's.

The fits are stand-ins injected into the apps (tests/explorer_fakes.py) except in the last test, which counts the
native threads a real fit's torch leaves behind. A closed browser tab is tests/ui/test_serving.py."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from explorer_fakes import os_threads, paced_fit, rss_mb, settle_threads

from explorer.app import ExplorerApp
from explorer.data.server_limits import Limits
from explorer.run.fitqueue import FitQueue

CROP = "0 32 0 64"


def small(a: ExplorerApp, iters: int = 10_000) -> ExplorerApp:
    a.index_crop = CROP
    a.param.update(iters=iters, members=2, device="cpu")
    assert a.error == ""
    return a


def run_and_stop(a: ExplorerApp, steps: int = 2, timeout: float = 30.0) -> None:
    """Press Run, let the page show ``steps`` steps, press Stop, and let the worker end."""
    assert a.run(), a.error
    deadline = time.time() + timeout
    while a.step < steps and time.time() < deadline:
        time.sleep(0.01)
        a.flush()
    assert a.step >= steps, a.progress_text
    a.stop()
    a.flush()
    assert not a.running and "stopped" in a.progress_text
    assert a.job.join(timeout)


def test_twenty_runs_and_stops_leave_threads_and_memory_where_they_were():
    q = FitQueue(1)
    app = small(ExplorerApp(fit=paced_fit(100.0), queue=q, limits=Limits(max_concurrent_fits=1)))
    run_and_stop(app)                                 # warm-up: first imports, first arrays of this size
    gc.collect()
    threads0, native0 = threading.active_count(), os_threads()
    rss = []
    for _ in range(20):
        run_and_stop(app)
        gc.collect()
        rss.append(rss_mb())
    threads1 = settle_threads(threads0)
    native1 = os_threads()
    print(f"20 Run/Stop cycles: Python threads {threads0} → {threads1}, OS threads {native0} → {native1}; RSS "
          f"{rss[0]:.1f} MiB after the first cycle, {rss[-1]:.1f} MiB after the 20th ({rss[-1] / rss[0] - 1:+.1%})")
    assert threads1 == threads0 and native1 <= native0
    assert rss[-1] <= 1.10 * rss[0]
    assert q.counts() == (0, 0) and app.result is not None and app.error == ""
    app.close()


def test_five_sessions_opened_and_closed_leave_nothing_behind():
    q = FitQueue(2)
    warm = small(ExplorerApp(fit=paced_fit(100.0), queue=q))
    run_and_stop(warm)
    warm.close()
    del warm
    gc.collect()
    threads0, rss0 = threading.active_count(), rss_mb()
    refs = []
    for _ in range(5):
        a = small(ExplorerApp(fit=paced_fit(100.0), queue=q))
        assert a.run()
        deadline = time.time() + 30
        while a.step < 2 and time.time() < deadline:
            time.sleep(0.01)
            a.flush()
        job = a.job
        a.close()                                     # what the end of the browser session calls, mid-fit
        assert job.join(10) and job.stop_requested and not job.alive
        refs.append(weakref.ref(a))
        del a, job
    gc.collect()
    threads1, rss1 = settle_threads(threads0), rss_mb()
    alive = sum(r() is not None for r in refs)
    print(f"5 sessions opened, run and closed: Python threads {threads0} → {threads1}; RSS {rss0:.1f} → "
          f"{rss1:.1f} MiB; {alive} of 5 apps still referenced after gc")
    assert threads1 == threads0 and q.counts() == (0, 0)
    assert alive == 0, "a closed session's app is still referenced"
    assert rss1 <= 1.10 * rss0


def test_a_closed_session_leaves_the_queue_it_was_waiting_in():
    q = FitQueue(1)
    first = small(ExplorerApp(fit=paced_fit(100.0), queue=q))
    second = small(ExplorerApp(fit=paced_fit(100.0), queue=q))
    assert first.run() and second.run()
    second.flush()
    assert second.queue_position == 1 and second.progress_text.startswith("queued, position 1")
    t0 = time.perf_counter()
    second.close()                                    # its tab closed while it waited
    assert second.job.join(5)
    left = time.perf_counter() - t0
    assert q.counts() == (1, 0) and second.job.ticket.admitted is None
    first.close()
    assert first.job.join(10) and q.counts() == (0, 0)
    print(f"a queued session's close took its fit out of the queue in {left * 1000:.1f} ms")


def test_real_fits_leave_no_native_threads_behind():
    """Each fit's thread sets its own torch thread count (explorer.run.fit_job): the OpenMP team it makes must go
    with it."""
    app = small(ExplorerApp(limits=Limits(max_concurrent_fits=1)), iters=3)
    app.members = 1
    assert app.run() and app.wait(120) and app.result.done   # warm-up: torch's pools exist from here on
    gc.collect()
    native0, threads0 = os_threads(), threading.active_count()
    for _ in range(3):
        assert app.run() and app.wait(120) and app.result.done and app.error == ""
    threads1, deadline = settle_threads(threads0), time.time() + 5
    while os_threads() > native0 and time.time() < deadline:  # a finished thread's OpenMP team ends just after it
        time.sleep(0.05)
    native1 = os_threads()
    print(f"3 real fits: OS threads {native0} → {native1}, Python threads {threads0} → {threads1}")
    assert threads1 == threads0 and native1 <= native0
    app.close()
