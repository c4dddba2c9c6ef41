"""Bokeh model changes batched onto a browser session's next tick: latest wins per key, one message per batch.

A fit's worker thread (or a param watcher on any thread) must never change a Bokeh model itself: the change is
queued here under a key and applied on the session's event loop, inside one ``hold`` (one PATCH-DOC message).
A newer change under the same key replaces one not yet applied, so a slow loop drops stale frames instead of
queueing them. Used by the live maps (:class:`explorer.ui.live.LiveMaps`) and the Downscale tab
(:class:`explorer.ui.downscale.DownscaleTab`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

log = logging.getLogger(__name__)


class NextTick:
    """Changes queued for a document's next tick.

    Parameters
    ----------
    doc : bokeh.document.Document
        The browser session's document (its ``add_next_tick_callback`` runs the batch on the session's loop).
    hold : callable
        ``hold()`` → a context manager that collects the batch's model changes into one message.
    order : callable
        ``order(keys)`` → the keys in the order their changes must be applied (e.g. a new field's ranges before
        its data).
    name : str
        Names the batch in the log when one change fails.
    """

    def __init__(self, doc, hold: Callable[[], AbstractContextManager],
                 order: Callable[[Iterable[str]], list[str]], name: str):
        self.doc, self.hold, self.order, self.name = doc, hold, order, name
        self._pending: dict[str, Callable[[], None]] = {}
        self._scheduled = False
        self._lock = threading.Lock()  # the worker thread and the session's loop both queue changes

    def add(self, key: str, fn: Callable[[], None]) -> None:
        """Queue ``fn`` under ``key`` (replacing a change not yet applied) and make sure a batch is scheduled."""
        with self._lock:
            self._pending[key] = fn
            if self._scheduled:
                return
            self._scheduled = True
        self.doc.add_next_tick_callback(self.drain)

    def drain(self) -> None:
        """Apply every queued change, in ``order``, inside one ``hold`` (on the session's loop)."""
        with self._lock:
            self._scheduled = False
            pending, self._pending = self._pending, {}
        with self.hold():
            for key in self.order(pending):
                try:
                    pending[key]()
                except Exception:  # a display hiccup must not end the session
                    log.exception("%s: update %s failed", self.name, key)


__all__ = ["NextTick"]
