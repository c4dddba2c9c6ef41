"""explorer.ui.ticks.NextTick with a fake document: one scheduled batch, latest wins per key, the batch's order, one
failing change does not drop the others, changes queued from several threads all arrive."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from explorer.ui.ticks import NextTick
from explorer_fakes import FakeDoc


def make(order=sorted):
    doc, holds = FakeDoc(), []

    @contextmanager
    def hold():
        holds.append("in")
        yield
        holds.append("out")

    return doc, holds, NextTick(doc, hold, order, "test")


def test_latest_wins_one_batch_in_one_hold_in_order():
    doc, holds, ticks = make(order=lambda keys: [k for k in ("field", "frame", "text") if k in keys])
    done = []
    ticks.add("text", lambda: done.append("text 1"))
    ticks.add("frame", lambda: done.append("frame"))
    ticks.add("text", lambda: done.append("text 2"))
    ticks.add("field", lambda: done.append("field"))
    assert len(doc.ticks) == 1 and done == []      # nothing runs off the loop; one batch is scheduled
    doc.tick()
    assert done == ["field", "frame", "text 2"] and holds == ["in", "out"]
    ticks.add("text", lambda: done.append("text 3"))   # a later change schedules a new batch
    assert len(doc.ticks) == 1
    doc.tick()
    assert done[-1] == "text 3"


def test_a_failing_change_does_not_drop_the_others(caplog):
    doc, _, ticks = make()
    done = []
    ticks.add("a", lambda: 1 / 0)
    ticks.add("b", lambda: done.append("b"))
    doc.tick()
    assert done == ["b"] and "update a failed" in caplog.text


def test_changes_from_several_threads_all_arrive():
    doc, _, ticks = make()
    done = []

    def worker(i):
        for j in range(200):
            ticks.add(f"{i}-{j}", lambda i=i, j=j: done.append((i, j)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while doc.ticks:
        doc.tick()
    assert len(done) == 800 and len(set(done)) == 800
