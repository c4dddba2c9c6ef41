"""The explorer's background work (explorer/run/job.py, explorer/run/fit_job.py): the slot (latest wins,
back-pressure, an outcome that is never held or lost), a job's thread, stop and failures; the fit job's records."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dipcore.twin import make_twin
from explorer.run.fit_job import FitJob
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job, Outcome, Slot


def test_a_slot_hands_over_the_newest_update_once_and_the_outcome_once():
    slot = Slot()
    assert slot.take() == (None, None)
    for i in range(5):
        slot.put(i)
    assert slot.take() == (4, None) and slot.take() == (None, None)   # latest wins; a taken update is gone
    slot.put(5)
    assert slot.take(hold=lambda u: True) == (None, None)             # back-pressure: it stays in the slot
    assert slot.take(hold=lambda u: u != 5) == (5, None)
    slot.put(6)
    slot.close(Outcome(value="done"))
    assert slot.take(hold=lambda u: True) == (6, Outcome(value="done"))  # never held once the outcome is in
    assert slot.take() == (None, None)


def test_a_job_reports_through_its_slot_and_stops_on_request():
    started, go = threading.Event(), threading.Event()

    def work(job):
        for i in range(5):
            job.post(i)
        started.set()
        go.wait(10)
        while not job.stop_requested:
            time.sleep(0.01)
        return "left"

    job = Job(work, name="test-job").start()
    assert started.wait(10)
    assert job.slot.take() == (4, None) and job.alive and not job.done
    go.set()
    job.stop()
    assert job.join(10) and job.done and not job.alive
    assert job.slot.take() == (None, Outcome(value="left", stopped=True))
    with pytest.raises(RuntimeError):
        job.start()                                    # a job runs once


def test_a_failing_job_ends_with_its_message_and_releases_its_queue_slot():
    from dipcore.errors import SSHDipError

    queue = FitQueue(1)
    for exc, text in ((ValueError("bad input"), "ValueError: bad input"), (SSHDipError("too small"), "too small")):
        def work(job, exc=exc):
            raise exc

        job = Job(work, queue=queue).start()
        assert job.join(10) and job.done
        assert job.slot.take() == (None, Outcome(error=text))
        assert queue.counts() == (0, 0)                # a failed worker must not keep the server's slot


def test_a_job_stopped_while_queued_never_works():
    queue, calls = FitQueue(1), []
    first = queue.join("someone else's fit")
    job = Job(lambda j: calls.append(1), queue=queue).start()
    assert job.queued and job.position == 1
    job.stop()
    assert job.join(10) and calls == [] and not job.queued and job.position is None
    assert job.slot.take() == (None, Outcome(stopped=True))
    queue.release(first)


def _fake_fit(calls: list):
    from dipcore import metrics
    from dipcore.solver import Progress

    def fit(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        calls.append((recipe, members, kw.get("device"), kw.get("keep_members")))
        for step in range(1, iters + 1):
            est = (truth + 0.01 / step).astype(np.float32)
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=np.full_like(est, 0.001 * step), elapsed=0.01 * step,
                           metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9}, done=step == iters)
    return fit


@pytest.fixture
def twin(gulf_small):
    return make_twin(gulf_small, 4, 0.0, 0)


CFG = {"recipe": "default", "members": 2, "latent_samples": 0, "iters": 5, "seed": 0, "device": "cpu"}


def test_a_fit_job_runs_the_injected_fit_and_records_the_curve_and_the_tapped_cell(twin):
    calls = []
    ocean = tuple(int(v) for v in np.argwhere(np.isfinite(twin.truth))[0])
    job = FitJob(_fake_fit(calls), twin, CFG, recipe="other", tap=ocean, run_id=7)
    assert job.name == "ssh-dip-fit-7"
    job.start()
    assert job.join(30) and job.done
    assert calls == [("other", 2, "cpu", True)]      # the recipe given, the settings of the run
    p, outcome = job.slot.take()
    assert p.step == 5 and p.done and outcome == Outcome()
    curve = job.scores()
    assert curve.shape == (5, 3) and list(curve[:, 0]) == [1, 2, 3, 4, 5]
    assert list(job.scores(upto=3)[:, 0]) == [1, 2, 3]        # the curve up to the event shown
    assert job.events == 5 and [s for s, _ in job.recent_times(2)] == [4, 5]
    hist, trace = job.pixel_history(*ocean)
    assert [h[0] for h in hist] == [1, 2, 3, 4, 5] and [t[0] for t in trace] == [1, 2, 3, 4, 5]
    assert trace[-1][1] == pytest.approx(float(twin.truth[ocean] + 0.01 / 5))
    assert job.pixel_history(0, 0)[1] == [] or ocean == (0, 0)   # another cell: snapshots only


def test_a_stopped_fit_job_ends_after_the_step_it_was_in(twin):
    gate = threading.Event()
    from dipcore.solver import Progress

    def fit(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, **kw):
        for step in range(1, iters + 1):
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=truth,
                           member_std=None, elapsed=0.0, metrics={}, done=step == iters)
            gate.wait(10)

    job = FitJob(fit, twin, dict(CFG, iters=3)).start()
    deadline = time.time() + 10
    while job.events < 1 and time.time() < deadline:
        time.sleep(0.01)
    job.stop()
    gate.set()
    assert job.join(10)
    p, outcome = job.slot.take()
    assert p.step == 2 and job.events == 2 and outcome == Outcome(stopped=True)


def test_a_fit_job_turns_failures_into_messages(twin):
    from dipcore.errors import SSHDipError

    def user_error(*a, **k):
        raise SSHDipError("the observation is too small")

    def crash(*a, **k):
        raise RuntimeError("boom")
        yield  # unreachable: makes this a generator

    for fit, text in ((user_error, "the observation is too small"), (crash, "the fit failed: RuntimeError: boom")):
        job = FitJob(fit, twin, CFG).start()
        assert job.join(10)
        assert job.slot.take() == (None, Outcome(error=text))


def test_a_fit_job_hands_out_its_snapshots_and_scores_as_copies(twin):
    job = FitJob(_fake_fit([]), twin, dict(CFG, iters=4)).start()
    assert job.join(30) and job.done
    snaps, curve = job.snapshots(), job.scores()
    assert [s for s, _ in snaps] == [1, 2, 3, 4]
    assert snaps[-1][1].shape == twin.truth.shape
    np.testing.assert_allclose(snaps[-1][1], twin.truth + 0.01 / 4, rtol=1e-6)
    assert curve.shape == (4, 3) and list(curve[:, 0]) == [1, 2, 3, 4]
    assert curve[0, 1] > curve[-1, 1] > 0                        # the RMSE falls with the fake's offset
    snaps.clear()
    assert len(job.snapshots()) == 4                             # the job's own list is untouched
