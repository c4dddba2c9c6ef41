"""The Explore tab's streaming maps and curves, plain Bokeh figures (:mod:`explorer.ui.figures`) fed from the
state's :class:`explorer.data.feed.Feed`: the truth, the observation, a classical baseline, the DIP estimate, its
error, what the network changed (DIP − IBP, on a symmetric scale of its own) and the uncertainty (the fit's
calibrated σ once it has ended; while it runs, the members' spread under that name), with the RMSE and SSIM curves.

Why not HoloViews DynamicMaps here: re-rendering a HoloViews element costs ~0.1–0.2 s per plot on this CPU (element
construction, options, range computation), so five streaming plots capped the page near one update per second.
Replacing a ``ColumnDataSource``'s data costs milliseconds. The feed is the interface: the state and the session
send, these figures subscribe (they read the state's public attributes and never write them). Updates happen in
the session's periodic flush or widget callbacks (the document lock is held), never from the worker thread.

What the browser costs (measured with a CDP CPU profile in headless Chromium, ``benchmarks/bench_explorer.py``):
every Bokeh model change used to travel as its own PATCH-DOC message (ten per update: three images, a colour
limit, four curve sources, progress bar and text), and each message made BokehJS repaint the plots it touched,
re-reading computed CSS styles for every axis label and colour bar region. So one update is now one message: the
flush runs under ``pn.io.hold`` and the map changes are applied in it (:meth:`LiveMaps.schedule`). Curves are
streamed (only the new points travel); their bicubic and IBP reference lines change only with the field. And there is
back-pressure: each image update carries a sequence number in ``tags`` of the estimate's source; a ``CustomJS``
echoes it into :attr:`LiveMaps.ack` after the next animation frame (the repaint is done; the ack also calls the
listeners registered with :meth:`LiveMaps.on_painted`: the session's flush), and the session does not push a new
image update while ``IN_FLIGHT`` are unacknowledged (for at most ``ACK_TIMEOUT`` s, :meth:`LiveMaps.busy`), so no
backlog builds up in the browser and a Stop is shown after at most two updates. The tapped-pixel and transect
plots: :mod:`explorer.ui.pixel`.
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext

import numpy as np
from bokeh.models import ColumnDataSource, CustomJS, Range1d

from dipcore.style import CM
from explorer.ui.figures import LiveCurve, LiveMap, frame_size
from explorer.ui.ticks import NextTick
from explorer.ui.views import AMP, BALANCE

ACK_TIMEOUT = 2.0  # s: push anyway when the browser has not acknowledged the previous image update by then
IN_FLIGHT = 2      # image updates sent but not yet painted: 2 lets the server prepare one while the browser paints
# echo the sequence number of an image update once the browser has painted it (after the next animation frame)
ACK_JS = """
const seq = cb_obj.tags.length ? cb_obj.tags[0] : 0;
requestAnimationFrame(() => setTimeout(() => { ack.tags = [seq]; }, 0));
"""
CELL_WIDTH = 370   # a map (or curve) of the Explore tab's 3 × 3 grid: three and the 300 px sidebar fit 1440 px
FRAME_MAX = (CELL_WIDTH - 150, 140)  # the largest map frame in that cell (px), at the field's true shape
CURVE_HEIGHT = 250  # a curve fills its cell's height (a map and its caption)
SIGMA_TITLES = {"before": "Uncertainty σ: when a run ends",
                "spread": "Members' spread (σ comes at the end)",
                "stopped": "Members' spread (a stopped run has no σ)",
                "sigma": "Uncertainty σ, from the coarse map alone"}


def _apply_order(keys) -> list[str]:
    """A field's restyle before the data it frames; the paint sequence number last (it tags the batch's images)."""
    keys = list(keys)
    return [k for k in ["restyle"] + [k for k in keys if k not in ("restyle", "seq")] + ["seq"] if k in keys]


class LiveMaps:
    """The seven linked maps and two curves of one session, subscribed to the state's feed.

    Parameters
    ----------
    state : explorer.data.state.ExplorerState
        What is shown: its feed (maps, curves, tap marks), geometry and colour limits; taps on a map call its
        ``tap_at`` and a box selection on the truth map its ``crop``.
    doc : bokeh.document.Document, optional
        The served browser session's document (default: Panel's current one). Without a served document (scripts,
        tests) every change is applied at once and nothing waits for the browser.
    """

    KEYS = ("truth", "obs", "bicubic", "estimate", "error", "change", "std")

    def __init__(self, state, doc=None):
        import panel as pn

        self.state = state
        doc = doc if doc is not None else pn.state.curdoc
        self.doc = doc if doc is not None and doc.session_context is not None else None
        self._loop_thread = threading.get_ident()  # built on the session's event loop
        self._ticks = NextTick(self.doc, self.hold, _apply_order, "live maps") if self.doc is not None else None
        self._painted: list = []  # listeners of the browser's paint acknowledgements (the session's flush)
        self.sent, self.sent_at = 0, 0.0  # sequence number and time of the last image update
        self._sent_times: dict[int, float] = {}
        self.ack = ColumnDataSource(data={}, tags=[0], name="ssh-dip-ack")  # the browser echoes it back here
        self.ack.on_change("tags", self._acked)
        self.rtts: list[float] = []  # seconds from sending an image update to the browser's ack (last 200)
        self.x_range, self.y_range = Range1d(0, 1), Range1d(0, 1)
        tap = state.tap_at
        mk = lambda t, pal, lab, **kw: LiveMap(t, pal, lab, self.x_range, self.y_range, on_tap=tap, **kw)  # noqa: E731
        self.maps = {
            "truth": mk("Truth (box-select here to crop)", BALANCE, "SSH", on_box=lambda b: state.crop(box=b)),
            "obs": mk("Observation", BALANCE, "SSH"),
            "bicubic": mk(self._baseline_title(), BALANCE, "SSH"),
            "estimate": mk("DIP estimate (ensemble mean)", BALANCE, "SSH"),
            "error": mk("Error: DIP − truth", BALANCE, "error"),
            "change": mk("What the network changed: DIP − IBP", BALANCE, "DIP − IBP"),
            # the fit's calibrated σ once it ends; the members' spread (7-20× smaller) while it runs
            "std": mk(SIGMA_TITLES["before"], AMP, "σ"),
        }
        self.maps["estimate"].source.js_on_change("tags", CustomJS(args=dict(ack=self.ack), code=ACK_JS))
        self.maps["change"].source.name = "ssh-change"  # by name: the browser tests find it
        self.rmse = LiveCurve("RMSE vs iteration (cm, from 0)", "RMSE (cm)", width=CELL_WIDTH, height=CURVE_HEIGHT)
        self.ssim = LiveCurve("SSIM vs iteration (0 to 1)", "SSIM", width=CELL_WIDTH, height=CURVE_HEIGHT, top=1.0)
        feed = state.feed
        for k in self.KEYS:
            feed.subscribe(k, lambda data, k=k: self.schedule(k, lambda: self._update(k, data)))
        feed.subscribe("uncertainty", lambda data: self.schedule("std", lambda: self._update("std", feed["std"])))
        feed.subscribe("rmse", lambda data: self.schedule("rmse", lambda: self.rmse.show(data)))
        feed.subscribe("ssim", lambda data: self.schedule("ssim", lambda: self.ssim.show(data)))
        feed.subscribe("marks", lambda data: self.schedule("marks", lambda: [
            self.maps[k].mark(data or []) for k in ("truth", "estimate", "error")]))
        state.param.watch(lambda e: self.schedule("restyle", self.restyle), ["twin"])
        # a run's end retitles the σ map even when no new map comes with it (a stopped run: no σ will come)
        state.param.watch(lambda e: self.schedule("std", lambda: self._update("std", feed["std"])), ["running"])
        self.restyle()
        self.rmse.show(feed["rmse"])
        self.ssim.show(feed["ssim"])

    # ---- one message per update, back-pressure ------------------------------------------------------------
    def hold(self):
        """Collect the model changes made inside into one PATCH-DOC message (in a session, on its loop)."""
        import panel as pn

        if self.doc is None or threading.get_ident() != self._loop_thread or pn.state.curdoc is not self.doc:
            return nullcontext()
        return pn.io.hold(self.doc)

    def _in_hold(self) -> bool:
        return (threading.get_ident() == self._loop_thread and self.doc.callbacks.hold_value is not None)

    def schedule(self, key: str, fn) -> None:
        """Apply a model change now when this is safe and batched (no session, or inside :meth:`hold` on the
        session's loop); otherwise on the session's next tick (latest wins per key), batched there."""
        if self._ticks is None or self._in_hold():
            fn()
            return
        self._ticks.add(key, fn)

    def mark_sent(self) -> None:
        """Tag the image update just made with the next sequence number (the browser echoes it when painted)."""
        if self.doc is None:
            return
        self.sent += 1
        self.sent_at = time.perf_counter()
        self._sent_times = {k: v for k, v in self._sent_times.items() if k > self.sent - 10}
        self._sent_times[self.sent] = self.sent_at
        seq = self.sent
        self.schedule("seq", lambda: setattr(self.maps["estimate"].source, "tags", [seq]))

    def on_painted(self, fn) -> None:
        """Call ``fn()`` on the session's next tick whenever the browser acknowledges an image update."""
        self._painted.append(fn)

    def _acked(self, attr, old, new) -> None:
        """The browser painted an update: note the round trip and tell the listeners (the slot may hold more)."""
        seq = self.acked
        if seq in self._sent_times:
            self.rtts = (self.rtts + [time.perf_counter() - self._sent_times.pop(seq)])[-200:]
        if self.doc is not None:
            for fn in self._painted:
                self.doc.add_next_tick_callback(fn)

    @property
    def acked(self) -> int:
        tags = self.ack.tags
        return int(tags[0]) if tags else 0

    def busy(self, now: float | None = None) -> bool:
        """True while the browser has not painted the last image update (for at most ``ACK_TIMEOUT`` s)."""
        if self.doc is None or self.sent - self.acked < IN_FLIGHT:
            return False
        return (time.perf_counter() if now is None else now) - self.sent_at < ACK_TIMEOUT

    def _update(self, key: str, data) -> None:
        s = self.state
        if s.geom is None:
            return
        g = s.coarse_geom if key == "obs" else s.geom
        if key == "std":  # the σ map: the fit's calibrated uncertainty once it has one, else the members' spread
            unc = s.feed["uncertainty"]
            spread = "spread" if s.running else "stopped"  # a run that ended without σ was stopped: none comes
            data, which = (unc, "sigma") if unc is not None else (data, spread if data is not None else "before")
            expected = getattr(s.last, "expected_rmse", None) if which == "sigma" else None
            self.maps["std"].fig.title.text = (f"Uncertainty σ (expected RMSE ≈ {expected * CM:.2f} cm)"
                                               if expected is not None else SIGMA_TITLES[which])
        if data is not None and np.shape(data) != (len(g.ys), len(g.xs)):
            return  # data of another field (a field change in flight)
        self.maps[key].show(data, g)
        if key in ("std", "change"):  # each on a scale of its own (often far below the SSH's or the error's)
            self._own_scale(key, data)
        if key == "estimate":
            self.maps["estimate"].fig.title.text = ("DIP estimate (ensemble mean)" if data is not None
                                                    else "DIP estimate: press Run")
        if key == "bicubic":
            self.maps["bicubic"].fig.title.text = self._baseline_title()
        if key == "error":
            base = "IBP" if s.baseline_map == "ibp" else "bicubic"
            self.maps["error"].fig.title.text = ("Error: DIP − truth" if s.last is not None
                                                 else f"Error: {base} − truth (until a run)")
        if key == "change":
            self.maps["change"].fig.title.text = ("What the network changed: DIP − IBP" if data is not None
                                                  else "What the network changed: DIP − IBP (after Run)")

    def _own_scale(self, key: str, data) -> None:
        """From 0 (a spread) or symmetric about 0 (a difference) to the 99th percentile of its magnitude: one hot cell
        on a front must not wash the rest out."""
        sub = np.abs(data[::2, ::2]) if data is not None else None  # a quarter of the cells: the same scale, cheaper
        hi = float(np.nanpercentile(sub, 99)) * CM if sub is not None and np.isfinite(sub).any() else 0.0
        hi = max(hi, 1e-3) if data is not None else self.state.err_lim
        self.maps[key].clim(0.0 if key == "std" else -hi, hi)

    def _baseline_title(self) -> str:
        return ("IBP baseline (bicubic back-projected, no network)" if self.state.baseline_map == "ibp"
                else "Bicubic baseline")

    def restyle(self) -> None:
        """New field: ranges, colour limits, axis labels and titles."""
        s = self.state
        if s.geom is None:
            return
        left, bottom, right, top = s.geom.bounds
        self.x_range.update(start=left, end=right)
        self.y_range.update(start=bottom, end=top)
        lo, hi = s.ssh_clim
        frame = frame_size((len(s.geom.ys), len(s.geom.xs)), s.field.spacing_km if s.field is not None else None,
                           *FRAME_MAX)
        for k, m in self.maps.items():
            m.axes(s.geom)
            m.frame(*frame)
            if k == "error":
                m.clim(-s.err_lim, s.err_lim)
            elif k not in ("std", "change"):  # those two: set from their data in _update
                m.clim(lo, hi)
        t = s.twin
        self.maps["obs"].fig.title.text = f"Observation (×{t.degradation.ratio}, noise {t.noise_fraction:g} σ)"
        for k in self.KEYS:
            self._update(k, s.feed[k])
