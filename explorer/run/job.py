"""Background work of one browser session: a worker thread that never touches the page, its stop flag, its place in
the server's fit queue, and the :class:`Slot` it reports through.

A :class:`Job` runs :meth:`Job.work` once in a daemon thread, after waiting for its turn in the server's
:class:`explorer.run.fitqueue.FitQueue` when it has one (Stop leaves the line; the slot of the queue is given back
however the work ends). It reports with :meth:`Job.post`: typed updates (small frozen dataclasses, or dipcore's
``Progress`` events) go into the :class:`Slot` its session gave it at :meth:`Job.start`, where the newest replaces
one not yet read ("latest wins"); when the work returns or raises, the job closes the slot with an
:class:`Outcome`, which is never replaced or dropped. The session (:class:`explorer.run.lifecycle.RunSession`) owns
the slot and empties it on the session's event loop. A job writes into no one else's containers: what it records besides (a fit's score curve,
its snapshots) stays its own and is read through its locked methods.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dipcore.errors import SSHDipError
from explorer.run.fitqueue import WAITING, FitQueue, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How a job's work ended: what it returned (``value``), or the failure to show (``error``: one line for the
    page, never a traceback), and whether a stop had been asked for by then."""

    value: Any = None
    error: str | None = None
    stopped: bool = False


class Slot:
    """Where a job's news wait for its session: the newest update (latest wins) and the job's :class:`Outcome`.

    Written by the job's thread, read on the session's event loop; every access holds the slot's lock.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._update: Any = None
        self._outcome: Outcome | None = None

    def put(self, update: Any) -> None:
        """Offer ``update``; one not yet taken is replaced (the page only ever wants the newest)."""
        with self._lock:
            self._update = update

    def close(self, outcome: Outcome) -> None:
        """The job has ended with ``outcome`` (its last update, if any, was put before)."""
        with self._lock:
            self._outcome = outcome

    def take(self, hold: Callable[[Any], bool] | None = None) -> tuple[Any, Outcome | None]:
        """(newest update or None, outcome or None), each handed out once. While ``hold(update)`` is true the
        update stays in the slot and nothing is handed out (back-pressure): never once the outcome is in, so the
        last update of a run is never held back."""
        with self._lock:
            update, outcome = self._update, self._outcome
            if update is not None and outcome is None and hold is not None and hold(update):
                return None, None
            self._update = self._outcome = None
        return update, outcome


class Job:
    """One piece of background work (see the module docstring).

    Parameters
    ----------
    work : callable, optional
        ``work(job)``, run once in the thread; what it returns is the outcome's value (subclasses override
        :meth:`work` instead). An exception it lets out is logged and becomes the outcome's error, worded by
        :meth:`failure`.
    name : str
        The thread's name.
    queue : FitQueue, optional
        The server's queue: the job joins it when started and works once admitted (None: works at once).
    """

    def __init__(self, work: Callable[[Job], Any] | None = None, name: str = "ssh-dip-job",
                 queue: FitQueue | None = None):
        self.thread: threading.Thread | None = None
        self.name = name
        self.queue = queue
        self.slot: Slot | None = None     # where it reports, from start()
        self.ticket: Ticket | None = None  # its place in the queue, from start()
        self.done = False                  # the worker has returned and closed the slot
        self._work = work
        self._stop = threading.Event()

    def start(self, slot: Slot | None = None) -> Job:
        """Report into ``slot`` (its session's; default: a slot of its own, :attr:`slot`), join the queue (first come,
        first served: the order of the clicks) and start the thread."""
        if self.thread is not None:
            raise RuntimeError("a job runs once")
        self.slot = slot if slot is not None else Slot()
        if self.queue is not None:
            self.ticket = self.queue.join(self.name)
        self.thread = threading.Thread(target=self._main, daemon=True, name=self.name)
        self.thread.start()
        return self

    def _main(self) -> None:
        value, error = None, None
        try:
            admitted = self.queue is None or self.queue.wait(self.ticket)  # False: left the line (Stop, closed tab)
            if admitted and not self.stop_requested:  # not when Stop came just as the slot came free
                value = self.work()
        except Exception as exc:  # a failure of the worker is reported; the session lives on
            if not isinstance(exc, SSHDipError):  # dipcore's own errors are messages, not bugs
                log.error("%s failed\n%s", self.name, traceback.format_exc())
            error = self.failure(exc)
        finally:
            if self.queue is not None:
                self.queue.release(self.ticket)  # whatever happened: a failed worker must not keep its slot
            self.slot.close(Outcome(value, error, self.stop_requested))
            self.done = True

    def work(self) -> Any:
        """The job's work, in its thread (default: the ``work`` given)."""
        return self._work(self) if self._work is not None else None

    def failure(self, exc: Exception) -> str:
        """The page's words for an exception the work let out (subclasses word their own)."""
        return str(exc) if isinstance(exc, SSHDipError) else f"{type(exc).__name__}: {exc}"

    def post(self, update: Any) -> None:
        """Report ``update`` to the session (latest wins: see :class:`Slot`)."""
        self.slot.put(update)

    def stop(self) -> None:
        """Ask the worker to stop (it polls :attr:`stop_requested`); returns at once. A job still waiting for its
        turn leaves the queue at once."""
        self._stop.set()
        if self.queue is not None and self.ticket is not None:
            self.queue.cancel(self.ticket)

    @property
    def queued(self) -> bool:
        """True while the job waits for its turn in the queue."""
        return self.ticket is not None and self.ticket.state == WAITING

    @property
    def position(self) -> int | None:
        """0 once admitted (working), k ≥ 1 for the k-th waiting, None without a queue or once it has left."""
        if self.queue is None or self.ticket is None:
            return None
        return self.queue.position(self.ticket)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker (at most ``timeout`` s); True when it has ended (or never started)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.alive


__all__ = ["Job", "Outcome", "Slot"]
