"""The explorer's "Downscale my field (no truth)" tab: a sample or an uploaded coarse map is the observation; the
tab streams the estimate and the members' spread while ``dipcore.downscale.downscale`` runs, then shows the fit's
calibrated uncertainty and its truth-free expected RMSE, draws the data misfit against iteration, and offers the fine
NetCDF once done.

The tab has two parts, placed by :class:`explorer.ui.layout.ExplorerView`: its own sidebar (:attr:`DownscaleTab.
sidebar`: the data, the factor, the members, the iteration cap with what the recipe does and how long it will take,
Downscale and Stop, the download, labelled with the file it holds) and its main area (:attr:`DownscaleTab.main`:
status, maps and curve; with a guide map (SST) chosen, the guide on the fine grid and the gate's line under it
beside the uncertainty, the misfit curve under them). Served alone (``DownscaleTab().__panel__()``) they stand side
by side.

What it is made of: :class:`explorer.downscale.state.DownscaleState` (``param``, no Bokeh) holds the field and what
is shown of the run, :class:`explorer.downscale.session.DownscaleSession` runs it; this module only draws the state.
The maps and the curve are the explorer's own Bokeh builders (:class:`explorer.ui.figures.LiveMap`, and
:class:`explorer.ui.figures.MisfitCurve`); every change to them is made on the session's next tick
(:class:`explorer.ui.ticks.NextTick`, all pending changes in one message under ``pn.io.hold``), never from the
worker thread, whichever thread changed the state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import panel as pn
from bokeh.models import Range1d

from dipcore.style import CM
from explorer.data.geometry import Geometry
from explorer.downscale.session import DownscaleSession
from explorer.downscale.state import DownscaleState
from explorer.ui.downscale_controls import controls_column, download_label
from explorer.ui.figures import MAP_PAD, LiveMap, MisfitCurve, frame_size, guide_clim, guide_palette, guide_title
from explorer.ui.ticks import NextTick
from explorer.ui.views import AMP, BALANCE

EXPLAIN = ("No truth here: your coarse map is the observation. The page shows the estimate, how far off it may be "
           "(its uncertainty, from your map alone) and how well it reproduces your map (the misfit), not an error.")
FRAME_W, FRAME_H = 380, 250  # the largest map frame (px): two maps side by side fit the main area of 1440 px
TEXT = {"font-size": "15px"}
SIGMA_TITLE = {"before": "Uncertainty σ: when the run ends",
               "spread": "Members' spread (not the uncertainty: σ comes at the end)",
               "none": "Uncertainty σ: the run was stopped before its end"}


def _apply_order(keys) -> list[str]:
    """A new field first (its ranges), then its data, then the text."""
    return [k for k in ("field", "frame", "text") if k in keys]


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


class DownscaleTab(pn.viewable.Viewer):
    """The "Downscale my field (no truth)" tab (see the module docstring). Each browser session must get its own
    instance (it holds that session's run).

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
        self.geom: Geometry | None = None
        self.fine: Geometry | None = None
        self.sidebar = controls_column(self)  # its widgets become this tab's attributes (run_button, …)
        self.status_pane = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10), styles=TEXT,
                                            css_classes=["ds-status"])
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                   css_classes=["ds-error"])
        self.note = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, width=160, bar_color="info", align="center")
        self.misfit_pane = pn.pane.Markdown("", sizing_mode="stretch_width", margin=(0, 10), styles=TEXT,
                                            css_classes=["ds-misfit-note"])
        # ---- figures: the three maps share pan/zoom (the same place on the Earth) ----
        self.x_range, self.y_range = Range1d(0, 1), Range1d(0, 1)
        mk = lambda t, pal, lab: LiveMap(t, pal, lab, self.x_range, self.y_range)  # noqa: E731
        self.maps = {"obs": mk("Your coarse map (the observation)", BALANCE, "SSH"),
                     "estimate": mk("Estimate (ensemble mean): press Downscale", BALANCE, "SSH"),
                     "std": mk(SIGMA_TITLE["before"], AMP, "σ")}
        self.curve = MisfitCurve()
        self.guide_map = LiveMap("Guide (SST): shown when the run starts", guide_palette(), "SST", self.x_range,
                                 self.y_range, unit="°C")
        self.guide_map.source.name = "ds-guide"  # by name: the browser tests find it
        # what is chosen, then whether the gate used the guide and why (the choice's status)
        self.guide_status = pn.pane.Markdown(s.guide.status, css_classes=["ds-guide-status"], width=FRAME_W,
                                             margin=(0, 10), styles={"font-size": "14px", "color": "#333"})
        s.guide.param.watch(lambda e: setattr(self.guide_status, "object", e.new), "status")
        s.param.watch(lambda e: self._schedule("field", self._field_changed), ["field"])
        s.param.watch(lambda e: self._schedule("frame", self._frame_changed), ["frame", "guide_map"])
        s.param.watch(lambda e: self._schedule("text", self._text_changed),
                      ["status", "error", "notes", "running", "result", "plan", "misfit_note", "source",
                       "time_steps", "variable"])
        self._field_changed()
        self._frame_changed()
        self._text_changed()
        self.main = self._main()
        self._panel: pn.Row | None = None

    # ---- actions (the sidebar's buttons and the page's keyboard) ------------------------------------------
    def run(self, *_) -> bool:
        """Start downscaling (returns at once); attached first, in case the page was built outside the session."""
        self.attach()
        return self.session.run()

    def stop(self, *_) -> None:
        self.session.stop()

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
        fw, fh = frame_size(f.shape, f.spacing_km, FRAME_W, FRAME_H)
        for m in (*self.maps.values(), self.guide_map):
            m.frame(fw, fh)
        self.curve.fig.width, self.curve.fig.height = fw + MAP_PAD[0], fh + MAP_PAD[1]
        left, bottom, right, top = self.geom.bounds
        self.x_range.update(start=left, end=right)
        self.y_range.update(start=bottom, end=top)
        obs = np.asarray(f.values, np.float32)
        lo, hi = (np.nanpercentile(obs, [0.5, 99.5]) * CM) if np.isfinite(obs).any() else (-1.0, 1.0)
        self.guide_map.axes(self.geom)
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
        fits = lambda a: a is not None and a.shape == shape  # noqa: E731  (a snapshot of this field)
        est = snap.estimate if snap is not None and fits(snap.estimate) else None
        self.maps["estimate"].show(est, self.fine)
        self._sigma(snap, fits)
        self._guide(fits)
        h, w = shape
        self.maps["estimate"].fig.title.text = ("Estimate (ensemble mean): press Downscale" if est is None else
                                                f"Estimate ×{factor} ({h}×{w}), step {snap.step}/{snap.iters}")
        steps, values = s.misfit
        refs = {k: v * CM for k, v in s.reference_misfits().items()}
        final = self.session.job.final_misfit() if self.session.job is not None and s.result is not None else None
        self.curve.show(steps, np.asarray(values) * CM, refs, None if final is None else (final[0], final[1] * CM))
        self.progress.value = int(round(100 * snap.step / max(snap.iters, 1))) if snap is not None else 0
        if snap is not None and snap.done:
            self.progress.value = 100  # a fit that settled before its cap is done all the same

    def _guide(self, fits) -> None:
        """The run's guide on the fine grid (°C; its own scale), empty before a run reports it."""
        s = self.state
        values = s.guide_map if fits(s.guide_map) else None
        self.guide_map.show(None if values is None else values / CM, self.fine)  # LiveMap shows metres in cm
        self.guide_map.clim(*guide_clim(values))
        report = s.guide.report
        self.guide_map.fig.title.text = (guide_title(report.guide) if values is not None and report is not None
                                         else "Guide (SST): shown when the run starts")

    def _sigma(self, snap, fits) -> None:
        """The σ map: the fit's calibrated uncertainty once it has ended, the members' spread while it runs (its
        own title), each on a scale from 0 to its 99th percentile."""
        unc = snap.uncertainty if snap is not None and fits(snap.uncertainty) else None
        spread = snap.std if snap is not None and fits(snap.std) else None
        shown = unc if unc is not None else spread
        self.maps["std"].show(shown, self.fine)
        hi = float(np.nanpercentile(shown, 99)) * CM if shown is not None and np.isfinite(shown).any() else 1.0
        self.maps["std"].clim(0.0, max(hi, 1e-3))
        if unc is not None:
            e = snap.expected_rmse
            title = f"Uncertainty σ (expected RMSE ≈ {e * CM:.2f} cm)" if e is not None else "Uncertainty σ"
        elif spread is not None:
            title = SIGMA_TITLE["spread"] if self.state.running else SIGMA_TITLE["none"]  # ended without σ: stopped
        else:
            title = SIGMA_TITLE["before"] if snap is None else "Members' spread: needs K > 1 members"
        self.maps["std"].fig.title.text = title

    def _text_changed(self) -> None:
        s = self.state
        self.status_pane.object = s.status
        self.alert.object, self.alert.visible = s.error, bool(s.error)
        note = "; ".join(s.notes)
        self.note.object, self.note.visible = (f"Note: {note}" if note else ""), bool(note)
        self.run_button.disabled = s.running or s.field is None
        self.stop_button.disabled = not s.running
        self.download.disabled = s.result is None
        self.download.filename = s.filename
        self.download.label = download_label(s)
        self.source_pane.object = f"**{s.source}**" if s.source else ""
        self.plan_pane.object = s.plan
        self.misfit_pane.object = s.misfit_note
        self.time_input.visible = s.time_steps > 1
        self.variable_select.visible = len(s.param.variable.objects) > 1
        self.progress.bar_color = "success" if s.result is not None and not s.running else "info"

    def netcdf_file(self):
        """The download's content (FileDownload calls this when clicked); None and a message on the page when there
        is none (a click just as a new run cleared the result)."""
        import io

        try:
            return io.BytesIO(self.state.netcdf_bytes())
        except Exception as exc:  # a download must never fail silently in the browser
            self.state.error = f"Could not build the download: {exc}"
            return None

    def _arrange(self, event=None) -> None:
        """Under the coarse map and the estimate: the uncertainty and the misfit curve; with a guide chosen, the
        guide map (its gate line under it) and the uncertainty, the curve under them."""
        cells = [self.guide_cell, self.std_cell] if self.state.guide.active else [self.std_cell, self.curve_cell]
        rows = [pn.Row(*cells)] + ([pn.Row(self.curve_cell)] if self.state.guide.active else [])
        if [list(r.objects) for r in self.lower.objects] != [list(r.objects) for r in rows]:
            self.lower.objects = rows

    def _main(self) -> pn.Column:
        self.guide_cell = pn.Column(self.guide_map.fig, self.guide_status, css_classes=["ds-guide"], margin=0)
        self.std_cell = pn.Column(self.maps["std"].fig, css_classes=["ds-uncertainty"], margin=0)
        self.curve_cell = pn.Column(self.curve.fig, css_classes=["ds-curve"], margin=0)
        self.lower = pn.Column(margin=0)
        self._arrange()
        self.state.guide.param.watch(self._arrange, "choice")
        return pn.Column(
            pn.pane.Markdown(f"### Downscale my field (no truth)\n{EXPLAIN}", sizing_mode="stretch_width",
                             margin=(0, 10), styles=TEXT),
            self.alert, self.note,
            pn.Row(self.progress, self.status_pane, sizing_mode="stretch_width"),
            # two by two: each map (and the curve) gets half the main area's width at its true shape
            pn.Row(self.maps["obs"].fig, self.maps["estimate"].fig),
            self.lower,
            self.misfit_pane,
            pn.pane.Markdown("The NetCDF file (CF-1.11, fine grid) holds the estimate, its uncertainty, the members' "
                             "spread, the bicubic and IBP estimates and your map.", sizing_mode="stretch_width",
                             styles={"color": "#444", "font-size": "14px"}, margin=(0, 10)),
            sizing_mode="stretch_width", margin=0)

    def __panel__(self):
        """The tab served alone: its sidebar beside its main area."""
        self.attach()
        if self._panel is None:
            self._panel = pn.Row(self.sidebar, self.main, sizing_mode="stretch_width")
        return self._panel


__all__ = ["EXPLAIN", "SIGMA_TITLE", "DownscaleTab", "fine_geometry"]
