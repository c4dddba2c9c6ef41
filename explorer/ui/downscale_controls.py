"""The Downscale tab's sidebar: its data (sample, upload, server file, variable, time step), the guide map (SST:
none, the sample's own, an upload; :func:`explorer.ui.sidebar.guide_controls`), the factor, the members,
the iteration cap with what the recipe does and how long it will take (before Run), Downscale and Stop, the keyboard
hint and the download, whose label names the file it holds (after a failed load it is still the earlier map's, and
says so). The widgets call the state and the session only (quick); they become attributes of the tab
(``run_button``, ``stop_button``, ``download``…), which keeps them in step with its state.
"""

from __future__ import annotations

import panel as pn

from explorer.data.loading import ACCEPT, MAX_UPLOAD_MB
from explorer.downscale.state import FACTORS
from explorer.ui.sidebar import FULL, HALF, SMALL, guide_controls
from explorer.ui.sidebar import NO_RESULT as NO_DOWNLOAD  # the twin sidebar's words for an empty download

KEYS_HINT = "Keyboard: **Ctrl+Enter** downscales, **Esc** stops."


def download_label(state) -> str:
    """What the download button says: the file it holds (the last finished run's), or that it waits for a run."""
    return f"Download {state.filename}" if state.result is not None else NO_DOWNLOAD


def data_widgets(tab) -> list:
    """Sample, upload, server file, variable and time step, and the line that says what is loaded."""
    s, w = tab.state, pn.widgets
    tab.sample_select = w.Select.from_param(s.param.sample, name="Sample", **HALF)
    tab.use_sample = w.Button(label="Use sample", align="end", **HALF)
    tab.use_sample.on_click(lambda _e: s.load_sample(s.sample))
    tab.file_input = w.FileInput(accept=ACCEPT, sizing_mode="stretch_width", css_classes=["w-ds-upload"])

    def uploaded(event):
        if event.new is not None and not s.upload(event.new, tab.file_input.filename) and s.pending is None:
            tab.file_input.clear()  # the chooser must not name a file the page does not show

    tab.file_input.param.watch(uploaded, "value")
    # only on a server started with --data-dir: its files by name (the page never sends a path)
    tab.file_select = w.Select.from_param(s.param.server_file, name="or a server file", css_classes=["w-ds-file"],
                                          visible=len(s.param.server_file.objects) > 1, **FULL)
    # shown for a file of several maps: its variables, its time steps (a file of daily maps: pick the day)
    tab.variable_select = w.Select.from_param(s.param.variable, name="Variable", css_classes=["w-ds-variable"],
                                              visible=len(s.param.variable.objects) > 1, **HALF)
    tab.time_input = w.IntInput.from_param(s.param.time_index, name="Time step", visible=s.time_steps > 1,
                                           css_classes=["w-ds-time"], **HALF)
    tab.source_pane = pn.pane.Markdown("", styles=SMALL, margin=(0, 10), css_classes=["ds-source"], **FULL)
    return [pn.Row(tab.sample_select, tab.use_sample, margin=0),
            pn.pane.Markdown(f"**or upload a NetCDF** (≤ {MAX_UPLOAD_MB} MB)", margin=(0, 10)), tab.file_input,
            tab.file_select, pn.Row(tab.variable_select, tab.time_input, margin=0), tab.source_pane]


def run_widgets(tab) -> list:
    """The guide map (SST); factor, members, the iteration cap and the plan; Downscale and Stop; the keyboard hint;
    the download."""
    s, w = tab.state, pn.widgets
    tab.guide_controls = guide_controls(s.guide, s.upload_guide, prefix="ds-")
    tab.factor_select = w.Select.from_param(s.param.factor, name="Factor ×", options=list(FACTORS), **HALF)
    tab.members_input = w.IntInput.from_param(s.param.members, name="Members K", css_classes=["w-ds-members"],
                                              **HALF)
    tab.iters_input = w.IntInput.from_param(s.param.iters, name="Iterations (at most)", step=50,
                                            css_classes=["w-ds-iters"], **FULL)
    tab.plan_pane = pn.pane.Markdown("", styles=SMALL, margin=(0, 10), css_classes=["ds-plan"], **FULL)
    tab.run_button = w.Button(label="Downscale", color="primary", css_classes=["ds-run"], **FULL)
    tab.stop_button = w.Button(label="Stop", color="danger", disabled=True, css_classes=["ds-stop"], **FULL)
    tab.run_button.on_click(tab.run)
    tab.stop_button.on_click(tab.stop)
    tab.download = w.FileDownload(callback=tab.netcdf_file, filename=s.filename, label=NO_DOWNLOAD,
                                  color="success", disabled=True, embed=False, css_classes=["ds-download"], **FULL)
    return [tab.guide_controls, pn.Row(tab.factor_select, tab.members_input, margin=0), tab.iters_input, tab.plan_pane,
            pn.Row(tab.run_button, tab.stop_button, **FULL),
            pn.pane.Markdown(KEYS_HINT, styles=SMALL, margin=(0, 10)), tab.download]


def controls_column(tab) -> pn.Column:
    """The tab's sidebar (see the module docstring)."""
    return pn.Column(pn.pane.Markdown("## Downscale my field\nYour coarse map, refined by a deep image prior.",
                                      margin=(0, 10)),
                     *data_widgets(tab), *run_widgets(tab), width=300, css_classes=["sidebar-downscale"])


__all__ = ["KEYS_HINT", "NO_DOWNLOAD", "controls_column", "data_widgets", "download_label", "run_widgets"]
