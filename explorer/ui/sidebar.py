"""The twin experiment's sidebar (the Explore, Uncertainty, Resolution ladder and Compare & replay tabs, which all
show its run): the data (sample, upload, server file, variable, time step, what is loaded and its credit, crop),
the guide map (SST: none, the sample's own, an upload; :func:`guide_controls`), the degradation and the
ensemble, Run and Stop, the keyboard hint, the server's limits, the downloads (labelled with
the run they hold), and the method's settings in a card. The Experiments tab shows only its data part (its sweeps
use that sample); the Downscale tab has a sidebar of its own (:mod:`explorer.ui.downscale_controls`).

Widgets are bound to the app's parameters; buttons call its public methods (``run``, ``stop``, ``load_upload``,
``reset_crop``, ``netcdf``, ``png``; ``report`` shows a failed download). The first screen of a 1440×900 display
holds what a class touches, down to Run; the method's settings follow it.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import panel as pn

from explorer.data.loading import ACCEPT, MAX_UPLOAD_MB
from explorer.ui.messages import SMALL  # the small print's style, one for the whole page

KEYS_HINT = "Keyboard: **Ctrl+Enter** runs, **Esc** stops (or Tab to a button, then Enter)."
FIRST_RUN_CSS = ":host(.ssh-first-run) .bk-btn { box-shadow: 0 0 0 3px #ffbf00; font-weight: bold; }"
HALF = dict(width=142, margin=(5, 4))
FULL = dict(sizing_mode="stretch_width")  # within the sidebar's 300 px (a default 300 px widget overflows)
NO_RESULT = "Download NetCDF (after a run)"
GUIDE_LABEL = "Guide (SST)"


def data_part(app, messages: list) -> pn.Column:
    """What is fitted: sample, upload, server file, variable and time step, ``messages`` (what is loaded, its
    credit, what loading repaired), crop."""
    w = pn.widgets
    reset = w.Button(label="Reset crop", width=90, align="end", margin=(5, 4))
    reset.on_click(app.reset_crop)
    return pn.Column(
        w.Select.from_param(app.param.sample, name="Sample", **FULL),
        pn.pane.Markdown(f"**or upload a NetCDF** (≤ {MAX_UPLOAD_MB} MB)", margin=(0, 10)),
        upload_input(app),
        # only on a server started with --data-dir: its files by name (the page never sends a path)
        w.Select.from_param(app.param.server_file, name="or a server file", css_classes=["w-server-file"],
                            visible=len(app.param.server_file.objects) > 1, **FULL),
        pn.Row(w.Select.from_param(app.param.variable, name="Variable", css_classes=["w-variable"], **HALF),
               w.IntInput.from_param(app.param.time_index, name="Time step", **HALF), margin=0),
        *messages,
        pn.Row(w.TextInput.from_param(app.param.index_crop, name="Crop y0 y1 x0 x1 (Enter)",
                                      placeholder="e.g. 0 64 0 64", css_classes=["w-crop"], width=190, margin=(5, 4)),
               reset, margin=0),
        width=300, margin=0, css_classes=["sidebar-data"])


def run_part(app, hint: pn.viewable.Viewable) -> pn.Column:
    """The guide map (SST) with its upload; ratio, iterations, noise, K; Run and Stop with ``hint`` (the first-run
    hint) under them; the keyboard hint, the server's limits, the downloads and the method's settings."""
    w = pn.widgets
    return pn.Column(
        guide_controls(app.guide, app.load_guide_upload),
        pn.Row(w.Select.from_param(app.param.ratio, name="Ratio", **HALF),
               w.IntInput.from_param(app.param.iters, name="Iterations (at most)", step=50, css_classes=["w-iters"],
                                     **HALF), margin=0),
        w.FloatSlider.from_param(app.param.noise, name="Noise σ (fraction of field std)", **FULL),
        w.IntSlider.from_param(app.param.members, name="Ensemble members K", end=min(16, app.limits.max_members),
                               css_classes=["w-members"], **FULL),
        run_buttons(app), hint,
        pn.pane.Markdown(KEYS_HINT, margin=(0, 10), styles=SMALL, css_classes=["ssh-keys"]),
        pn.pane.Markdown(app.limits.summary(), css_classes=["ssh-limits"], margin=(0, 10), styles=SMALL),
        downloads(app), method_card(app),
        width=300, margin=0, css_classes=["sidebar-run"])


def guide_controls(choice, on_upload: Callable[[bytes, str], bool], prefix: str = "") -> pn.Column:
    """The guide map's box, "Guide (SST)" (a :class:`explorer.data.guide_choice.GuideChoice`: none, the sample's
    own SST, an uploaded file), and its upload box (CSS classes ``w-{prefix}guide``, ``w-{prefix}guide-upload``);
    for either tab's sidebar. ``on_upload(data, filename)`` is the tab state's (False: the file could not be used,
    its message is on the page; the box is cleared: it must not name a file the page does not use)."""
    select = pn.widgets.Select.from_param(choice.param.choice, name=GUIDE_LABEL, css_classes=[f"w-{prefix}guide"],
                                          **FULL)
    upload = pn.widgets.FileInput(accept=ACCEPT, multiple=False, css_classes=[f"w-{prefix}guide-upload"], **FULL)

    def uploaded(event):
        if event.new is not None and not on_upload(event.new, upload.filename or "guide.nc"):
            upload.clear()

    upload.param.watch(uploaded, "value")
    hint = pn.pane.Markdown("or upload a guide NetCDF (SST):", margin=(0, 10), styles=SMALL)
    return pn.Column(select, hint, upload, margin=0, css_classes=[f"{prefix}guide-controls"], **FULL)


def upload_input(app) -> pn.widgets.FileInput:
    """A NetCDF upload box: the bytes go to ``app.load_upload`` with the file's name; a file that could not be read
    is cleared from the box (it must not name a file the page does not show)."""
    upload = pn.widgets.FileInput(accept=ACCEPT, multiple=False, sizing_mode="stretch_width",
                                  css_classes=["w-upload"])

    def uploaded(event):
        if event.new is not None and not app.load_upload(event.new, upload.filename or "upload.nc") \
                and app.pending is None:
            upload.clear()

    upload.param.watch(uploaded, "value")
    return upload


def run_buttons(app) -> pn.Row:
    """Run and Stop, enabled by ``app.running``; Run is emphasised until the first run starts: the page's one
    obvious first action."""
    run = pn.widgets.Button(label="Run", color="primary", sizing_mode="stretch_width", stylesheets=[FIRST_RUN_CSS],
                            css_classes=["ssh-first-run", "ssh-run"])
    stop = pn.widgets.Button(label="Stop", color="danger", sizing_mode="stretch_width", disabled=True,
                             css_classes=["ssh-stop"])
    run.on_click(app.run)
    stop.on_click(app.stop)

    def running_changed(event=None):
        run.disabled = app.running
        stop.disabled = not app.running
        if app.running:
            run.css_classes = ["ssh-run"]

    app.param.watch(running_changed, "running")
    return pn.Row(run, stop, sizing_mode="stretch_width")


def result_label(app) -> str:
    """Which run the NetCDF download holds: '… of the ×8 run on sample gulfstream' (a failed load leaves it)."""
    cfg = app.run_config
    if app.result is None or not cfg:
        return NO_RESULT
    what = cfg.get("sample") or cfg.get("file") or "the field"
    return f"Download NetCDF: ×{cfg.get('ratio')} run on {what}"


def downloads(app) -> pn.Column:
    """The result as NetCDF (once there is one; its label says which run) and the maps as a PNG figure."""
    nc = pn.widgets.FileDownload(callback=download_callback(app, app.netcdf), filename="ssh-dip-result.nc",
                                 label=NO_RESULT, color="success", disabled=True, embed=False,
                                 css_classes=["ssh-download-nc"], **FULL)
    png = pn.widgets.FileDownload(callback=download_callback(app, app.png), filename="ssh-dip-maps.png",
                                  label="Download PNG figure", disabled=False, embed=False, **FULL)

    def result_changed(event=None):
        nc.param.update(disabled=app.result is None, label=result_label(app))

    app.param.watch(result_changed, "result")
    return pn.Column(nc, png, sizing_mode="stretch_width", margin=0)


def download_callback(app, make: Callable[[], bytes]) -> Callable[[], io.BytesIO | None]:
    """A download button's callback: the bytes ``make()`` builds, or None and the error shown on the page."""
    def callback():
        try:
            return io.BytesIO(make())
        except Exception as exc:
            app.report(exc)
            return None
    return callback


def method_card(app) -> pn.Card:
    """The method's settings: latent samples, recipe, architecture, device, seed."""
    w = pn.widgets
    dev_note = "CUDA GPU available" if app.cuda_available else "no CUDA GPU here: auto = CPU"
    return pn.Card(
        w.IntInput.from_param(app.param.latent_samples, name="Latent samples M", css_classes=["w-latent"], **FULL),
        w.Select.from_param(app.param.recipe, name="Recipe (its iterations follow)", css_classes=["w-recipe"],
                            **FULL),
        w.Select.from_param(app.param.arch, name="Architecture (default: the recipe's)", css_classes=["w-arch"],
                            **FULL),
        w.Select.from_param(app.param.device, name=f"Device ({dev_note})", **FULL),
        w.IntInput.from_param(app.param.seed, name="Seed", **FULL),
        title="Method: recipe, network, device, seed", sizing_mode="stretch_width", collapsed=False)


__all__ = ["FIRST_RUN_CSS", "FULL", "GUIDE_LABEL", "HALF", "KEYS_HINT", "NO_RESULT", "SMALL", "data_part", "download_callback", "guide_controls",
           "result_label", "run_part"]
