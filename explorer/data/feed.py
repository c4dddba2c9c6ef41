"""What the page shows, by name: the newest value of each and who follows it.

The state and the session publish (:meth:`Feed.send`); the live views subscribe (:meth:`Feed.subscribe`) and read
the current value when they are built (``feed[key]``). Plain Python, no UI library: the state stays testable
without a page, and a view that is never built costs nothing. Sends happen on the session's event loop (or the
test's thread), never from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# what the explorer publishes: the maps (the members' spread "std"; the calibrated "uncertainty" of a fit's last
# event; "change", what the network changed: estimate − IBP), the latent std, the two score curves, the pixel and
# transect views and the tap marks; "guide", the chosen guide map (SST) on the fine grid (a dipcore.guide.Guide, None
# without one)
KEYS = ("truth", "obs", "bicubic", "estimate", "error", "change", "std", "uncertainty", "latent", "rmse", "ssim",
        "pixel", "transect", "marks", "guide")


class Feed:
    """Named channels, each holding its newest value (None until sent) and its subscribers."""

    def __init__(self, keys: Iterable[str] = KEYS):
        self._data: dict[str, Any] = {k: None for k in keys}
        self._subscribers: dict[str, list[Callable[[Any], None]]] = {k: [] for k in self._data}

    def send(self, key: str, data: Any) -> None:
        """Publish ``data`` on ``key``: it becomes the current value and every subscriber is called with it."""
        self._data[key] = data
        for fn in list(self._subscribers[key]):
            fn(data)

    def subscribe(self, key: str, fn: Callable[[Any], None]) -> None:
        """Call ``fn(data)`` on every later :meth:`send` to ``key`` (read ``feed[key]`` for the current value)."""
        self._subscribers[key].append(fn)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()
