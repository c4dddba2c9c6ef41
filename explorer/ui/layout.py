"""The page of one explorer session: :class:`ExplorerView`, a Panel ``Viewer`` of the app's state. The sidebar
(:mod:`explorer.ui.sidebar`) has widgets bound to the state's parameters; the Explore tab holds the live maps and
curves (:mod:`explorer.ui.live`) and, after the first tap, the pixel view (:mod:`explorer.ui.pixel`); then the
Uncertainty, Resolution ladder, Compare & replay, Downscale my field, Experiments and About tabs.

The guided first run (hint under an emphasised Run, map captions, "what just happened") comes from
:mod:`explorer.ui.guide`, the keyboard shortcuts from :mod:`explorer.ui.shortcuts`, the Compare & replay tab from
:mod:`explorer.ui.compare` and :mod:`explorer.ui.replay`, the Downscale tab from :mod:`explorer.ui.downscale` and
the Experiments tab from :mod:`explorer.ui.experiments`.

Arrows point one way: this module reads the state and calls the app's public methods (``run``, ``stop``,
``load_upload``, ``reset_crop``, ``netcdf``, ``png``, ``total_std``, ``report``); it builds with
:mod:`explorer.ui.views`, :mod:`explorer.ui.live` and :mod:`explorer.ui.pixel`, and writes nothing onto the state
but its parameters, through the widgets.
"""

from __future__ import annotations

import panel as pn

from dipcore.samples import SAMPLES
from dipcore.style import CM
from explorer.ui import views
from explorer.ui.compare import ComparisonView
from explorer.ui.downscale import DownscaleTab
from explorer.ui.guide import GuideView
from explorer.ui.live import LiveMaps
from explorer.ui.messages import message_panes
from explorer.ui.pixel import PixelPlots
from explorer.ui.replay import ReplayView
from explorer.ui.shortcuts import Shortcuts
from explorer.ui.sidebar import sidebar
from explorer.ui.views import AMP

TEACHER_NOTES = """
### What each panel shows

- **Truth**: the high-resolution SSH field (cm) we pretend not to know; everything is scored against it.
- **Observation**: the truth averaged over ratio × ratio blocks, plus noise: what a coarse sensor would see.
- **Bicubic / IBP** (switch under the maps): two classical estimates, no network. Bicubic interpolates the
  observation smoothly back to the fine grid; **IBP** (iterative back-projection) then corrects the bicubic field
  until its block averages reproduce the observation. IBP is the baseline to beat.
- **DIP estimate**: the mean of K neural networks each trained, from scratch on this one image, so that their
  output averaged over blocks reproduces the observation; the network's structure is the only prior. The recipe
  (sidebar) says how each network is fitted; its description is in the README. **Architecture** picks the network:
  `paper` (the paper's DCGAN-like decoder from a small random input), `skip` (the original deep-image-prior
  hourglass with skip connections) or `decoder` (a small Deep Decoder); it starts at the recipe's own, and the
  rest of the recipe is kept when it is changed.
- **Error (estimate − truth)**: where the method is wrong; red too high, blue too low (before a run: the baseline's).
- **Ensemble std**: how much the K networks disagree; a map of the method's own uncertainty (its scale starts at 0).
- **Latent std**: spread when the same networks get different random inputs (M > 0): a second, smaller uncertainty.
- **RMSE / SSIM curves**: error and structural similarity against iteration; the grey dashed line is bicubic, the
  green dash-dotted one IBP. The network is worth running where its curve goes below IBP (RMSE) or above it (SSIM).
- **Verdict**: when a run ends, one line says which estimate is best on this run: the network, IBP or bicubic
  (by RMSE; within 1 % of each other they are called level).
- **Pixel**: tap any map: each member's value at that cell, their mean ± std, the truth, the bicubic and IBP
  values, and how the estimate there moved during the fit.
- **Transect**: the last two taps define a line; truth, bicubic, IBP and estimate ± 2 std along it.
- **|error| vs std**: do the cells the ensemble is unsure about have the largest errors? Correlation and
  spread/skill (1 = honest uncertainty) are printed.
- **Total std** (Uncertainty tab): the ensemble std plus the error below the block size that no network can see,
  estimated from the slopes of the estimate and calibrated by degrading the observation once more.
- **Resolution ladder**: the same field at R03…R96 (×1…×32 coarser), as in the paper's Fig. 2, then bicubic, IBP
  and DIP side by side with their errors and scores.

### Colours, coordinates and keyboard

SSH and errors use cmocean's diverging *balance* map, spreads its sequential *amp* map: cmocean's colour maps are
perceptually uniform and stay readable for colour-blind viewers (and in greyscale print). Land is grey; hovering
a map shows the value in cm ("land" where there are no data) and where, in degrees east/north (west and south are
negative). Keyboard, anywhere on the page: **Ctrl+Enter** (⌘+Enter on a Mac) runs, **Esc** stops; **Tab** moves
between the controls and **Enter** or **Space** presses the focused button.

### A first run with a class

Press **Run**: the highlighted button, with a one-line hint under it until the first run. Each map gets a caption
in plain words when it first fills. When the run ends, a "what just happened" paragraph under the verdict says what
the networks did and compares DIP, IBP and bicubic with their RMSEs. **Compare & replay** then shows the truth,
bicubic, IBP and the DIP estimate on one map with one colour scale (a toggle flicks between them), and plays the
fit back from its snapshots; "Download the fit as a GIF" saves that animation for slides.
"""



class ExplorerView(pn.viewable.Viewer):
    """The page of one app (see the module docstring).

    Parameters
    ----------
    app : explorer.app.ExplorerApp
        The session's state with its actions (``run``, ``stop``, ``netcdf``, ``png``, ``total_std``…).

    Attributes
    ----------
    live : explorer.ui.live.LiveMaps
        The maps and score curves (the app's session shows its updates through them).
    pixel : explorer.ui.pixel.PixelPlots or None
        The pixel and transect plots, built at the first tap (they cost ~1 s).
    experiments : explorer.ui.experiments.ExperimentsTab or a pane
        The Experiments tab (a message when it cannot start).
    """

    def __init__(self, app, **params):
        super().__init__(**params)
        self.app = app
        self.live = LiveMaps(app)
        self.guide = GuideView(app)   # the first-run hint, the map captions, "what just happened"
        self.compare = ComparisonView(app)
        self.replay = ReplayView(app)
        self.shortcuts = Shortcuts({"run": app.run, "stop": app.stop})
        self.pixel: PixelPlots | None = None
        self.experiments = experiments_tab(app)
        # no truth: the user's coarse map is the observation (its own state; shares the server's queue and limits)
        self.downscale = DownscaleTab(queue=app.session.queue, limits=app.limits, data_dir=app.data_dir)
        self._panel = pn.Row(sidebar(app, self.guide.hint, self.shortcuts), self._main(),
                             sizing_mode="stretch_width")

    def __panel__(self):
        return self._panel

    # ---- messages, progress and the tabs ------------------------------------------------------------------
    def _main(self):
        app = self.app
        tabs = pn.Tabs(
            ("Explore", self._explore()),
            ("Uncertainty", pn.param.ParamFunction(pn.bind(self._guarded(self._uncertainty), app.param.result),
                                                   lazy=True)),
            ("Resolution ladder", pn.param.ParamFunction(pn.bind(self._guarded(self._teaching), app.param.twin,
                                                                 app.param.result), lazy=True)),
            ("Compare & replay", pn.Column(self.compare, self.replay)),
            ("Downscale my field", self.downscale),
            ("Experiments", self.experiments),
            ("About", pn.pane.Markdown(TEACHER_NOTES)),
            dynamic=True,
        )
        return pn.Column(*message_panes(app, self.guide.summary), tabs, sizing_mode="stretch_width")

    def _explore(self):
        """Progress, the six linked maps with the baseline switch and the two score curves; the pixel view is
        added at the first tap."""
        app, live = self.app, self.live
        bar = pn.widgets.Progress(value=0, max=max(1, app.iters), bar_color="primary", width=200)
        # a long line (step, speed, scores, how the run ended) wraps instead of widening the page
        text = pn.pane.Str(app.progress_text, css_classes=["ssh-progress"], sizing_mode="stretch_width",
                           stylesheets=["pre { white-space: pre-wrap; margin: 0; }"])

        def progress_changed(event=None):
            text.object = app.progress_text
            p = app.last
            bar.max = max(1, p.iters if p is not None else app.iters)
            bar.value = min(app.step, bar.max)

        app.param.watch(progress_changed, ["progress_text", "step"])
        names = {"truth": "truth", "obs": "observation", "bicubic": "bicubic", "estimate": "estimate",
                 "error": "error", "std": "std"}
        panes = [pn.Column(pn.pane.Bokeh(live.maps[k].fig), self.guide.caption(k), css_classes=[f"map-{n}"])
                 for k, n in names.items()]
        curves = pn.Row(pn.Column(pn.pane.Bokeh(live.rmse.fig), css_classes=["curve-rmse"]),
                        pn.Column(pn.pane.Bokeh(live.ssim.fig), css_classes=["curve-ssim"]))
        switch = pn.Row(pn.pane.Markdown("Baseline map (top right):", margin=(8, 5, 0, 10)),
                        pn.widgets.RadioButtonGroup.from_param(app.param.baseline_map, name="", color="default",
                                                               css_classes=["w-baseline"]))
        explore = pn.Column(pn.Row(bar, text), pn.Column(pn.GridBox(*panes, ncols=3), switch, curves),
                            pn.pane.Markdown("**Tap a map** to inspect a pixel; the last two taps draw a transect."))

        def first_tap(event):  # the pixel and transect plots cost ~1 s to build: only when first needed
            if event.new >= 1 and self.pixel is None:
                self.pixel = PixelPlots().follow(app.feed, live.schedule)
                explore.append(pn.Column(pn.Row(pn.pane.Bokeh(self.pixel.members), pn.pane.Bokeh(self.pixel.evo)),
                                         pn.pane.Bokeh(self.pixel.transect), css_classes=["pixel-view"]))

        app.param.watch(first_tap, "taps")
        return explore

    @staticmethod
    def _guarded(build):
        def view(*args):
            try:
                return build()
            except Exception as exc:  # a view must never break the session
                return pn.pane.Alert(f"cannot draw this view: {type(exc).__name__}: {exc}", alert_type="warning")
        return view

    def _uncertainty(self):
        app = self.app
        p, t = app.result, app.run_twin
        if p is None:  # no empty axes: say what will appear here
            return pn.pane.Markdown("Run a fit with **K > 1** ensemble members to see its uncertainty here: the "
                                    "ensemble std against the actual error, and the total std map (add latent "
                                    "samples M > 0 for the latent std).", css_classes=["uncertainty-hint"])
        tot = app.total_std()
        items = [pn.pane.Markdown(views.uncertainty_text(p, t, tot))]
        if p.member_std is not None:
            plot = views.error_std_plot(p.member_std, p.estimate, t.truth,
                                        title="|error| vs ensemble std (cells) and RMS error per std bin")
            items.append(pn.pane.HoloViews(plot.opts(width=600, height=360)))
        if tot is not None:
            items.append(pn.pane.HoloViews(views.error_std_plot(
                tot, p.estimate, t.truth, label="total std",
                title="|error| vs total std (members + calibrated sub-grid)").opts(width=600, height=360)))
        maps = []  # each spread on its own scale from 0 (a 0-12 cm scale washes out a field of 0-6 cm)
        if tot is not None:
            maps.append(views.image(tot, app.geom, "Total std", "std", cmap=AMP,
                                    clim=(0, views.std_top(tot * CM))))
        if p.latent_std is not None:
            maps.append(views.image(p.latent_std, app.geom, "Latent std (M samples)", "std", cmap=AMP,
                                    clim=(0, views.std_top(p.latent_std * CM))))
        if maps:
            items.append(pn.Row(*[pn.pane.HoloViews(m.opts(width=420, height=280)) for m in maps]))
        return pn.Column(*items)

    def _teaching(self):
        app = self.app
        shown = app.run_twin if (app.result is not None and app.run_twin is not None) else app.twin
        return pn.Column(
            pn.pane.Markdown("### The resolution ladder (paper Fig. 2)\nThe truth average-pooled 2× at each "
                             "rung: R03 is the truth, R96 is 32× coarser. Zoom one map: all follow."),
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


__all__ = ["TEACHER_NOTES", "ExplorerView", "experiments_tab", "sample_spec"]
