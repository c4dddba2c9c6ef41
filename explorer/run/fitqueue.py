"""Admission control for fits: at most N run at once on a server, the others wait their turn in a FIFO line.

This is not a scheduler: it runs nothing. A session takes a :class:`Ticket` when its user presses Run
(:meth:`FitQueue.join`); the fit's own worker thread then blocks in :meth:`FitQueue.wait` until the ticket is at the
head of the line and a slot is free (or until the ticket is cancelled: Stop, a closed tab), runs the fit, and gives
the slot back in a ``finally`` (:meth:`FitQueue.release`), so a worker that raises never keeps it. The page shows
:meth:`FitQueue.position` ("queued, position k").

One :class:`FitQueue` is shared by all sessions of a server process (:func:`server_queue`): ``explorer/main.py``
runs once per browser session, and this module's globals are the one place its sessions meet. That is on purpose
and only for this: the number of fits at a time is a property of the machine, not of a session. Tests and scripts
make their own queues.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque

WAITING, RUNNING, CANCELLED, RELEASED = "waiting", "running", "cancelled", "released"


class Ticket:
    """One fit's place in a :class:`FitQueue`: ``state`` is waiting, running, cancelled or released; the times say
    when it joined, was admitted and gave its slot back (``time.perf_counter``)."""

    _ids = itertools.count(1)

    def __init__(self, label: str = ""):
        self.id = next(self._ids)
        self.label = label
        self.state = WAITING
        self.joined = time.perf_counter()
        self.admitted: float | None = None
        self.released: float | None = None

    @property
    def waited(self) -> float | None:
        """Seconds between joining and being admitted (None until admitted)."""
        return None if self.admitted is None else self.admitted - self.joined

    def __repr__(self) -> str:
        return f"Ticket({self.id}, {self.label!r}, {self.state})"


class FitQueue:
    """A FIFO line of fit tickets with ``slots`` of them running at once (see the module docstring).

    Parameters
    ----------
    slots : int
        How many fits may run at the same time.
    """

    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError(f"a fit queue needs at least one slot; got {slots}")
        self._slots = int(slots)
        self._cond = threading.Condition()   # guards the line and the running set; wakes the waiting workers
        self._line: deque[Ticket] = deque()
        self._running: set[Ticket] = set()

    @property
    def slots(self) -> int:
        return self._slots

    def resize(self, slots: int) -> None:
        """Change the number of slots (fits already running go on; waiting ones may be admitted now)."""
        if slots < 1:
            raise ValueError(f"a fit queue needs at least one slot; got {slots}")
        with self._cond:
            self._slots = int(slots)
            self._admit()

    def join(self, label: str = "") -> Ticket:
        """Take a ticket at the end of the line; it is admitted at once when a slot is free and nobody waits."""
        t = Ticket(label)
        with self._cond:
            self._line.append(t)
            self._admit()
        return t

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until ``ticket`` is admitted (True) or cancelled (False); False too after ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: ticket.state != WAITING, timeout)
            return ticket.state == RUNNING

    def cancel(self, ticket: Ticket) -> bool:
        """Take a waiting ticket out of the line (Stop on a queued fit, a closed tab); True when it was waiting.
        A running ticket is left alone: its worker releases the slot when it has stopped."""
        with self._cond:
            if ticket.state != WAITING:
                return False
            self._line.remove(ticket)
            ticket.state = CANCELLED
            self._admit()
            return True

    def release(self, ticket: Ticket) -> None:
        """Give the slot back (the worker's ``finally``), or leave the line if still waiting; idempotent."""
        with self._cond:
            if ticket.state == WAITING:
                self._line.remove(ticket)
                ticket.state = CANCELLED
            elif ticket.state == RUNNING:
                self._running.discard(ticket)
                ticket.state, ticket.released = RELEASED, time.perf_counter()
            self._admit()

    def position(self, ticket: Ticket) -> int | None:
        """0 while running, k ≥ 1 for the k-th in the line, None once cancelled or released."""
        with self._cond:
            if ticket.state == RUNNING:
                return 0
            if ticket.state == WAITING:
                return self._line.index(ticket) + 1
            return None

    def counts(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._cond:
            return len(self._running), len(self._line)

    def _admit(self) -> None:
        """Admit from the head of the line while slots are free (caller holds the lock) and wake the waiters:
        every change of the line moves positions, and the page of each waiting session shows its own."""
        while self._line and len(self._running) < self._slots:
            t = self._line.popleft()
            t.state, t.admitted = RUNNING, time.perf_counter()
            self._running.add(t)
        self._cond.notify_all()


_server: FitQueue | None = None
_server_lock = threading.Lock()


def server_queue(slots: int) -> FitQueue:
    """The queue shared by every session of this server process, made at the first call with ``slots``; later
    calls (one per session) get the same queue, resized if the server's limit says otherwise."""
    global _server
    with _server_lock:
        if _server is None:
            _server = FitQueue(slots)
        elif _server.slots != slots:
            _server.resize(slots)
        return _server


__all__ = ["CANCELLED", "RELEASED", "RUNNING", "WAITING", "FitQueue", "Ticket", "server_queue"]
