"""The explorer's Experiments tab: run a paper-figure sweep (``dipcore.experiments``) in a background thread,
watch its progress, then read its table and PNG figures; or load an output folder written earlier.

The sweep runs in an :class:`explorer.run.job.Job`, the explorer's one background job (the fit runs in one too):
the worker never touches widgets; it puts the newest progress and its final outcome into the job's latest-wins
slot, and :meth:`ExperimentsTab.flush` (a periodic callback in a served page, called by hand in tests) moves them
to the widgets. Stop asks the job to stop; the sweep polls it between fit steps. The end of the browser session stops
the sweep too (:meth:`ExperimentsTab.close`).

On a shared server a sweep is fits like the sidebar's: it waits for its turn in the server's queue (it holds one slot
for the whole sweep) and must stay within the server's limits. The page takes no path: a sweep writes to a new
temporary folder, and Load reads one of the result folders shipped with the project or written by this session.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import NumberFormatter

from dipcore import experiments as ex
from dipcore.errors import SSHDipError
from explorer.run.fitqueue import FitQueue
from explorer.run.job import Job
from explorer.data.server_limits import Limits
from explorer.ui.ticks import stop_periodic

FLUSH_MS = 300
RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
DEFAULT_LOAD_DIR = str(RESULTS / "ratios")


def shipped_results() -> dict[str, str]:
    """The result folders shipped with the project (``docs/results/*`` holding an experiment's CSV), by name."""
    if not RESULTS.is_dir():
        return {}
    return {p.name: str(p) for p in sorted(RESULTS.iterdir())
            if p.is_dir() and any((p / f"{n}.csv").exists() for n in ex.EXPERIMENTS)}


def _sweep(job: Job, name: str, kwargs: dict) -> None:
    """The worker: run experiment ``name``, putting its progress and then its outcome into ``job``'s slot."""
    def progress(message: str, fraction: float) -> None:
        job.put({"message": message, "fraction": fraction})

    try:
        res = ex.run_experiment(name, on_progress=progress, should_stop=lambda: job.stop_requested, **kwargs)
        outcome = {"result": res}
    except ex.ExperimentCancelled:
        outcome = {"cancelled": True}
    except Exception as exc:
        outcome = {"error": f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)}
    job.put(outcome)


def _recipes() -> list[str]:
    from dipcore.solver import RECIPES

    return list(RECIPES)  # read at construction: the list may grow


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

    def __init__(self, queue: FitQueue | None = None, limits: Limits | None = None, **params):
        from dipcore.solver import DEFAULT_RECIPE

        super().__init__(**params)
        self.queue, self.limits = queue, limits
        names = _recipes()
        self.param.recipe.objects = names
        if self.recipe not in names:
            self.recipe = DEFAULT_RECIPE if DEFAULT_RECIPE in names else names[0]
        # the running (or last) sweep; its slot holds the newest {"message", "fraction"} / {"result"} /
        # {"cancelled"} / {"error"}
        self.job: Job | None = None
        self._periodic = None
        self._panel = None
        self.figures: list[Path] = []
        self.last_result: ex.ExperimentResult | None = None

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
        self.status_pane = pn.pane.Markdown("idle", sizing_mode="stretch_width")
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
    def run(self) -> None:
        """Start the selected experiment in a worker thread (no-op while one runs)."""
        if self.running:
            return
        try:
            self._check_limits()
        except SSHDipError as exc:
            self._set_error(str(exc))
            return
        self._set_error("")
        out = self.out_dir.strip() or tempfile.mkdtemp(prefix=f"ssh-dip-{self.experiment}-")
        cases = self.cases()
        kwargs = dict(quick=self.quick, recipe=self.recipe, iters=self.iters or None, device=self.device,
                      out=out, cases=cases)
        self.running = True
        on = ", ".join(cases) if cases else "its own cases"
        self.status = f"running {self.experiment} ({'quick' if self.quick else 'full'}) on {on} → {out}"
        self.progress.value = 0
        name = self.experiment
        self.job = Job(lambda job: _sweep(job, name, kwargs), name="ssh-dip-experiment", queue=self.queue).start()
        self._sync_buttons()
        self._ensure_periodic()

    def _check_limits(self) -> None:
        """A sweep's fits obey the server's limits like the sidebar's (its iterations and members per fit)."""
        if self.limits is None:
            return
        from dipcore.solver import get_recipe

        d = ex.EXPERIMENTS[self.experiment]["quick" if self.quick else "full"]
        iters, members = self.iters or d.iters or get_recipe(self.recipe).iters, d.members
        if iters > self.limits.max_iters or members > self.limits.max_members:
            raise SSHDipError(f"this sweep's fits take {iters:,} iterations and up to {members} members; this server "
                              f"allows {self.limits.max_iters:,} and {self.limits.max_members}: set fewer "
                              "iterations or tick quick")

    @param.depends("sample_spec", "use_sidebar_sample", watch=True)
    def _idle_status(self) -> None:
        """While idle, say what Run sweep will sweep."""
        if not self.running:
            cases = self.cases()
            self.status = f"idle: Run sweep uses {', '.join(cases) if cases else 'the experiment’s own cases'}"
            self.status_pane.object = self.status

    def cases(self) -> list[str] | None:
        """The cases to sweep: the sidebar's sample (when chosen and known), else None (the experiment's own)."""
        spec = self.sample_spec.strip()
        return [spec] if self.use_sidebar_sample and spec else None

    def stop(self) -> None:
        """Ask the running sweep to stop at its next fit step."""
        if self.job is not None:
            self.job.stop()

    def close(self) -> None:
        """The browser session ended: stop its sweep (it would otherwise hold a fit slot of the server, and its
        cores, for nobody) and the periodic flush."""
        self.stop()
        stop_periodic(self._periodic)

    def load(self) -> None:
        """Read an existing output folder (CSV + PNG) and show it; errors go to the alert."""
        try:
            res = ex.load_results(self.load_dir.strip())
        except Exception as exc:  # a user-facing message, never a traceback on the page
            self._set_error(str(exc))
            return
        self._set_error("")
        self._show(res)
        self.status = f"loaded {res.name} from {res.out}"
        self.status_pane.object = self.status

    def flush(self) -> None:
        """Move the worker's newest news to the widgets (the periodic callback; safe to call any time)."""
        job = self.job
        if job is not None and job.queued and not job.stop_requested:
            self.status_pane.object = f"queued, position {job.position}: waiting for the server's fits to finish"
        slot = job.take() if job is not None else None
        if slot is None:
            if job is not None and job.done and self.running:  # left the queue before its turn: no outcome
                self.status = "stopped"
                self.running = False
                self.status_pane.object = self.status
                self._sync_buttons()
            return
        if "message" in slot:
            self.progress.value = int(round(100 * slot["fraction"]))
            self.status = slot["message"]
        elif "result" in slot:
            self._show(slot["result"])
            self.progress.value = 100
            self.status = f"done: {slot['result'].name}, {len(slot['result'].table)} rows in {slot['result'].out}"
            self.running = False
            out = str(slot["result"].out)  # this session's own results join the folders it may load
            self.folder_select.options = {**self.folder_select.options, f"this session: {Path(out).name}": out}
        elif "cancelled" in slot:
            self.status = "stopped"
            self.running = False
        else:
            self._set_error(slot["error"])
            self.status = "failed"
            self.running = False
        self.status_pane.object = self.status
        self._sync_buttons()

    # ---- helpers --------------------------------------------------------------------------------------------
    def _show(self, res: ex.ExperimentResult) -> None:
        self.last_result = res
        for widget, df in ((self.table, res.table), (self.summary, res.summary)):
            df = df.reset_index(drop=True)
            # scores with three decimals, not six: narrower columns, the same information
            widget.formatters = {c: NumberFormatter(format="0.[000]") for c in df.columns
                                 if pd.api.types.is_float_dtype(df[c])}
            widget.value = df
        self.figures = list(res.figures)
        self.figure_column.objects = [pn.pane.PNG(str(p), sizing_mode="scale_width", max_width=1100)
                                      for p in self.figures]

    def _set_error(self, message: str) -> None:
        self.error = message
        self.alert.object = message
        self.alert.visible = bool(message)

    def _sync_buttons(self) -> None:
        self.run_button.disabled = self.running
        self.stop_button.disabled = not self.running

    def _ensure_periodic(self) -> None:
        if self._periodic is None and pn.state.curdoc is not None:
            self._periodic = pn.state.add_periodic_callback(self.flush, period=FLUSH_MS)
            if pn.state.curdoc.session_context is not None:  # a served page: its end stops the sweep
                pn.state.on_session_destroyed(lambda _ctx: self.close())

    def __panel__(self):
        if self._panel is None:
            self._ensure_periodic()
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
