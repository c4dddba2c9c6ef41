"""The explorer's sidebar: the data (sample, upload, server file, variable, time step, crop), the degradation and the
ensemble, Run and Stop, the keyboard hint, the server's limits, the downloads, and the method's settings in a card.

Widgets are bound to the app's parameters; buttons call its public methods (``run``, ``stop``, ``load_upload``,
``reset_crop``, ``netcdf``, ``png``; ``report`` shows a failed download). The first screen of a 1440×900 display
holds what a class touches, down to Run; the method's settings follow it.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import panel as pn

from explorer.data.loading import ACCEPT, MAX_UPLOAD_MB

KEYS_HINT = "Keyboard: **Ctrl+Enter** runs, **Esc** stops (or Tab to a button, then Enter)."
FIRST_RUN_CSS = ":host(.ssh-first-run) .bk-btn { box-shadow: 0 0 0 3px #ffbf00; font-weight: bold; }"
HALF = dict(width=142, margin=(5, 4))
FULL = dict(sizing_mode="stretch_width")  # within the sidebar's 300 px (a default 300 px widget overflows)
SMALL = {"font-size": "12px", "color": "#555"}


def sidebar(app, hint: pn.viewable.Viewable, shortcuts: pn.viewable.Viewable) -> pn.Column:
    """The sidebar of ``app``'s page; ``hint`` (the guide's first-run hint) goes under Run, ``shortcuts`` (the
    keyboard's component) with the keyboard hint."""
    return pn.Column(
        pn.pane.Markdown("## ssh-dip explorer\nDownscale sea surface height with a deep image prior.",
                         margin=(0, 10)),
        *data_inputs(app),
        run_buttons(app), hint,
        pn.pane.Markdown(KEYS_HINT, margin=(0, 10), styles=SMALL, css_classes=["ssh-keys"]), shortcuts,
        pn.pane.Markdown(app.limits.summary(), css_classes=["ssh-limits"], margin=(0, 10), styles=SMALL),
        downloads(app), method_card(app),
        width=300,
    )


def data_inputs(app) -> list:
    """What is fitted: sample, upload, server file, variable and time step, crop; ratio, iterations, noise, K."""
    w = pn.widgets
    reset = w.Button(label="Reset crop", width=90, align="end", margin=(5, 4))
    reset.on_click(app.reset_crop)
    return [
        w.Select.from_param(app.param.sample, name="Sample", **FULL),
        pn.pane.Markdown(f"**or upload a NetCDF** (≤ {MAX_UPLOAD_MB} MB)", margin=(0, 10)),
        upload_input(app),
        # only on a server started with --data-dir: its files by name (the page never sends a path)
        w.Select.from_param(app.param.server_file, name="or a server file", css_classes=["w-server-file"],
                            visible=len(app.param.server_file.objects) > 1, **FULL),
        pn.Row(w.Select.from_param(app.param.variable, name="Variable", **HALF),
               w.IntInput.from_param(app.param.time_index, name="Time step", **HALF)),
        pn.Row(w.TextInput.from_param(app.param.index_crop, name="Crop y0 y1 x0 x1 (Enter)",
                                      placeholder="e.g. 0 64 0 64", css_classes=["w-crop"], width=190, margin=(5, 4)),
               reset, margin=0),
        pn.Row(w.Select.from_param(app.param.ratio, name="Ratio", **HALF),
               w.IntInput.from_param(app.param.iters, name="Iterations", step=50, css_classes=["w-iters"], **HALF)),
        w.FloatSlider.from_param(app.param.noise, name="Noise σ (fraction of field std)", **FULL),
        w.IntSlider.from_param(app.param.members, name="Ensemble members K", end=min(16, app.limits.max_members),
                               css_classes=["w-members"], **FULL),
    ]


def upload_input(app) -> pn.widgets.FileInput:
    """A NetCDF upload box: the bytes go to ``app.load_upload`` with the file's name."""
    upload = pn.widgets.FileInput(accept=ACCEPT, multiple=False, sizing_mode="stretch_width",
                                  css_classes=["w-upload"])

    def uploaded(event):
        if event.new is not None:
            app.load_upload(event.new, upload.filename or "upload.nc")

    upload.param.watch(uploaded, "value")
    return upload


def run_buttons(app) -> pn.Row:
    """Run and Stop, enabled by ``app.running``; Run is emphasised until the first run starts: the page's one
    obvious first action."""
    run = pn.widgets.Button(label="Run", color="primary", sizing_mode="stretch_width", stylesheets=[FIRST_RUN_CSS],
                            css_classes=["ssh-first-run"])
    stop = pn.widgets.Button(label="Stop", color="danger", sizing_mode="stretch_width", disabled=True)
    run.on_click(app.run)
    stop.on_click(app.stop)

    def running_changed(event=None):
        run.disabled = app.running
        stop.disabled = not app.running
        if app.running:
            run.css_classes = []

    app.param.watch(running_changed, "running")
    return pn.Row(run, stop, sizing_mode="stretch_width")


def downloads(app) -> pn.Row:
    """The result as NetCDF (once there is one) and the maps as a PNG figure."""
    nc = pn.widgets.FileDownload(callback=download_callback(app, app.netcdf), filename="ssh-dip-result.nc",
                                 label="Download NetCDF", color="success", disabled=True, embed=False, **HALF)
    png = pn.widgets.FileDownload(callback=download_callback(app, app.png), filename="ssh-dip-maps.png",
                                  label="Download PNG figure", disabled=False, embed=False, **HALF)
    app.param.watch(lambda event: setattr(nc, "disabled", app.result is None), "result")
    return pn.Row(nc, png, sizing_mode="stretch_width")


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
        w.Select.from_param(app.param.recipe, name="Recipe", **FULL),
        w.Select.from_param(app.param.arch, name="Architecture (default: the recipe's)", css_classes=["w-arch"],
                            **FULL),
        w.Select.from_param(app.param.device, name=f"Device ({dev_note})", **FULL),
        w.IntInput.from_param(app.param.seed, name="Seed", **FULL),
        title="Method: recipe, network, device, seed", sizing_mode="stretch_width", collapsed=False)


__all__ = ["FIRST_RUN_CSS", "KEYS_HINT", "download_callback", "sidebar"]
