"""The explorer's Experiments tab: run a paper-figure sweep (``dipcore.experiments``) in the background, watch its
progress, then read its table and PNG figures; or load an output folder written earlier.

:class:`ExperimentsTab` holds the tab's parameters (what to sweep, and what the page shows of a sweep: ``status``,
``fraction``, ``result``, ``error``) and its widgets, which follow those parameters. Its sweeps run in a
:class:`explorer.run.sweep.SweepSession` (``tab.session``: the pattern of the other tabs' runs), which writes the
parameters from the session's periodic flush; the worker never touches a widget. The end of the browser session
stops the sweep too (:meth:`ExperimentsTab.close`). The page takes no path: a sweep writes to a new temporary
folder, and Load reads one of the result folders shipped with the project or written by this session.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import NumberFormatter

from dipcore import experiments as ex
from explorer.data.server_limits import Limits
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job
from explorer.run.sweep import SweepSession

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
DEFAULT_LOAD_DIR = str(RESULTS / "ratios")


def shipped_results() -> dict[str, str]:
    """The result folders shipped with the project (``docs/results/*`` holding an experiment's CSV), by name."""
    if not RESULTS.is_dir():
        return {}
    return {p.name: str(p) for p in sorted(RESULTS.iterdir())
            if p.is_dir() and any((p / f"{n}.csv").exists() for n in ex.EXPERIMENTS)}


def recipe_names() -> list[str]:
    """The fit recipes by name (read at each tab's construction: the list may grow)."""
    from dipcore.solver import RECIPES

    return list(RECIPES)


class ExperimentsTab(pn.viewable.Viewer):
    """Run or load an experiment sweep and show its table and figures.

    Parameters
    ----------
    queue : FitQueue, optional
        The server's fit queue: a sweep waits there for its turn (None: it runs at once).
    limits : Limits, optional
        The server's limits: a sweep over them is refused with a message (None: no limits).
    **params
        Initial values of the parameters.
    """

    experiment = param.Selector(default="ratios", objects=list(ex.EXPERIMENTS),
                                doc="ratios (paper Fig. 3), ensemble-size (Fig. 5/9), uncertainty (Fig. 6).")
    quick = param.Boolean(default=True, doc="Tiny smoke settings (seconds); off = the full defaults (hours on CPU).")
    recipe = param.Selector(default=None, objects=[], doc="Fit recipe.")
    iters = param.Integer(default=0, bounds=(0, 20000), doc="Iterations per fit (0 = the experiment's default).")
    device = param.Selector(default="auto", objects=["auto", "cpu", "cuda"], doc="Torch device.")
    out_dir = param.String(default="", precedence=-1,
                           doc="Output folder of a run, for scripts (empty: a new temporary folder; not on the page).")
    load_dir = param.String(default=DEFAULT_LOAD_DIR, precedence=-1,
                            doc="Folder written by an earlier run, to load (the page picks from known folders).")
    use_sidebar_sample = param.Boolean(default=True, label="Sweep the sidebar's sample",
                                       doc="Sweep the sample chosen in the sidebar (its time step and crop); off: "
                                           "the experiment's own cases.")
    sample_spec = param.String(default="", precedence=-1, doc="The sidebar's sample as a case spec "
                                                              "('gulfstream:0@0:64,0:128'); empty: none (an upload).")

    running = param.Boolean(default=False, precedence=-1)
    error = param.String(default="", precedence=-1, doc="Last user-facing error (shown in a red alert).")
    status = param.String(default="idle", precedence=-1)
    fraction = param.Number(default=0.0, bounds=(0.0, 1.0), precedence=-1, doc="How much of the sweep is done.")
    result = param.Parameter(default=None, precedence=-1, doc="The ExperimentResult shown (run or loaded).")
    written = param.List(default=[], item_type=str, precedence=-1, doc="Folders this session's sweeps wrote.")

    def __init__(self, queue: FitQueue | None = None, limits: Limits | None = None, **params):
        from dipcore.solver import DEFAULT_RECIPE

        super().__init__(**params)
        names = recipe_names()
        self.param.recipe.objects = names
        if self.recipe not in names:
            self.recipe = DEFAULT_RECIPE if DEFAULT_RECIPE in names else names[0]
        self.session = SweepSession(self, queue=queue, limits=limits)
        self._panel = None
        self.figures: list[Path] = []
        self._widgets()
        self.param.watch(lambda e: self._sync_buttons(), "running")
        self.param.watch(lambda e: self._show_error(), "error")
        self.param.watch(lambda e: setattr(self.status_pane, "object", e.new), "status")
        self.param.watch(lambda e: setattr(self.progress, "value", int(round(100 * e.new))), "fraction")
        self.param.watch(lambda e: self._show(e.new), "result")
        self.param.watch(self._add_folders, "written")

    def _widgets(self) -> None:
        # not "Run"/"Stop": the sidebar's buttons (the fit on the Explore tab) have those names
        self.run_button = pn.widgets.Button(label="Run sweep", color="primary")
        self.stop_button = pn.widgets.Button(label="Stop sweep", color="warning", disabled=True)
        self.load_button = pn.widgets.Button(label="Load results")
        # no path box: the shipped result folders and those this session's sweeps wrote
        folders = shipped_results()
        self.folder_select = pn.widgets.Select(label="Results to load", options=folders,
                                               value=self.load_dir if self.load_dir in folders.values() else None)
        self.folder_select.param.watch(lambda e: e.new and setattr(self, "load_dir", e.new), "value")
        self.run_button.on_click(lambda _e: self.run())
        self.stop_button.on_click(lambda _e: self.stop())
        self.load_button.on_click(lambda _e: self.load())
        self.progress = pn.indicators.Progress(value=0, max=100, sizing_mode="stretch_width", bar_color="info")
        self.status_pane = pn.pane.Markdown(self.status, sizing_mode="stretch_width")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        # a sweep's table has ~17 columns: wider than the page, so it scrolls sideways inside itself with the case
        # and method frozen at the left (they name each row); no index column; compact rows
        compact = [".tabulator { font-size: 12px; }"]
        self.table = pn.widgets.Tabulator(pd.DataFrame(), pagination="local", page_size=15, disabled=True,
                                          show_index=False, frozen_columns=["case", "method"],
                                          sizing_mode="stretch_width", stylesheets=compact)
        self.summary = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                            sizing_mode="stretch_width", stylesheets=compact)
        self.figure_column = pn.Column(sizing_mode="stretch_width")

    # ---- actions (widget callbacks: return at once) ---------------------------------------------------------
    def run(self) -> bool:
        """Start the selected experiment in the background (no-op while one runs; see SweepSession.run)."""
        self.session.attach()  # in a served page: flushed periodically, stopped with the browser session
        return self.session.run()

    def stop(self) -> None:
        """Ask the running sweep to stop at its next fit step."""
        self.session.stop()

    def flush(self) -> None:
        """Move the sweep's newest news onto the tab (the session's periodic callback; safe to call any time)."""
        self.session.flush()

    def close(self) -> None:
        """The browser session ended: stop its sweep (it would otherwise hold a fit slot of the server, and its
        cores, for nobody) and the periodic flush."""
        self.session.close()

    @property
    def job(self) -> Job | None:
        """The running (or last) sweep's job."""
        return self.session.job

    @param.depends("sample_spec", "use_sidebar_sample", watch=True)
    def _idle_status(self) -> None:
        """While idle, say what Run sweep will sweep."""
        if not self.running:
            cases = self.cases()
            self.status = f"idle: Run sweep uses {', '.join(cases) if cases else 'the experiment’s own cases'}"

    def cases(self) -> list[str] | None:
        """The cases to sweep: the sidebar's sample (when chosen and known), else None (the experiment's own)."""
        spec = self.sample_spec.strip()
        return [spec] if self.use_sidebar_sample and spec else None

    def load(self) -> None:
        """Read an existing output folder (CSV + PNG) and show it; errors go to the alert."""
        try:
            res = ex.load_results(self.load_dir.strip())
        except Exception as exc:  # a user-facing message, never a traceback on the page
            self.error = str(exc)
            return
        self.error = ""
        self.result = res
        self.status = f"loaded {res.name} from {res.out}"

    # ---- what the parameters show ---------------------------------------------------------------------------
    def _show(self, res: ex.ExperimentResult | None) -> None:
        if res is None:
            return
        for widget, df in ((self.table, res.table), (self.summary, res.summary)):
            df = df.reset_index(drop=True)
            # scores with three decimals, not six: narrower columns, the same information
            widget.formatters = {c: NumberFormatter(format="0.[000]") for c in df.columns
                                 if pd.api.types.is_float_dtype(df[c])}
            widget.value = df
        self.figures = list(res.figures)
        self.figure_column.objects = [pn.pane.PNG(str(p), sizing_mode="scale_width", max_width=1100)
                                      for p in self.figures]

    def _add_folders(self, event) -> None:
        """This session's own results join the folders it may load."""
        self.folder_select.options = {**self.folder_select.options,
                                      **{f"this session: {Path(out).name}": out for out in event.new}}

    def _show_error(self) -> None:
        self.alert.object = self.error
        self.alert.visible = bool(self.error)

    def _sync_buttons(self) -> None:
        self.run_button.disabled = self.running
        self.stop_button.disabled = not self.running

    def __panel__(self):
        if self._panel is None:
            self.session.attach()
            controls = pn.Param(self.param, parameters=["experiment", "use_sidebar_sample", "quick", "recipe",
                                                        "iters", "device"], show_name=False, width=300)
            # controls and the summary side by side; the wide table and the figures below, at the full width
            self._panel = pn.Column(
                pn.Row(
                    pn.Column("### Experiment sweeps", controls, pn.Row(self.run_button, self.stop_button),
                              self.folder_select, self.load_button, width=320),
                    pn.Column(self.alert, self.status_pane, self.progress, "#### Summary", self.summary,
                              sizing_mode="stretch_width"),
                    sizing_mode="stretch_width"),
                "#### Table (scroll sideways for more columns)", self.table, "#### Figures", self.figure_column,
                sizing_mode="stretch_width")
        return self._panel
