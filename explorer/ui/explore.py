"""The Explore tab: the twin experiment's live page, laid out so that a 1440×900 screen holds it all after a run.

Above the maps, in boxes of fixed height (nothing moves when a run ends): the progress bar and line (16 px) with the
baseline map's switch, and the verdict (the twin's error, when there is one, shows above the tabs: :class:`explorer.ui.layout.ExplorerView`). Then a 3 × 3 grid, each map with its caption (15 px) under it:

    truth                 observation            baseline (bicubic / IBP switch)
    DIP estimate          error (DIP − truth)    what the network changed (DIP − IBP)
    uncertainty σ         RMSE curve             SSIM curve

and under the first screen "what just happened" and, from the first tap, the pixel view and the transect. With a
guide map (SST) chosen in the sidebar, the guide map (:class:`GuideMap`, the gate's line under it) takes the place of
"what the network changed", beside the estimate and its error (:func:`follow_guide`).
The panes read the app's state and the feed (:class:`explorer.ui.live.LiveMaps`); the switch is bound to the state's
``baseline_map`` parameter, the only one this tab writes.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from dipcore.style import CM
from explorer.ui.figures import LiveMap, frame_size, guide_clim, guide_palette, guide_title
from explorer.ui.guide import CAPTION_CSS, CAPTION_STYLE
from explorer.ui.live import CELL_WIDTH, FRAME_MAX

PROGRESS_CSS = "pre { white-space: pre-wrap; margin: 0; font-size: 16px; font-family: inherit; line-height: 1.3; }"
PROGRESS_HEIGHT = 44  # px: two lines of the progress line, always (a run's end must not move the maps)
# map key → the CSS class its cell carries (the browser tests find the maps by it)
CELLS = {"truth": "truth", "obs": "observation", "bicubic": "bicubic", "estimate": "estimate", "error": "error",
         "change": "change", "std": "uncertainty"}


def progress_row(app) -> pn.Row:
    """The progress bar and the progress line, kept in step with ``app`` (its ``progress_text``, ``step``), and the
    baseline map's switch."""
    bar = pn.widgets.Progress(value=0, max=max(1, app.iters), bar_color="primary", width=160, align="center")
    # a long line (step, speed, scores, how the run ended) wraps instead of widening the page
    text = pn.pane.Str(app.progress_text, css_classes=["ssh-progress"], sizing_mode="stretch_width",
                       height=PROGRESS_HEIGHT, stylesheets=[PROGRESS_CSS], margin=(2, 10))

    def progress_changed(event=None):
        text.object = app.progress_text
        p = app.last
        bar.max = max(1, p.iters if p is not None else app.iters)
        # a run that settled at step 330 of a 1500 cap is done: a bar at 22 % would say otherwise
        bar.value = bar.max if p is not None and p.done else min(app.step, bar.max)

    app.param.watch(progress_changed, ["progress_text", "step"])
    switch = pn.Column(pn.pane.Markdown("Baseline map:", margin=(0, 10), styles={"font-size": "13px"}),
                       baseline_switch(app), margin=0, width=210)
    return pn.Row(bar, text, switch, sizing_mode="stretch_width")


def map_cell(key: str, fig, caption: pn.viewable.Viewable) -> pn.Column:
    """A map of the grid with its caption under it."""
    return pn.Column(pn.pane.Bokeh(fig), caption, css_classes=[f"map-{CELLS[key]}"], margin=0, width=CELL_WIDTH)


def baseline_switch(app) -> pn.widgets.RadioButtonGroup:
    """Bicubic or IBP on the baseline map (the state's ``baseline_map``)."""
    return pn.widgets.RadioButtonGroup.from_param(app.param.baseline_map, name="", color="default",
                                                  css_classes=["w-baseline"], margin=(0, 10), width=190)


def explore_tab(app, live, guide, verdict, on_first_tap: Callable[[pn.Column], None], sst=None) -> pn.Column:
    """The Explore tab of ``app`` (see the module docstring): ``live`` its :class:`explorer.ui.live.LiveMaps`,
    ``guide`` its :class:`explorer.ui.guide.GuideView`, ``verdict`` the twin's verdict pane;
    ``on_first_tap(tab)`` adds the pixel view to the tab; ``sst`` the guide map's
    :class:`GuideMap` (None: no guide map)."""
    cells = [map_cell(k, live.maps[k].fig, guide.caption(k))
             for k in ("truth", "obs", "bicubic", "estimate", "error", "change", "std")]
    cells += [pn.Column(pn.pane.Bokeh(live.rmse.fig), css_classes=["curve-rmse"], margin=0, width=CELL_WIDTH),
              pn.Column(pn.pane.Bokeh(live.ssim.fig), css_classes=["curve-ssim"], margin=0, width=CELL_WIDTH)]
    grid = pn.GridBox(*cells, ncols=3, margin=0)
    if sst is not None:
        follow_guide(app.guide, grid, cells, sst.cell)
    tab = pn.Column(progress_row(app), verdict, grid, guide.summary,
                    pn.pane.Markdown("**Tap a map** to inspect a pixel; the last two taps draw a transect.",
                                     styles={"font-size": "15px"}, margin=(0, 10)),
                    sizing_mode="stretch_width", margin=0)

    def first_tap(event):  # the pixel and transect plots cost ~1 s to build: only when first needed
        if event.new >= 1:
            on_first_tap(tab)

    app.param.watch(first_tap, "taps")
    return tab


def guide_status(choice, css: str, width: int = CELL_WIDTH - 20) -> pn.pane.Markdown:
    """The guide choice's status line (what is chosen, then whether the gate used the guide and why), in step with
    ``choice`` (a :class:`explorer.data.guide_choice.GuideChoice`), styled as the maps' captions."""
    pane = pn.pane.Markdown(choice.status, css_classes=[css], width=width, margin=(0, 10, 2, 10),
                            styles={**CAPTION_STYLE, "font-size": "14px"}, stylesheets=[CAPTION_CSS])
    choice.param.watch(lambda e: setattr(pane, "object", e.new), "status")
    return pane


class GuideMap:
    """The Explore tab's guide map (SST) with the gate's line under it.

    Parameters
    ----------
    state : explorer.data.state.ExplorerState
        Its feed's ``"guide"`` (a :class:`dipcore.guide.Guide` on the twin's grid, or None), ``geom``, ``field`` and
        ``guide`` (the choice, whose status is the line under the map).
    live : explorer.ui.live.LiveMaps
        The other maps: the guide map shares their pan/zoom, and their batched next-tick changes.
    """

    def __init__(self, state, live):
        self.state = state
        self.map = LiveMap("Guide: choose one in the sidebar", guide_palette(), "SST", live.x_range, live.y_range,
                           on_tap=state.tap_at, unit="°C")
        self.map.source.name = "ssh-guide"  # by name: the browser tests find it
        self.status = guide_status(state.guide, "ssh-guide-status")
        self.cell = pn.Column(pn.pane.Bokeh(self.map.fig), self.status, css_classes=["map-guide"], margin=0,
                              width=CELL_WIDTH)
        state.feed.subscribe("guide", lambda g: live.schedule("guide", lambda: self.show(g)))
        self.show(state.feed["guide"])  # the state sends the guide after each new twin: its frame follows

    def show(self, guide) -> None:
        """``guide`` on the field's grid (None: an empty map), framed as the other maps, on a scale of its own."""
        s = self.state
        if s.geom is None:
            return
        shape = (len(s.geom.ys), len(s.geom.xs))
        values = guide.values if guide is not None and guide.values.shape == shape else None
        self.map.axes(s.geom)
        self.map.frame(*frame_size(shape, s.field.spacing_km if s.field is not None else None, *FRAME_MAX))
        self.map.show(None if values is None else values / CM, s.geom)  # LiveMap shows metres in cm: undo it
        self.map.clim(*guide_clim(values))
        self.map.fig.title.text = guide_title(guide) if values is not None else "Guide: none on this field"


def follow_guide(choice, grid: pn.GridBox, cells: list, guide_cell: pn.Column) -> None:
    """Show ``guide_cell`` in the place of "what the network changed" (``cells[5]``) while a guide is chosen:
    the grid keeps its 3 × 3 size, and the page its 1440×900 fit."""
    def arrange(event=None):
        want = [*cells[:5], guide_cell if choice.active else cells[5], *cells[6:]]
        if list(grid.objects) != want:
            grid.objects = want

    choice.param.watch(arrange, "choice")
    arrange()


__all__ = ["CELLS", "PROGRESS_CSS", "PROGRESS_HEIGHT", "GuideMap", "baseline_switch", "explore_tab", "follow_guide",
           "guide_status", "map_cell", "progress_row"]
