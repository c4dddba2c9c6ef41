"""The page's Bokeh building blocks: one streaming map (:class:`LiveMap`), a score against iteration with the
classical baselines as reference lines (:class:`LiveCurve`), how a field becomes a displayed image
(:func:`display_array`) and how large its frame is (:func:`frame_size`), and the text sizes a projector needs
(:func:`readable`), and the Downscale tab's misfit curve (:class:`MisfitCurve`). The views that assemble them:
:mod:`explorer.ui.live` (the Explore tab), :mod:`explorer.ui.downscale`, :mod:`explorer.ui.compare`,
:mod:`explorer.ui.replay`.

Text sizes are for a class watching a projector: titles 15 px, axis labels and tick labels 13 px (Bokeh's default
ticks are 11 px, its titles 13 px); they are fixed, so no title changes size with its text.
"""

from __future__ import annotations

import numpy as np
from bokeh.events import SelectionGeometry, Tap
from bokeh.models import (
    BasicTickFormatter,
    ColorBar,
    ColumnDataSource,
    CustomJSHover,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.plotting import figure

from dipcore.style import CM
from explorer.data.geometry import Geometry, is_lonlat
from explorer.ui.views import LAND

MAX_DISPLAY = 512  # a streamed map has at most this many cells per side (larger fields are rasterised down;
#                    a map frame is ~300 px wide: 512 leaves zoom headroom at 1/2.6 of the bytes of 1024²)
TITLE_SIZE = "15px"   # every figure's title
TEXT_SIZE = "13px"    # axis labels, tick labels, colour-bar labels, legends
IBP_COLOR = "#2ca02c"
# the classical baselines' reference lines on the score curves: (legend label, colour, dash)
REFS = {"bicubic": ("bicubic", "#555555", "dashed"), "ibp": ("IBP", IBP_COLOR, "dotdash")}
MAP_PAD = (150, 62)   # px around a map's frame: y axis, colour bar and toolbar (x); title and x axis (y)
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


def readable(fig) -> None:
    """Text sizes a class can read on a projector (see the module docstring)."""
    fig.title.text_font_size = TITLE_SIZE
    for ax in (*fig.xaxis, *fig.yaxis):
        ax.axis_label_text_font_size = TEXT_SIZE
        ax.major_label_text_font_size = TEXT_SIZE
    for item in fig.right + fig.left + fig.above + fig.below:
        if isinstance(item, ColorBar):
            item.major_label_text_font_size = TEXT_SIZE
            item.title_text_font_size = TEXT_SIZE


def frame_size(shape: tuple[int, int], spacing_km, max_w: int, max_h: int, min_side: int = 100) -> tuple[int, int]:
    """A map frame (width, height) in px with the field's true shape on the ground (its km spacing; cells when
    unknown), as large as ``max_w`` × ``max_h`` allows: the Mediterranean is 2.5 times wider than tall, and a fixed
    frame would squash it."""
    ny, nx = shape
    dy, dx = spacing_km or (1.0, 1.0)
    aspect = (nx * dx) / max(ny * dy, 1e-9)
    if aspect >= max_w / max_h:
        return max_w, max(min_side, round(max_w / aspect))
    return max(min_side, round(max_h * aspect)), max_h


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
                 on_tap=None, on_box=None, unit: str = "cm", width: int = 370, height: int = 220):
        tools = "pan,wheel_zoom,box_zoom,reset,tap,save" + (",box_select" if on_box else "")
        self.fig = figure(title=title, x_range=x_range, y_range=y_range, width=width, height=height, tools=tools,
                          active_scroll="wheel_zoom", toolbar_location="right", match_aspect=False)
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
        readable(self.fig)
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

    def frame(self, width: int, height: int) -> None:
        """Make the map's frame ``width`` × ``height`` px (its outer size adds the axes, colour bar and toolbar)."""
        w, h = width + MAP_PAD[0], height + MAP_PAD[1]
        if (self.fig.width, self.fig.height) != (w, h):
            self.fig.update(width=w, height=h)

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
    reference lines span a huge x extent, left out of the x auto-range, so they only change with the field. The y
    axis starts at 0 (``zero``): an axis from 8.05 to 8.65 cm makes a 0.6 cm change look like a cliff."""

    REF_SPAN = 1e9

    def __init__(self, title: str, ylabel: str, width: int = 370, height: int = 260, top: float | None = None):
        # explicit ranges: an auto range over an empty curve is NaN before the first run, and BokehJS then logs
        # "could not set initial ranges" at every repaint
        self.fig = figure(title=title, width=width, height=height, tools="pan,wheel_zoom,box_zoom,reset,save,hover",
                          x_axis_label="iteration", y_axis_label=ylabel, x_range=Range1d(0, 1),
                          y_range=Range1d(0, top or 1.0))
        self.top = top  # a fixed top (SSIM: 1); None: 10 % above the largest value shown
        self.dip = ColumnDataSource(data=dict(x=[], y=[]))
        self.refs = {k: ColumnDataSource(data=dict(x=[], y=[])) for k in REFS}
        self.fig.line("x", "y", source=self.dip, color="#1f77b4", line_width=3, legend_label="DIP")
        for k, (label, color, dash) in REFS.items():
            self.fig.line("x", "y", source=self.refs[k], color=color, line_dash=dash, line_width=2, legend_label=label)
        self.fig.legend.orientation = "horizontal"
        self.fig.legend.label_text_font_size = TEXT_SIZE
        self.fig.add_layout(self.fig.legend[0], "above")  # outside the plot: it never covers the curves
        readable(self.fig)
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
        self._y_top(values)

    def _y_top(self, values: np.ndarray) -> None:
        """From 0 to the fixed top, or to 10 % above the largest value shown (the reference lines included)."""
        if self.top is not None:
            return
        shown = [v for v in self._refs.values() if np.isfinite(v)]
        finite = values[np.isfinite(values)]
        hi = max(shown + ([float(finite.max())] if finite.size else []), default=1.0)
        top = float(np.ceil(hi * 1.1 * 10) / 10) if hi > 0 else 1.0  # rounded: it moves only now and then
        if self.fig.y_range.end != top or self.fig.y_range.start != 0:
            self.fig.y_range.update(start=0, end=top)


# ---- the Downscale tab's misfit curve ----------------------------------------------------------------------------
# Why the final answer is a point and not the curve's last step: the default recipe makes its final answer consistent
# with the map (back-projection), which leaves a misfit of ~1e-4 cm by construction. Drawn as the line's last step,
# it read as a cliff the networks had climbed down; it is the correction, said in words under the curve
# (explorer.downscale.session.misfit_words).
FLOOR_CM = 1e-6  # the log axis's floor: a back-projected answer's misfit can be exactly 0
FINAL_COLOR = "#ff7f0e"


class MisfitCurve:
    """The data misfit (cm) against iteration on a log axis (it falls by orders of magnitude, which a linear axis
    flattens), the bicubic and IBP estimates' misfits as horizontal reference lines once a run is done, and the
    final, back-projected answer as one marked point."""

    def __init__(self, width: int = 530, height: int = 312):
        self.fig = figure(title="Misfit: RMS of the estimate's block means − your map", width=width, height=height,
                          y_axis_type="log", x_range=Range1d(0, 1), tools="pan,wheel_zoom,box_zoom,reset,save",
                          x_axis_label="iteration", y_axis_label="misfit RMS (cm)")
        self.dip = ColumnDataSource(data=dict(x=[], y=[]))
        self.final = ColumnDataSource(data=dict(x=[], y=[]))
        self.refs = {k: ColumnDataSource(data=dict(x=[], y=[])) for k in REFS}
        line = self.fig.line("x", "y", source=self.dip, color="#1f77b4", line_width=3, legend_label="networks' output")
        for k, (label, color, dash) in REFS.items():
            self.fig.line("x", "y", source=self.refs[k], color=color, line_dash=dash, line_width=2,
                          legend_label=label)
        self.fig.scatter("x", "y", source=self.final, marker="diamond", size=14, color=FINAL_COLOR,
                         legend_label="final answer (back-projected)")
        tips = [("iteration", "@x{0}"), ("misfit", "@y{0.[00000]} cm")]
        self.fig.add_tools(HoverTool(renderers=[line], tooltips=tips, mode="vline"))
        legend = self.fig.legend[0]
        legend.label_text_font_size = TEXT_SIZE
        legend.location = "bottom_left"
        legend.background_fill_alpha = 0.7
        self.items = dict(zip(["dip", *REFS, "final"], legend.items, strict=True))
        readable(self.fig)

    def show(self, steps: np.ndarray, values_cm: np.ndarray, refs_cm: dict[str, float],
             final_cm: tuple[int, float] | None = None) -> None:
        """The networks' misfit so far, the reference misfits (cm) and the final answer's (step, misfit cm)."""
        steps = np.asarray(steps, dtype=float)
        self.dip.data = dict(x=steps, y=np.maximum(np.asarray(values_cm, dtype=float), FLOOR_CM))
        end = max(float(steps.max()) if steps.size else 1.0, float(final_cm[0]) if final_cm else 1.0, 1.0)
        self.fig.x_range.update(start=0, end=end)
        for k, src in self.refs.items():  # the lines span far beyond the explicit x range
            v = refs_cm.get(k)
            shown = v is not None and bool(np.isfinite(v))
            src.data = dict(x=[-1e9, 1e9], y=[max(v, FLOOR_CM)] * 2) if shown else dict(x=[], y=[])
            self.items[k].visible = shown  # no legend entry for a line not drawn yet
        self.final.data = dict(x=[final_cm[0]], y=[max(final_cm[1], FLOOR_CM)]) if final_cm else dict(x=[], y=[])
        self.items["final"].visible = final_cm is not None


def guide_palette() -> list[str]:
    """A guide map's (SST's) sequential palette, cmocean's thermal: SST in °C shares no colour scale with SSH."""
    import cmocean

    from explorer.ui.views import hex_cmap

    return hex_cmap(cmocean.cm.thermal)


def guide_clim(values: np.ndarray | None) -> tuple[float, float]:
    """Colour limits of a guide map: its 1st and 99th percentiles (one warm eddy must not wash out the fronts the
    gate compares with the SSH's); (0, 1) without values."""
    if values is None or not np.isfinite(values).any():
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.nanpercentile(values, [1, 99]))
    return lo, hi if hi > lo else lo + 1e-3


def guide_title(guide) -> str:
    """'Guide: temp (°C), on the fine grid' for a :class:`dipcore.guide.Guide`."""
    units = "°C" if guide.units == "degC" else guide.units
    return f"Guide: {guide.name}" + (f" ({units})" if units else "") + ", on the fine grid"


__all__ = ["FINAL_COLOR", "FLOOR_CM", "IBP_COLOR", "MAP_PAD", "MAX_DISPLAY", "REFS", "TEXT_SIZE", "TITLE_SIZE",
           "VALUE_JS", "LiveCurve", "LiveMap", "MisfitCurve", "display_array", "frame_size", "guide_clim",
           "guide_palette", "guide_title", "rasterise", "readable"]
