"""The Explore tab: the twin experiment's live page, laid out so that a 1440×900 screen holds it all after a run.

Above the maps, in boxes of fixed height (nothing moves when a run ends): the progress bar and line (16 px) with the
baseline map's switch, and the verdict (the twin's error, when there is one, shows above the tabs: :class:`explorer.ui.layout.ExplorerView`). Then a 3 × 3 grid, each map with its caption (15 px) under it:

    truth                 observation            baseline (bicubic / IBP switch)
    DIP estimate          error (DIP − truth)    what the network changed (DIP − IBP)
    uncertainty σ         RMSE curve             SSIM curve

and under the first screen "what just happened" and, from the first tap, the pixel view and the transect.
The panes read the app's state and the feed (:class:`explorer.ui.live.LiveMaps`); the switch is bound to the state's
``baseline_map`` parameter, the only one this tab writes.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from explorer.ui.live import CELL_WIDTH

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
        bar.value = min(app.step, bar.max)

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


def explore_tab(app, live, guide, verdict, on_first_tap: Callable[[pn.Column], None]) -> pn.Column:
    """The Explore tab of ``app`` (see the module docstring): ``live`` its :class:`explorer.ui.live.LiveMaps`,
    ``guide`` its :class:`explorer.ui.guide.GuideView`, ``verdict`` the twin's verdict pane;
    ``on_first_tap(tab)`` adds the pixel view to the tab."""
    cells = [map_cell(k, live.maps[k].fig, guide.caption(k))
             for k in ("truth", "obs", "bicubic", "estimate", "error", "change", "std")]
    cells += [pn.Column(pn.pane.Bokeh(live.rmse.fig), css_classes=["curve-rmse"], margin=0, width=CELL_WIDTH),
              pn.Column(pn.pane.Bokeh(live.ssim.fig), css_classes=["curve-ssim"], margin=0, width=CELL_WIDTH)]
    tab = pn.Column(progress_row(app), verdict, pn.GridBox(*cells, ncols=3, margin=0), guide.summary,
                    pn.pane.Markdown("**Tap a map** to inspect a pixel; the last two taps draw a transect.",
                                     styles={"font-size": "15px"}, margin=(0, 10)),
                    sizing_mode="stretch_width", margin=0)

    def first_tap(event):  # the pixel and transect plots cost ~1 s to build: only when first needed
        if event.new >= 1:
            on_first_tap(tab)

    app.param.watch(first_tap, "taps")
    return tab


__all__ = ["CELLS", "PROGRESS_CSS", "PROGRESS_HEIGHT", "baseline_switch", "explore_tab", "map_cell", "progress_row"]
