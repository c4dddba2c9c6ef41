"""The tapped-pixel view (members, mean ± std, truth, bicubic, IBP; the estimate over the iterations) and the
transect, as plain Bokeh figures fed from the state's feed (``pixel`` and ``transect``, built by
:mod:`explorer.data.inspector`)."""

from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from dipcore.style import CM
from explorer.ui.figures import IBP_COLOR, TEXT_SIZE, readable

CURVE_WIDTH = 520  # the pixel plots, two side by side under the curves


def _fit_range(rng: Range1d, values, pad: float = 0.08, floor: float = 0.5) -> None:
    """Set ``rng`` to the finite ``values`` with a margin (at least ``floor`` wide); unchanged when none is finite.

    The pixel plots use explicit ranges: an auto range over empty or all-NaN data (before two taps, on land) is NaN,
    which BokehJS logs as "could not set initial ranges" and draws as empty axes."""
    v = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in values]) if values else np.zeros(0)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, floor)
    mid = (lo + hi) / 2
    start, end = mid - span * (0.5 + pad), mid + span * (0.5 + pad)
    if (rng.start, rng.end) != (start, end):
        rng.update(start=start, end=end)


def _legend_above(fig) -> None:
    """Move the figure's legend above the plot area (one row): inside it covered the curves."""
    lg = fig.legend[0]
    lg.orientation = "horizontal"
    lg.background_fill_alpha = 0.0
    lg.label_text_font_size = TEXT_SIZE
    lg.spacing, lg.padding, lg.margin = 4, 2, 0
    fig.add_layout(lg, "above")


class PixelPlots:
    """Tapped-pixel view (members, mean ± std, truth, bicubic, IBP; the estimate over iterations) and the
    transect. One estimate everywhere: the title, the member dots and the end of the line over the iterations
    show the same (current, or final) estimate at the cell. A tap on land says so instead of drawing NaN."""

    def __init__(self, width: int = CURVE_WIDTH, height: int = 270):
        kw = dict(width=width, height=height, tools="pan,wheel_zoom,box_zoom,reset,save,hover")
        self.members = figure(title="Pixel: tap any map to inspect a cell", x_axis_label="ensemble member",
                              y_axis_label="SSH (cm)", x_range=Range1d(0.5, 1.5), y_range=Range1d(0, 1), **kw)
        self.m_pts = ColumnDataSource(data=dict(x=[], y=[]))
        self.m_mean = ColumnDataSource(data=dict(x=[], y=[], lo=[], hi=[]))
        self.m_truth = ColumnDataSource(data=dict(x=[], y=[]))
        self.m_bic = ColumnDataSource(data=dict(x=[], y=[]))
        self.m_ibp = ColumnDataSource(data=dict(x=[], y=[]))
        self.members.varea("x", "lo", "hi", source=self.m_mean, fill_alpha=0.2, color="#1f77b4",
                           legend_label="mean ± std")
        self.members.line("x", "y", source=self.m_mean, color="#1f77b4", line_width=2)
        self.members.scatter("x", "y", source=self.m_pts, size=9, color="#1f77b4", legend_label="members")
        self.members.line("x", "y", source=self.m_truth, color="black", line_dash="dashed", line_width=2,
                          legend_label="truth")
        self.members.line("x", "y", source=self.m_bic, color="#d62728", line_dash="dotted", line_width=2,
                          legend_label="bicubic")
        self.members.line("x", "y", source=self.m_ibp, color=IBP_COLOR, line_dash="dotdash", line_width=2,
                          legend_label="IBP")
        self.evo = figure(title="Estimate at this pixel over the iterations (± std)", x_axis_label="iteration",
                          y_axis_label="SSH (cm)", x_range=Range1d(0, 1), y_range=Range1d(0, 1), **kw)
        self.e_src = ColumnDataSource(data=dict(x=[], y=[], lo=[], hi=[]))
        self.e_truth = ColumnDataSource(data=dict(x=[], y=[]))
        self.e_bic = ColumnDataSource(data=dict(x=[], y=[]))
        self.e_ibp = ColumnDataSource(data=dict(x=[], y=[]))
        self.evo.varea("x", "lo", "hi", source=self.e_src, fill_alpha=0.2, color="#1f77b4")
        self.evo.line("x", "y", source=self.e_src, color="#1f77b4", line_width=2, legend_label="estimate")
        self.evo.line("x", "y", source=self.e_truth, color="black", line_dash="dashed", legend_label="truth")
        self.evo.line("x", "y", source=self.e_bic, color="#d62728", line_dash="dotted", legend_label="bicubic")
        self.evo.line("x", "y", source=self.e_ibp, color=IBP_COLOR, line_dash="dotdash", legend_label="IBP")
        self.transect = figure(title="Transect: tap two points on a map", x_axis_label="distance along the line",
                               y_axis_label="SSH (cm)", width=2 * width, height=height, x_range=Range1d(0, 1),
                               y_range=Range1d(0, 1), tools="pan,wheel_zoom,box_zoom,reset,save,hover")
        self.t_src = ColumnDataSource(data=dict(d=[], truth=[], bicubic=[], ibp=[], est=[], lo=[], hi=[]))
        self.transect.varea("d", "lo", "hi", source=self.t_src, fill_alpha=0.25, color="#1f77b4",
                            legend_label="estimate ± 2σ")
        self.transect.line("d", "truth", source=self.t_src, color="black", line_width=2, legend_label="truth")
        self.transect.line("d", "bicubic", source=self.t_src, color="#d62728", line_dash="dotted",
                           legend_label="bicubic")
        self.transect.line("d", "ibp", source=self.t_src, color=IBP_COLOR, line_dash="dotdash", legend_label="IBP")
        self.transect.line("d", "est", source=self.t_src, color="#1f77b4", line_width=2, legend_label="estimate")
        for f in (self.members, self.evo, self.transect):
            readable(f)
            _legend_above(f)

    def follow(self, feed, schedule=None) -> PixelPlots:
        """Show the feed's current pixel and transect data and every later update; ``schedule(key, fn)`` applies
        a change safely in a served page (``LiveMaps.schedule``; default: at once)."""
        schedule = schedule or (lambda key, fn: fn())
        feed.subscribe("pixel", lambda data: schedule("pixel", lambda: self.show_pixel(data or {})))
        feed.subscribe("transect", lambda data: schedule("transect", lambda: self.show_transect(data or {})))
        self.show_pixel(feed["pixel"] or {})
        self.show_transect(feed["transect"] or {})
        return self

    def show_pixel(self, info: dict) -> None:
        if not info:
            return
        if info.get("land"):  # no data here: say so, and leave no NaN lines behind
            for src in (self.m_pts, self.m_truth, self.m_bic, self.m_ibp, self.e_truth, self.e_bic, self.e_ibp):
                src.data = dict(x=[], y=[])
            for src in (self.m_mean, self.e_src):
                src.data = dict(x=[], y=[], lo=[], hi=[])
            self.members.title.text = f"land (no data) at {info.get('place', info['where'])}: tap the ocean"
            self.evo.title.text = "Estimate at this pixel over the iterations: land (no data)"
            return
        truth, bic, ibp = info["truth"] * CM, info["bicubic"] * CM, info.get("ibp", np.nan) * CM
        mem = np.asarray(info.get("members", []), dtype=float) * CM
        k = np.arange(1, mem.size + 1, dtype=float)
        span = [0.5, max(mem.size, 1) + 0.5]
        mean, std = info.get("mean", np.nan) * CM, info.get("std", np.nan) * CM
        self.m_pts.data = dict(x=k, y=mem)
        self.m_mean.data = (dict(x=span, y=[mean, mean], lo=[mean - std] * 2, hi=[mean + std] * 2)
                            if np.isfinite(mean) else dict(x=[], y=[], lo=[], hi=[]))
        self.m_truth.data = dict(x=span, y=[truth, truth])
        self.m_bic.data = dict(x=span, y=[bic, bic])
        self.m_ibp.data = dict(x=span, y=[ibp, ibp])
        if self.members.x_range.end != span[1]:
            self.members.x_range.update(start=span[0], end=span[1])
        _fit_range(self.members.y_range, [mem, [truth, bic, ibp], [mean - std, mean + std]])
        title = f"{info['where']}: truth {truth:.1f}, bicubic {bic:.1f}, IBP {ibp:.1f}"
        if np.isfinite(mean):
            title += f", DIP {mean:.1f} ± {std:.1f}"
        self.members.title.text = title + " cm"
        hs = np.asarray(info.get("hist_steps", []), dtype=float)
        hm = np.asarray(info.get("hist_mean", []), dtype=float) * CM
        hd = np.asarray(info.get("hist_std", []), dtype=float) * CM
        self.e_src.data = dict(x=hs, y=hm, lo=hm - hd, hi=hm + hd)
        end = [float(hs.min()), float(hs.max())] if hs.size else [0.0, 1.0]
        self.e_truth.data = dict(x=end, y=[truth, truth])
        self.e_bic.data = dict(x=end, y=[bic, bic])
        self.e_ibp.data = dict(x=end, y=[ibp, ibp])
        x1 = max(end[1], end[0] + 1.0)
        if (self.evo.x_range.start, self.evo.x_range.end) != (end[0], x1):
            self.evo.x_range.update(start=end[0], end=x1)
        _fit_range(self.evo.y_range, [hm - hd, hm + hd, [truth, bic, ibp]])
        note = "" if info.get("hist_exact", True) else " (earlier steps: a nearby stored cell)"
        self.evo.title.text = (f"Estimate here over the iterations (± std): now {mean:.1f} cm{note}"
                               if hs.size and np.isfinite(mean) else "Estimate at this pixel over the iterations "
                                                                     "(± std): press Run")

    def show_transect(self, info: dict) -> None:
        if not info:
            return
        d = np.asarray(info["distance"], dtype=float)
        g = lambda n: np.asarray(info.get(n, np.full(d.shape, np.nan)), dtype=float) * CM  # noqa: E731
        est, std = g("estimate"), np.nan_to_num(g("std"))
        self.t_src.data = dict(d=d, truth=g("truth"), bicubic=g("bicubic"), ibp=g("ibp"), est=est,
                               lo=est - 2 * std, hi=est + 2 * std)
        if d.size:
            self.transect.x_range.update(start=float(d.min()), end=float(max(d.max(), d.min() + 1.0)))
        _fit_range(self.transect.y_range, [g("truth"), g("bicubic"), g("ibp"), est - 2 * std, est + 2 * std])
        band = f" · band: ±2 × {info['band']}" if info.get("band") else ""
        self.transect.title.text = info.get("title", "Transect") + band
        unit = f" ({info['xunit']})" if info.get("xunit") else ""
        self.transect.xaxis.axis_label = info.get("xlabel", "distance") + unit
