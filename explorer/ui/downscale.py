"""The explorer's "Downscale my field (no truth)" tab: a sample or an uploaded coarse map is the observation; the
tab streams the estimate and the members' spread while ``dipcore.downscale.downscale`` runs, draws the data
misfit against iteration, and offers the fine NetCDF once done.

What it is made of: :class:`explorer.downscale.state.DownscaleState` (``param``, no Bokeh) holds the field and what
is shown of the run, :class:`explorer.downscale.session.DownscaleSession` runs it; this module only draws the state.
The maps and the curve are the explorer's own Bokeh builders (:class:`explorer.ui.live.LiveMap`, and
:class:`MisfitCurve` after :class:`explorer.ui.live.LiveCurve`); every change to them is made on the session's next
tick (:class:`explorer.ui.ticks.NextTick`, all pending changes in one message under ``pn.io.hold``), never from the
worker thread, whichever thread changed the state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from dipcore.style import CM
from explorer.data.geometry import Geometry
from explorer.data.loading import ACCEPT
from explorer.downscale.session import DownscaleSession
from explorer.downscale.state import FACTORS, DownscaleState
from explorer.ui.live import REFS, TITLE_SIZE, LiveMap
from explorer.ui.ticks import NextTick
from explorer.ui.views import AMP, BALANCE

EXPLAIN = ("No truth here: the page shows the estimate, the members' spread and how well the estimate reproduces "
           "your coarse map (the misfit), not an error.")
HOW = ("The coarse map you load is taken as the block mean of a field ×factor finer; a deep image prior (K "
       "networks fitted to this one map, no training data) estimates that field. Misfit = RMS of the estimate's "
       "block means minus your map.")


def _apply_order(keys) -> list[str]:
    """A new field first (its ranges), then its data, then the text."""
    return [k for k in ("field", "frame", "text") if k in keys]


FLOOR_CM = 1e-6  # the log axis's floor: a back-projected answer's misfit can be exactly 0
FRAME_W, FRAME_H = 380, 300  # the largest map frame (px): two maps side by side fit the app's main area
MIN_FRAME = 120
MAP_PAD = (165, 80)  # px around a map's frame: axis and colour bar and toolbar (x); title and axis (y)


def frame_size(field) -> tuple[int, int]:
    """A map frame (width, height) in px with the field's true shape on the ground (its km spacing; cells
    when unknown), as large as FRAME_W × FRAME_H allows: the Mediterranean is 2.5 times wider than tall, and a
    fixed frame would squash it."""
    ny, nx = field.shape
    dy, dx = field.spacing_km or (1.0, 1.0)
    aspect = (nx * dx) / max(ny * dy, 1e-9)
    if aspect >= FRAME_W / FRAME_H:
        return FRAME_W, max(MIN_FRAME, round(FRAME_W / aspect))
    return max(MIN_FRAME, round(FRAME_H * aspect)), FRAME_H


def fine_geometry(geom: Geometry, factor: int) -> Geometry:
    """The display geometry of the fine grid: each coarse cell split into ``factor × factor`` cells (the same
    outer bounds, the same axis directions)."""
    def refine(c: np.ndarray, cell: float) -> np.ndarray:
        step = float(c[1] - c[0]) if c.size > 1 else cell  # signed: a north-to-south axis stays so
        offs = (np.arange(factor) + 0.5) / factor * step - step / 2
        return (c[:, None] + offs[None, :]).ravel()

    dx, dy = geom.cell
    return Geometry(refine(geom.xs, dx), refine(geom.ys, dy), geom.xlabel, geom.ylabel,
                    geom.dx_km / factor if geom.dx_km else None, (dx / factor, dy / factor))


class MisfitCurve:
    """The data misfit (cm) against iteration on a log axis: it falls by orders of magnitude (and a back-projected
    final answer drops to ~0), which a linear axis flattens into a cliff. The bicubic and IBP estimates' misfits
    are horizontal reference lines once a run is done."""

    def __init__(self, width: int = 700, height: int = 240):
        self.fig = figure(title="Data misfit vs iteration: RMS of the estimate's block means − your map",
                          width=width, height=height, y_axis_type="log", x_range=Range1d(0, 1),
                          tools="pan,wheel_zoom,box_zoom,reset,save", x_axis_label="iteration",
                          y_axis_label="misfit RMS (cm)")
        self.fig.title.text_font_size = TITLE_SIZE
        self.dip = ColumnDataSource(data=dict(x=[], y=[]))
        self.refs = {k: ColumnDataSource(data=dict(x=[], y=[])) for k in REFS}
        line = self.fig.line("x", "y", source=self.dip, color="#1f77b4", line_width=2, legend_label="DIP estimate")
        for k, (label, color, dash) in REFS.items():
            self.fig.line("x", "y", source=self.refs[k], color=color, line_dash=dash, line_width=2,
                          legend_label=label)
        tips = [("iteration", "@x{0}"), ("misfit", "@y{0.[00000]} cm")]
        self.fig.add_tools(HoverTool(renderers=[line], tooltips=tips, mode="vline"))
        # outside the plot, so it never covers the curve; at the side, not above: Bokeh lines up the frames of the
        # plots in a row, and a legend above would push the std map beside it down
        self.fig.add_layout(self.fig.legend[0], "right")
        self.items = dict(zip(["dip", *REFS], self.fig.legend[0].items, strict=True))

    def show(self, steps: np.ndarray, values_cm: np.ndarray, refs_cm: dict[str, float]) -> None:
        steps = np.asarray(steps, dtype=float)
        self.dip.data = dict(x=steps, y=np.maximum(np.asarray(values_cm, dtype=float), FLOOR_CM))
        self.fig.x_range.update(start=0, end=max(float(steps.max()) if steps.size else 1.0, 1.0))
        for k, src in self.refs.items():  # the lines span far beyond the explicit x range
            v = refs_cm.get(k)
            shown = v is not None and bool(np.isfinite(v))
            src.data = dict(x=[-1e9, 1e9], y=[max(v, FLOOR_CM)] * 2) if shown else dict(x=[], y=[])
            self.items[k].visible = shown  # no legend entry for a line not drawn yet


class DownscaleTab(pn.viewable.Viewer):
    """The "Downscale my field (no truth)" tab.

    ``explorer/ui/layout.py`` (``ExplorerView``) shows it as one of its tabs, with the server's queue and limits
    (``DownscaleTab()`` alone works too: no queue, no limits). Each browser session must get its own instance (it
    holds that session's run).

    Parameters
    ----------
    fit : callable, optional
        The downscale function (default :func:`dipcore.downscale.downscale`; tests inject a stand-in).
    queue : explorer.run.fitqueue.FitQueue, optional
        The server's fit queue, shared with the other tabs' fits.
    limits : explorer.data.server_limits.Limits, optional
        The server's limits.
    load : bool
        Load the default sample at construction.
    data_dir : explorer.data.server_files.DataDir, optional
        The server's folder of NetCDF files (``--data-dir``), listed in an "or a server file" box.
    """

    def __init__(self, fit: Callable | None = None, queue=None, limits=None, load: bool = True, data_dir=None,
                 **params):
        super().__init__(**params)
        self.state = s = DownscaleState(load=load, data_dir=data_dir)
        self.session = DownscaleSession(s, fit=fit, queue=queue, limits=limits)
        self._ticks: NextTick | None = None
        self._panel = None
        self.geom: Geometry | None = None
        self.fine: Geometry | None = None

        # ---- widgets (their callbacks only call the state: quick) ----
        self.sample_select = pn.widgets.Select.from_param(s.param.sample, name="Sample", width=150)
        self.use_sample = pn.widgets.Button(label="Use sample", width=95, align="end")
        self.use_sample.on_click(lambda _e: s.load_sample(s.sample))
        self.file_input = pn.widgets.FileInput(accept=ACCEPT, width=220, align="end")
        self.file_input.param.watch(lambda e: e.new is not None and s.upload(e.new, self.file_input.filename),
                                    "value")
        # only on a server started with --data-dir: its files by name (the page never sends a path)
        self.file_select = pn.widgets.Select.from_param(s.param.server_file, name="or a server file", width=170,
                                                        visible=len(s.param.server_file.objects) > 1,
                                                        css_classes=["w-ds-file"])
        # shown only for a variable with several time steps (a file of daily maps: pick the day)
        self.time_input = pn.widgets.IntInput.from_param(s.param.time_index, name="Time step", width=90,
                                                         visible=s.time_steps > 1, css_classes=["w-ds-time"])
        self.factor_select = pn.widgets.Select.from_param(s.param.factor, name="Factor ×", options=list(FACTORS),
                                                          width=80)
        self.members_input = pn.widgets.IntInput.from_param(s.param.members, name="Members K", width=90,
                                                           css_classes=["w-ds-members"])
        self.iters_input = pn.widgets.IntInput.from_param(s.param.iters, name="Iterations (0 = recipe's)",
                                                          width=160, step=50, css_classes=["w-ds-iters"])
        self.run_button = pn.widgets.Button(label="Downscale", color="primary", width=100, align="end")
        self.stop_button = pn.widgets.Button(label="Stop", color="warning", width=70, align="end",
                                             disabled=True)
        self.run_button.on_click(lambda _e: (self.attach(), self.session.run()))  # attach: in case __panel__
        self.stop_button.on_click(lambda _e: self.session.stop())                 # ran outside the session
        self.download = pn.widgets.FileDownload(callback=self.netcdf_file, filename=s.filename, label="Download NetCDF",
                                                color="success", disabled=True, width=170, align="center",
                                                embed=False)
        self.status_pane = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10))
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.note = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, width=300, bar_color="info", align="center")

        # ---- figures: the three maps share pan/zoom (the same place on the Earth) ----
        self.x_range, self.y_range = Range1d(0, 1), Range1d(0, 1)
        mk = lambda t, pal, lab: LiveMap(t, pal, lab, self.x_range, self.y_range)
        self.maps = {"obs": mk("Your coarse map (the observation)", BALANCE, "SSH"),
                     "estimate": mk("Estimate (ensemble mean): press Downscale", BALANCE, "SSH"),
                     "std": mk("Ensemble std across members", AMP, "std")}
        self.curve = MisfitCurve()

        s.param.watch(lambda e: self._schedule("field", self._field_changed), ["field"])
        s.param.watch(lambda e: self._schedule("frame", self._frame_changed), ["frame"])
        s.param.watch(lambda e: self._schedule("text", self._text_changed),
                      ["status", "error", "notes", "running", "result"])
        self._field_changed()
        self._frame_changed()
        self._text_changed()

    # ---- scheduling: Bokeh changes on the session's loop, one message per tick ----------------------------
    def _schedule(self, key: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` now without a session (scripts, tests); in one, on the document's next tick (latest wins per
        key), whichever thread asked: the worker never changes a model, and a change made while the session's
        loop is busy is not lost."""
        if self._ticks is None:
            fn()
            return
        self._ticks.add(key, fn)

    def attach(self) -> None:
        """Inside a served session: its run is flushed every ``POLL_MS`` and ends with the browser session, and the
        views change on the session's next tick (no-op elsewhere)."""
        self.session.attach()
        doc = self.session.doc
        if self._ticks is None and doc is not None:
            self._ticks = NextTick(doc, lambda: pn.io.hold(doc), _apply_order, "downscale tab")

    def close(self) -> None:
        """What the end of the browser session does: stop the run and the periodic flush."""
        self.session.close()

    # ---- views ------------------------------------------------------------------------------------------
    def _field_changed(self) -> None:
        f = self.state.field
        if f is None:
            return
        self.geom = Geometry.of(f)
        self.time_input.visible = self.state.time_steps > 1
        fw, fh = frame_size(f)
        # outer sizes (a frame size would leave Panel's row a wrong height: the axes got clipped): the frame plus
        # the axes, title, colour bar and toolbar around it
        for m in self.maps.values():
            m.fig.width, m.fig.height = fw + MAP_PAD[0], fh + MAP_PAD[1]
        self.curve.fig.width, self.curve.fig.height = fw + MAP_PAD[0] + 40, fh + MAP_PAD[1]
        left, bottom, right, top = self.geom.bounds
        self.x_range.update(start=left, end=right)
        self.y_range.update(start=bottom, end=top)
        obs = np.asarray(f.values, np.float32)
        lo, hi = (np.nanpercentile(obs, [0.5, 99.5]) * CM) if np.isfinite(obs).any() else (-1.0, 1.0)
        for k, m in self.maps.items():
            m.axes(self.geom)
            if k != "std":  # the same colours for the map and its estimate: comparable at a glance
                m.clim(float(lo), float(hi) if hi > lo else float(lo) + 1e-3)
        self.maps["obs"].show(obs, self.geom)
        h, w = f.shape
        self.maps["obs"].fig.title.text = f"Your coarse map (the observation, {h}×{w})"

    def _frame_changed(self) -> None:
        s = self.state
        if self.geom is None:
            return
        snap = s.snapshot
        factor = int(s.result.attrs.get("factor", s.factor)) if s.result is not None else int(s.factor)
        self.fine = fine_geometry(self.geom, factor)
        shape = (len(self.fine.ys), len(self.fine.xs))
        est = snap.estimate if snap is not None and snap.estimate.shape == shape else None
        std = snap.std if snap is not None and snap.std is not None and snap.std.shape == shape else None
        self.maps["estimate"].show(est, self.fine)
        self.maps["std"].show(std, self.fine)
        # the spread has its own scale from 0 (often far below the SSH range); 99th percentile: one hot cell on a
        # front must not wash the rest out
        hi = float(np.nanpercentile(std, 99)) * CM if std is not None and np.isfinite(std).any() else 1.0
        self.maps["std"].clim(0.0, max(hi, 1e-3))
        h, w = shape
        if est is None:
            title = "Estimate (ensemble mean): press Downscale"
        else:
            title = f"Estimate ×{factor} ({h}×{w}), step {snap.step}/{snap.iters}"
        self.maps["estimate"].fig.title.text = title
        self.maps["std"].fig.title.text = ("Ensemble std across members" if std is not None or est is None
                                           else "Ensemble std: needs K > 1 members")
        steps, values = s.misfit
        refs = {k: v * CM for k, v in s.reference_misfits().items()}
        self.curve.show(steps, np.asarray(values) * CM, refs)
        self.progress.value = int(round(100 * snap.step / max(snap.iters, 1))) if snap is not None else 0

    def _text_changed(self) -> None:
        s = self.state
        self.status_pane.object = f"**{s.source}**  \n{s.status}" if s.source else s.status
        self.alert.object, self.alert.visible = s.error, bool(s.error)
        note = "; ".join(s.notes)
        self.note.object, self.note.visible = (f"Note: {note}" if note else ""), bool(note)
        self.run_button.disabled = s.running or s.field is None
        self.stop_button.disabled = not s.running
        self.download.disabled = s.result is None
        self.download.filename = s.filename
        self.progress.bar_color = "success" if s.result is not None and not s.running else "info"

    def netcdf_file(self):
        """The download's content (FileDownload calls this when clicked)."""
        import io

        return io.BytesIO(self.state.netcdf_bytes())

    def _projection_hint(self) -> str:
        from dipcore.solver import get_recipe

        try:
            project = get_recipe(self.state.recipe).project
        except Exception:  # an unknown recipe is reported when Run is pressed
            return ""
        return (" The recipe makes its final answer consistent with your map (back-projection): hence the "
                "misfit's drop at the last step." if project else "")

    def __panel__(self):
        if self._panel is None:
            self.attach()
            controls = pn.Row(self.sample_select, self.use_sample,
                              pn.Column(pn.pane.Markdown("or upload NetCDF", margin=(0, 5)), self.file_input,
                                        margin=0),
                              self.file_select, self.time_input, self.factor_select, self.members_input,
                              self.iters_input, self.run_button, self.stop_button, sizing_mode="stretch_width")
            self._panel = pn.Column(
                pn.pane.Markdown(f"### Downscale my field (no truth)\n**{EXPLAIN}** {HOW}",
                                 sizing_mode="stretch_width", margin=(0, 10)),
                controls, self.alert, self.note,
                pn.Row(self.progress, self.status_pane, self.download, sizing_mode="stretch_width"),
                # two by two: each map (and the curve) gets half the main area's width at its true shape
                pn.Row(self.maps["obs"].fig, self.maps["estimate"].fig),
                pn.Row(self.maps["std"].fig, self.curve.fig),
                pn.pane.Markdown(
                    "The NetCDF file (CF-1.11, fine grid) holds the estimate, its std, the bicubic and IBP "
                    "estimates and your map." + self._projection_hint() + " A file of several maps: the Time step "
                    "box picks the one downscaled (counted from 0; the first at loading).",
                    sizing_mode="stretch_width", styles={"color": "#444"}, margin=(0, 10)),
                sizing_mode="stretch_width")
        return self._panel


__all__ = ["EXPLAIN", "DownscaleTab", "fine_geometry"]
