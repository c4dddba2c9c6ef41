"""The page of one explorer session: :class:`ExplorerView`, a Panel ``Viewer`` of the app's state.

One sidebar that follows the tab shown, so that whatever is on screen belongs to that tab:

* Explore, Uncertainty, Resolution ladder, Compare & replay (they all show the twin experiment's run): the twin's
  sidebar, its data (:func:`explorer.ui.sidebar.data_part`, with what is loaded and its credit) and its run
  (:func:`explorer.ui.sidebar.run_part`: Run, Stop, downloads, the method);
* Downscale my field: that tab's own sidebar (:mod:`explorer.ui.downscale_controls`: its data, Downscale, Stop, its
  download);
* Experiments: the twin's data only (a sweep uses that sample), its Run sweep and Stop sweep in the tab;
* About: the title only.

The keyboard follows it too: Ctrl+Enter starts, and Esc stops, the run of the tab shown (:meth:`ExplorerView.start`,
:meth:`ExplorerView.stop`). The tabs: Explore (:mod:`explorer.ui.explore`), Uncertainty (:mod:`explorer.ui.
uncertainty`), Resolution ladder, Compare & replay (:mod:`explorer.ui.compare` beside :mod:`explorer.ui.replay`),
Downscale my field (:mod:`explorer.ui.downscale`), Experiments (:mod:`explorer.ui.experiments`), About.

Arrows point one way: this module reads the state and calls the app's public methods (``run``, ``stop``,
``netcdf``, ``png``, ``report``…); it writes nothing onto the state but its parameters, through the widgets.
"""

from __future__ import annotations

import panel as pn
import param

from dipcore.samples import SAMPLES
from explorer.ui import views
from explorer.ui.about import TEACHER_NOTES
from explorer.ui.compare import ComparisonView
from explorer.ui.downscale import DownscaleTab
from explorer.ui.explore import GuideMap, explore_tab
from explorer.ui.guide import GuideView
from explorer.ui.live import LiveMaps
from explorer.ui.messages import message_panes
from explorer.ui.pixel import PixelPlots
from explorer.ui.replay import ReplayView
from explorer.ui.shortcuts import Shortcuts
from explorer.ui.sidebar import data_part, run_part
from explorer.ui.uncertainty import uncertainty_view

EXPLORE, UNCERTAINTY, LADDER, COMPARE, DOWNSCALE, EXPERIMENTS, ABOUT = (
    "Explore", "Uncertainty", "Resolution ladder", "Compare & replay", "Downscale my field", "Experiments", "About")
TAB_NAMES = (EXPLORE, UNCERTAINTY, LADDER, COMPARE, DOWNSCALE, EXPERIMENTS, ABOUT)  # in the order of the tabs
TWIN_TABS = (EXPLORE, UNCERTAINTY, LADDER, COMPARE)  # the tabs that show the twin experiment's run


class ExplorerView(pn.viewable.Viewer):
    """The page of one app (see the module docstring).

    Parameters
    ----------
    app : explorer.app.ExplorerApp
        The session's state with its actions (``run``, ``stop``, ``netcdf``, ``png``…).

    Attributes
    ----------
    live : explorer.ui.live.LiveMaps
        The maps and score curves (the app's session shows its updates through them).
    pixel : explorer.ui.pixel.PixelPlots or None
        The pixel and transect plots, built at the first tap (they cost ~1 s).
    downscale : explorer.ui.downscale.DownscaleTab
        The Downscale tab (its own state and runs).
    experiments : explorer.ui.experiments.ExperimentsTab or a pane
        The Experiments tab (a message when it cannot start).
    """

    tab = param.String(default=EXPLORE, doc="The tab shown: the sidebar and the keyboard follow it.")

    def __init__(self, app, **params):
        super().__init__(**params)
        self.app = app
        self.live = LiveMaps(app)
        self.sst = GuideMap(app, self.live)  # the guide map (SST), in the grid while a guide is chosen
        self.guide = GuideView(app)   # the first-run hint, the map captions, "what just happened"
        self.compare = ComparisonView(app)
        self.replay = ReplayView(app)
        self.shortcuts = Shortcuts({"run": self.start, "stop": self.stop})
        self.pixel: PixelPlots | None = None
        self.experiments = experiments_tab(app)
        # no truth: the user's coarse map is the observation (its own state; shares the server's queue and limits)
        self.downscale = DownscaleTab(queue=app.session.queue, limits=app.limits, data_dir=app.data_dir)
        self.downscale.attach()
        alert, note, repaired, credit, verdict, _ = message_panes(app, self.guide.summary)
        self.sidebars = {
            "title": pn.pane.Markdown("## ssh-dip explorer\nDownscale sea surface height with a deep image prior.",
                                      margin=(0, 10)),
            "data": data_part(app, [note, credit, repaired]),
            "run": run_part(app, self.guide.hint),
            "downscale": self.downscale.sidebar,
        }
        # the twin's error shows above the tabs that show its data (the Explore tab's maps move down only then)
        self.twin_alert = pn.Column(alert, sizing_mode="stretch_width", margin=0)
        self.tabs = self._tabs(verdict)
        self.tabs.param.watch(lambda e: setattr(self, "tab", TAB_NAMES[e.new]), "active")
        self.param.watch(lambda e: self._follow(), "tab")
        self._follow()
        self._panel = pn.Row(pn.Column(*self.sidebars.values(), self.shortcuts, width=300, margin=0),
                             pn.Column(self.twin_alert, self.tabs, sizing_mode="stretch_width", margin=0),
                             sizing_mode="stretch_width")

    def __panel__(self):
        return self._panel

    # ---- the tab shown: the sidebar and the keyboard follow it ----------------------------------------------
    def _follow(self) -> None:
        """Show the sidebar parts of the tab shown, and only those."""
        shown = {"title": self.tab not in (DOWNSCALE,), "data": self.tab in (*TWIN_TABS, EXPERIMENTS),
                 "run": self.tab in TWIN_TABS, "downscale": self.tab == DOWNSCALE}
        shown["alert"] = shown["data"]
        for key, part in [*self.sidebars.items(), ("alert", self.twin_alert)]:
            if part.visible != shown[key]:
                part.visible = shown[key]

    def start(self) -> bool:
        """Ctrl+Enter: start the run of the tab shown (the twin's fit, the downscaling, the sweep); False for a tab
        without one."""
        if self.tab in TWIN_TABS:
            return self.app.run()
        if self.tab == DOWNSCALE:
            return self.downscale.run()
        if self.tab == EXPERIMENTS and hasattr(self.experiments, "run"):
            return self.experiments.run()
        return False

    def stop(self) -> None:
        """Esc: stop the run of the tab shown (a run of another tab goes on)."""
        if self.tab in TWIN_TABS:
            self.app.stop()
        elif self.tab == DOWNSCALE:
            self.downscale.stop()
        elif self.tab == EXPERIMENTS and hasattr(self.experiments, "stop"):
            self.experiments.stop()

    # ---- the tabs -------------------------------------------------------------------------------------------
    def _tabs(self, verdict) -> pn.Tabs:
        app = self.app
        return pn.Tabs(
            (EXPLORE, explore_tab(app, self.live, self.guide, verdict, self._add_pixel_view, self.sst)),
            (UNCERTAINTY, pn.param.ParamFunction(pn.bind(self._guarded(lambda: uncertainty_view(app)),
                                                         app.param.result), lazy=True)),
            (LADDER, pn.param.ParamFunction(pn.bind(self._guarded(self._teaching), app.param.twin,
                                                    app.param.result), lazy=True)),
            (COMPARE, pn.Row(self.compare, self.replay, sizing_mode="stretch_width")),
            (DOWNSCALE, self.downscale.main),
            (EXPERIMENTS, self.experiments),
            (ABOUT, pn.pane.Markdown(TEACHER_NOTES, styles={"font-size": "15px"}, sizing_mode="stretch_width")),
            dynamic=True, sizing_mode="stretch_width")

    def _add_pixel_view(self, tab: pn.Column) -> None:
        """The pixel and transect plots, built at the first tap (they cost ~1 s)."""
        if self.pixel is not None:
            return
        self.pixel = PixelPlots().follow(self.app.feed, self.live.schedule)
        tab.append(pn.Column(pn.Row(pn.pane.Bokeh(self.pixel.members), pn.pane.Bokeh(self.pixel.evo)),
                             pn.pane.Bokeh(self.pixel.transect), css_classes=["pixel-view"]))

    @staticmethod
    def _guarded(build):
        def view(*args):
            try:
                return build()
            except Exception as exc:  # a view must never break the session
                return pn.pane.Alert(f"cannot draw this view: {type(exc).__name__}: {exc}", alert_type="warning")
        return view

    def _teaching(self):
        app = self.app
        shown = app.run_twin if (app.result is not None and app.run_twin is not None) else app.twin
        return pn.Column(
            pn.pane.Markdown("### The resolution ladder (paper Fig. 2)\nThe truth average-pooled 2× at each "
                             "rung: R03 is the truth, R96 is 32× coarser. Zoom one map: all follow.",
                             styles={"font-size": "15px"}),
            pn.pane.HoloViews(views.ladder_images(app.twin, app.ssh_clim), linked_axes=False),
            pn.pane.Markdown(f"### DIP vs IBP vs bicubic at ×{app.twin.degradation.ratio}"
                             + ("" if app.result is not None else " (press Run for the DIP estimate)")),
            pn.pane.HoloViews(views.comparison_images(shown, app.result, app.baseline_scores(shown), app.ssh_clim,
                                                      app.err_lim), linked_axes=False))


def experiments_tab(app=None):
    """The Experiments tab (imported lazily: its failure must not take the explorer down); it sweeps the sidebar's
    sample (:func:`sample_spec`)."""
    try:
        from explorer.ui.experiments import ExperimentsTab
    except ImportError:
        return pn.pane.Markdown("The Experiments tab is not installed yet (explorer/ui/experiments.py).")
    try:  # its sweeps are fits too: they queue with the sidebar's and obey the server's limits
        tab = ExperimentsTab() if app is None else ExperimentsTab(queue=app.session.queue, limits=app.limits)
    except Exception as exc:  # its failure must not take the explorer down
        return pn.pane.Alert(f"The Experiments tab failed to start: {type(exc).__name__}: {exc}",
                             alert_type="warning")
    if app is not None and "sample_spec" in tab.param:
        def follow(event=None):
            tab.sample_spec = sample_spec(app)

        app.param.watch(follow, ["sample", "time_index", "field"])
        follow()
    return tab


def sample_spec(state) -> str:
    """The sidebar's data as an experiment case, ``sample[:time][@y0:y1,x0:x1]`` (what ``dipcore.experiments``
    takes as a case; the part before '@' is what ``dipcore.samples.parse_spec`` reads); '' for an upload, a
    server file or an in-memory field (no sample to name)."""
    if state.origin != "sample" or state.field is None or state.sample not in SAMPLES:
        return ""
    spec = state.sample if state.time_index == SAMPLES[state.sample].time else f"{state.sample}:{state.time_index}"
    box = state.crop_box()
    return spec + (f"@{box[0]}:{box[1]},{box[2]}:{box[3]}" if box else "")


__all__ = ["ABOUT", "COMPARE", "DOWNSCALE", "EXPERIMENTS", "EXPLORE", "LADDER", "TAB_NAMES", "TWIN_TABS", "UNCERTAINTY",
           "ExplorerView", "experiments_tab", "sample_spec"]
