"""Streaming maps and curves as plain Bokeh figures fed from the state's :class:`explorer.data.feed.Feed`.

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
from bokeh.events import SelectionGeometry, Tap
from bokeh.models import (
    BasicTickFormatter,
    ColorBar,
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.plotting import figure

from dipcore.style import CM
from explorer.data.geometry import Geometry, is_lonlat
from explorer.ui.ticks import NextTick
from explorer.ui.views import AMP, BALANCE, LAND

MAX_DISPLAY = 512  # a streamed map has at most this many cells per side (larger fields are rasterised down;
#                    a map frame is ~300 px wide: 512 leaves zoom headroom at 1/2.6 of the bytes of 1024²)
ACK_TIMEOUT = 2.0  # s: push anyway when the browser has not acknowledged the previous image update by then
IN_FLIGHT = 2      # image updates sent but not yet painted: 2 lets the server prepare one while the browser paints
# echo the sequence number of an image update once the browser has painted it (after the next animation frame)
ACK_JS = """
const seq = cb_obj.tags.length ? cb_obj.tags[0] : 0;
requestAnimationFrame(() => setTimeout(() => { ack.tags = [seq]; }, 0));
"""
# the classical baselines' reference lines on the score curves: (legend label, colour, dash)
IBP_COLOR = "#2ca02c"
MAP_WIDTH, MAP_HEIGHT = 345, 250  # three maps and the 300 px sidebar fit a 1440 px wide screen (no side scroll)
CURVE_WIDTH = 520                 # two curves (or the pixel plots) side by side under the maps
TITLE_SIZE = "12px"               # every figure's title: fixed, so no title changes size with its text
# a map's hover value: "land" on land (NaN), else the value with two decimals and its unit. Read from the image at
# the pointer (hooked on $sx, never NaN): Bokeh prints a NaN field as "NaN" without calling a custom formatter
VALUE_JS = """
const img = src.data.image[0], shape = img.shape || [1, img.length], ny = shape[0], nx = shape[1];
const i = Math.floor((special_vars.x - src.data.x[0]) / src.data.dw[0] * nx);
const j = Math.floor((special_vars.y - src.data.y[0]) / src.data.dh[0] * ny);
if (i < 0 || j < 0 || i >= nx || j >= ny) return "";
const v = img[j * nx + i];
return Number.isFinite(v) ? v.toFixed(2) + " UNIT" : "land";
"""
REFS = {"bicubic": ("bicubic", "#555555", "dashed"), "ibp": ("IBP", IBP_COLOR, "dotdash")}


def _apply_order(keys) -> list[str]:
    """A field's restyle before the data it frames; the paint sequence number last (it tags the batch's images)."""
    keys = list(keys)
    return [k for k in ["restyle"] + [k for k in keys if k not in ("restyle", "seq")] + ["seq"] if k in keys]


def display_array(arr: np.ndarray, geom: Geometry) -> np.ndarray:
    """Rows south → north (Bokeh's image origin is bottom-left), float32 cm, large fields rasterised."""
    z = np.asarray(arr, dtype=np.float32) * np.float32(CM)
    if len(geom.ys) > 1 and geom.ys[0] > geom.ys[-1]:
        z = z[::-1]
    if max(z.shape) > MAX_DISPLAY:
        z = rasterise(z, MAX_DISPLAY)
    return np.ascontiguousarray(z)


def rasterise(z: np.ndarray, side: int) -> np.ndarray:
    """Mean-aggregate a big grid to at most ``side`` cells per side with datashader (NaN-aware)."""
    import datashader as ds
    import xarray as xr

    ny, nx = z.shape
    f = side / max(ny, nx)
    da = xr.DataArray(z, dims=("y", "x"), coords={"y": np.arange(ny, dtype=float), "x": np.arange(nx, dtype=float)})
    cvs = ds.Canvas(plot_width=max(1, int(nx * f)), plot_height=max(1, int(ny * f)))
    return cvs.raster(da, agg="mean").values.astype(np.float32)


class LiveMap:
    """One map: image glyph, colour bar, hover with units, tap and (optionally) box-select events."""

    def __init__(self, title: str, palette: list[str], label: str, x_range: Range1d, y_range: Range1d,
                 on_tap=None, on_box=None, unit: str = "cm", width: int = MAP_WIDTH, height: int = MAP_HEIGHT):
        tools = "pan,wheel_zoom,box_zoom,reset,tap,save" + (",box_select" if on_box else "")
        self.fig = figure(title=title, x_range=x_range, y_range=y_range, width=width, height=height, tools=tools,
                          active_scroll="wheel_zoom", toolbar_location="right", match_aspect=False)
        self.fig.title.text_font_size = TITLE_SIZE
        self.mapper = LinearColorMapper(palette=palette, nan_color=LAND, low=-1, high=1)
        self.source = ColumnDataSource(data=dict(image=[np.full((1, 1), np.nan, np.float32)], x=[0.0], y=[0.0],
                                                 dw=[1.0], dh=[1.0]))
        img = self.fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source,
                             color_mapper=self.mapper)
        # plain ticks (a std of 0.0004 cm would otherwise read 4.00e-4)
        self.fig.add_layout(ColorBar(color_mapper=self.mapper, title=f"{label} ({unit})", width=10,
                                     formatter=BasicTickFormatter(use_scientific=False)), "right")
        # the image only: over a tap mark a hover listing every renderer would show "???" for its value
        self.label, self.unit = label, unit
        self.hover = HoverTool(renderers=[img], tooltips=self._tooltips(None),
                               formatters={"$sx": CustomJSHover(args=dict(src=self.source),
                                                                code=VALUE_JS.replace("UNIT", unit))})
        self.fig.add_tools(self.hover)
        self.marks = ColumnDataSource(data=dict(x=[], y=[]))
        self._marks = [self.fig.scatter("x", "y", source=self.marks, marker="x", size=14, color="black", line_width=2,
                                        visible=False),
                       self.fig.line("x", "y", source=self.marks, color="black", line_width=2, visible=False)]
        self.fig.grid.visible = False  # hidden under the image anyway; each renderer costs the browser per repaint
        self.fig.xaxis.axis_label, self.fig.yaxis.axis_label = "x", "y"
        if on_tap is not None:
            self.fig.on_event(Tap, lambda e: on_tap(e.x, e.y))
        if on_box is not None:
            def box(e):
                g = e.geometry
                if g.get("type") == "rect" and e.final:
                    on_box((g["x0"], g["y0"], g["x1"], g["y1"]))
            self.fig.on_event(SelectionGeometry, box)

    def show(self, arr: np.ndarray | None, geom: Geometry) -> None:
        if arr is None:
            arr = np.full((len(geom.ys), len(geom.xs)), np.nan, np.float32)
        left, bottom, right, top = geom.bounds
        self.source.data = dict(image=[display_array(arr, geom)], x=[left], y=[bottom], dw=[right - left],
                                dh=[top - bottom])

    def clim(self, lo: float, hi: float) -> None:
        self.mapper.update(low=float(lo), high=float(hi))

    def _tooltips(self, geom: Geometry | None) -> list[tuple[str, str]]:
        """Hover rows: the value in its unit ("land" on land) and where, as lon/lat (°E, °N) or x/y."""
        value = (self.label, "$sx{custom}")
        if geom is not None and is_lonlat(geom):
            return [value, ("lon", "$x{0.00} °E"), ("lat", "$y{0.00} °N")]
        xl = geom.xlabel if geom is not None else "x"
        yl = geom.ylabel if geom is not None else "y"
        return [value, (xl, "$x{0.0}"), (yl, "$y{0.0}")]

    def axes(self, geom: Geometry) -> None:
        self.fig.xaxis.axis_label, self.fig.yaxis.axis_label = geom.xlabel, geom.ylabel
        tips = self._tooltips(geom)
        if self.hover.tooltips != tips:
            self.hover.tooltips = tips

    def mark(self, points: list[tuple[float, float]]) -> None:
        self.marks.data = dict(x=[p[0] for p in points], y=[p[1] for p in points])
        for r in self._marks:  # invisible renderers are skipped when the browser repaints the map
            r.visible = bool(points)


class LiveCurve:
    """A score against iteration (DIP) with the classical baselines (bicubic, IBP) as horizontal reference lines.

    During a run the DIP line is streamed (only the points added since the last update travel to the browser); the
    reference lines span a huge x extent, left out of the x auto-range, so they only change with the field."""

    REF_SPAN = 1e9

    def __init__(self, title: str, ylabel: str, width: int = CURVE_WIDTH, height: int = 230):
        # an explicit x range: an auto range over an empty curve is NaN before the first run, and BokehJS then
        # logs "could not set initial ranges" at every repaint
        self.fig = figure(title=title, width=width, height=height, tools="pan,wheel_zoom,box_zoom,reset,save,hover",
                          x_axis_label="iteration", y_axis_label=ylabel, x_range=Range1d(0, 1))
        self.fig.title.text_font_size = TITLE_SIZE
        self.dip = ColumnDataSource(data=dict(x=[], y=[]))
        self.refs = {k: ColumnDataSource(data=dict(x=[], y=[])) for k in REFS}
        self.fig.line("x", "y", source=self.dip, color="#1f77b4", line_width=2, legend_label="DIP")
        for k, (label, color, dash) in REFS.items():
            self.fig.line("x", "y", source=self.refs[k], color=color, line_dash=dash, line_width=2, legend_label=label)
        self.fig.legend.orientation = "horizontal"
        self.fig.add_layout(self.fig.legend[0], "above")  # outside the plot: it never covers the curves
        self._shown = (np.zeros(0), np.zeros(0))  # what the browser has (to stream only the new points)
        self._refs: dict = {}

    def show(self, data) -> None:
        """``data``: (steps, values, {"bicubic": value, "ibp": value}), as the app's score pipes send it."""
        if data is None:
            return
        steps, values, refs = data
        steps, values = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
        xs, ys = self._shown
        n = xs.size
        if 0 < n <= steps.size and np.array_equal(steps[:n], xs) and np.array_equal(values[:n], ys, equal_nan=True):
            if steps.size > n:  # the same run, further on
                self.dip.stream(dict(x=steps[n:], y=values[n:]))
        else:
            self.dip.data = dict(x=steps, y=values)
        self._shown = (steps, values)
        end = float(steps.max()) if steps.size else 1.0  # the x axis follows the DIP curve only
        if self.fig.x_range.end != max(end, 1.0) or self.fig.x_range.start != 0:
            self.fig.x_range.update(start=0, end=max(end, 1.0))
        for k, v in refs.items():
            if k in self.refs and v != self._refs.get(k):
                self._refs[k] = v
                self.refs[k].data = dict(x=[-self.REF_SPAN, self.REF_SPAN], y=[float(v), float(v)])


class LiveMaps:
    """The six linked maps and two curves of one session, subscribed to the state's feed.

    Parameters
    ----------
    state : explorer.data.state.ExplorerState
        What is shown: its feed (maps, curves, tap marks), geometry and colour limits; taps on a map call its
        ``tap_at`` and a box selection on the truth map its ``crop``.
    doc : bokeh.document.Document, optional
        The served browser session's document (default: Panel's current one). Without a served document (scripts,
        tests) every change is applied at once and nothing waits for the browser.
    """

    KEYS = ("truth", "obs", "bicubic", "estimate", "error", "std")

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
            "std": mk("Ensemble std across members", AMP, "std"),
        }
        self.maps["estimate"].source.js_on_change("tags", CustomJS(args=dict(ack=self.ack), code=ACK_JS))
        self.rmse = LiveCurve("RMSE vs iteration (cm)", "RMSE (cm)")
        self.ssim = LiveCurve("SSIM vs iteration", "SSIM")
        feed = state.feed
        for k in self.KEYS:
            feed.subscribe(k, lambda data, k=k: self.schedule(k, lambda: self._update(k, data)))
        feed.subscribe("rmse", lambda data: self.schedule("rmse", lambda: self.rmse.show(data)))
        feed.subscribe("ssim", lambda data: self.schedule("ssim", lambda: self.ssim.show(data)))
        feed.subscribe("marks", lambda data: self.schedule("marks", lambda: [
            self.maps[k].mark(data or []) for k in ("truth", "estimate", "error")]))
        state.param.watch(lambda e: self.schedule("restyle", self.restyle), ["twin"])
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
        if data is not None and np.shape(data) != (len(g.ys), len(g.xs)):
            return  # data of another field (a field change in flight)
        self.maps[key].show(data, g)
        if key == "std":  # spread is often far below the error early in a fit: its own, moving scale
            sub = data[::2, ::2] if data is not None else None  # a quarter of the cells: the same scale, cheaper
            hi = float(np.nanpercentile(sub, 99)) * CM if sub is not None and np.isfinite(sub).any() else 0.0
            self.maps["std"].clim(0.0, max(hi, 1e-3) if data is not None else s.err_lim)
        if key == "estimate":
            self.maps["estimate"].fig.title.text = ("DIP estimate (ensemble mean)" if data is not None
                                                    else "DIP estimate: press Run")
        if key == "bicubic":
            self.maps["bicubic"].fig.title.text = self._baseline_title()
        if key == "error":
            base = "IBP" if s.baseline_map == "ibp" else "bicubic"
            self.maps["error"].fig.title.text = ("Error: DIP − truth" if s.last is not None
                                                 else f"Error: {base} − truth (until a run)")

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
        for k, m in self.maps.items():
            m.axes(s.geom)
            if k == "error":
                m.clim(-s.err_lim, s.err_lim)
            elif k == "std":
                pass  # set from the data in _update
            else:
                m.clim(lo, hi)
        t = s.twin
        self.maps["obs"].fig.title.text = f"Observation (×{t.degradation.ratio}, noise {t.noise_fraction:g} σ)"
        for k in self.KEYS:
            self._update(k, s.feed[k])
