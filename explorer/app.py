"""The live explorer: one :class:`ExplorerApp` per browser session.

State lives in a :class:`param.Parameterized` (a Panel ``Viewer``); views are built from it. A Run starts the fit
(a ``dipcore.solver`` generator) in a background thread of this session; the thread writes its newest event into a
locked slot ("latest wins") and a periodic callback of the session (:meth:`ExplorerApp.flush`, every ``FLUSH_MS``;
slower for large fields) pushes it to ``hv.streams.Pipe`` objects, all of one update in one document message, and
not before the browser has painted the previous image update (back-pressure, see ``explorer/live.py``). Nothing
here is shared between sessions.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
import time
import traceback
import warnings
from contextlib import nullcontext
from typing import TYPE_CHECKING

import holoviews as hv
import numpy as np
import panel as pn
import param
import torch

from dipcore.degrade import LADDER_NAMES, RATIOS, ladder
from dipcore.errors import SSHDipError
from dipcore.export import netcdf_bytes, result_dataset, summary
from dipcore.generators import ARCHITECTURES
from dipcore.io import Field, inspect_file, load_field
from dipcore.metrics import error_std_correlation, rmse, spread_skill, ssim
from dipcore.samples import SAMPLES, get_sample
from dipcore.twin import Twin, make_twin
from dipcore.uncertainty import fit_stds
from explorer import progress as prog
from explorer import views
from explorer.views import CM, Geometry

if TYPE_CHECKING:
    from dipcore.solver import Recipe

hv.extension("bokeh", logo=False)
pn.extension("tabulator")  # tabulator: for the Experiments tab's tables (extensions load before the page)

log = logging.getLogger(__name__)

# Bokeh warns "reference already known" when a browser event (a tap, a box selection, the paint ack) refers to a
# model the server already has: benign, and Panel and HoloViews silence it the same way in their own code paths
try:
    from bokeh.util.warnings import BokehUserWarning

    warnings.filterwarnings("ignore", category=BokehUserWarning, message="reference already known")
except ImportError:  # pragma: no cover - bokeh always comes with panel
    pass

MAX_UPLOAD_MB = 14        # a FileInput upload travels as one websocket message (Bokeh's default cap is 20 MB,
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # and base64 adds a third): bigger files are refused here
LARGE_CELLS = 1024 * 1024  # from this size maps are rasterised by datashader and pushed at most every LARGE_PERIOD
FLUSH_MS = 100          # periodic flush period (ms): a push waits for the browser's ack of the previous one
LARGE_PERIOD = 0.6
HIST_SNAPSHOTS = 200      # at most this many decimated estimate snapshots per run (per-pixel history)
HIST_SIDE = 256           # snapshots are exact up to this side (the samples), decimated above it
TIE = 0.01                # the network and the best baseline within 1 % RMSE of each other: called level
BASELINES = {"Bicubic": "bicubic", "IBP": "ibp"}  # the classical estimates (Twin attributes), as the page names them


def _cuda() -> bool:
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver is "no CUDA"
        return False


class ExplorerApp(pn.viewable.Viewer):
    """Deep image prior downscaling of SSH, live in the browser: state, worker thread and views of one session."""

    # ---- inputs -------------------------------------------------------------------------------------------
    sample = param.Selector(default="gulfstream", objects=list(SAMPLES), doc="Embedded real sample.")
    variable = param.Selector(default=None, objects=[], allow_None=True, doc="SSH variable of the file.")
    time_index = param.Integer(default=0, bounds=(0, None), doc="Time step of a 3-D variable.")
    index_crop = param.String(default="", doc="Index box 'y0 y1 x0 x1' on the loaded grid (empty: all).")
    ratio = param.Selector(default=8, objects={f"×{r}  ({LADDER_NAMES[r]})": r for r in RATIOS},
                           doc="Downscaling ratio: the observation is the truth average-pooled by this factor.")
    noise = param.Number(default=0.0, bounds=(0.0, 1.0), step=0.01,
                         doc="Noise σ as a fraction of the field's std.")
    members = param.Integer(default=4, bounds=(1, 32), doc="Ensemble members K (independent generators).")
    latent_samples = param.Integer(default=0, bounds=(0, 256), doc="Latent draws M at the end (latent std).")
    iters = param.Integer(default=300, bounds=(1, 20000), doc="Iterations.")
    recipe = param.Selector(default=None, objects=[], doc="Fit recipe (dipcore.solver.RECIPES).")
    arch = param.Selector(default="paper", objects=list(ARCHITECTURES),
                          doc="Generator architecture (dipcore.generators.ARCHITECTURES); follows the recipe's.")
    device = param.Selector(default="auto", objects=["auto", "cpu", "cuda"], doc="Torch device.")
    seed = param.Integer(default=0, bounds=(0, None), doc="Seed of the noise draw and of member initialisation.")

    # ---- state --------------------------------------------------------------------------------------------
    field = param.ClassSelector(class_=Field, default=None, precedence=-1, doc="The loaded (cropped) truth.")
    twin = param.ClassSelector(class_=Twin, default=None, precedence=-1)
    error = param.String(default="", precedence=-1, doc="Last user-facing error (shown in a red alert).")
    message = param.String(default="", precedence=-1, doc="Last info message.")
    running = param.Boolean(default=False, precedence=-1)
    result = param.Parameter(default=None, precedence=-1, doc="The last Progress event of the last run.")
    progress_text = param.String(default="idle", precedence=-1)
    verdict = param.String(default="", precedence=-1, doc="Which estimate won the last run, in one sentence.")
    baseline_map = param.Selector(default="bicubic", objects=BASELINES, precedence=-1,
                                  doc="The classical estimate shown on the baseline map.")
    step = param.Integer(default=0, precedence=-1)
    source = param.String(default="", precedence=-1, doc="Where the field came from.")
    credit = param.String(default="", precedence=-1, doc="The data's credit line (shown whenever they are).")
    end_reason = param.String(default="", precedence=-1, doc="Why the last run ended (explorer.progress).")
    taps = param.Integer(default=0, precedence=-1, doc="Number of taps on the maps (the pixel view appears "
                                                       "with the first).")

    def __init__(self, load: bool = True, **params):
        from dipcore.solver import DEFAULT_RECIPE, RECIPES, get_recipe

        super().__init__(**params)
        names = list(RECIPES)  # read at run time: the recipe list may grow
        self.param.recipe.objects = names
        if self.recipe not in names:
            self.recipe = DEFAULT_RECIPE if DEFAULT_RECIPE in names else names[0]
        if "arch" not in params:
            self.arch = get_recipe(self.recipe).arch
        self.cuda_available = _cuda()
        self.param.device.objects = ["auto", "cpu", "cuda"]
        self._run: _Run | None = None     # the current (or last) fit of this session
        self._ended = None                # the last event of a run that just ended, until flush() publishes it
        self._total: tuple | None = None  # (result, its total std) cached for the Uncertainty tab
        self._scores: tuple | None = None  # (twin, its baselines' scores): see baseline_scores()
        self.best: str | None = None      # best_of() of the last run that ended: "estimate", "ibp", "bicubic", "level"
        self._run_id = 0
        self.last: object | None = None   # last Progress shown on the page
        self.run_config: dict = {}
        self.run_twin: Twin | None = None
        self.tap: tuple[int, int] | None = None
        self.points: list[tuple[int, int]] = []
        self.stats = {"pushes": 0, "push_seconds": 0.0, "first_push": None, "last_push": None}
        self._last_image_push = 0.0
        self._next_push = 0.0
        self._last_pixel_push = 0.0
        self._upload: bytes | None = None
        self._upload_name = ""
        self._full: Field | None = None   # the loaded field before any crop
        self._busy = False                # guards watchers while the app sets params itself
        self._periodic = None
        self._pipes = {k: hv.streams.Pipe(data=None) for k in (
            "truth", "obs", "bicubic", "estimate", "error", "std", "latent", "rmse", "ssim", "pixel",
            "transect", "marks")}
        self.geom: Geometry | None = None
        self.coarse_geom: Geometry | None = None
        self.ssh_clim = (np.nan, np.nan)
        self.err_lim = 1.0
        self._panel = None
        self.param.watch(self._on_sample, ["sample"])
        self.param.watch(self._on_reload, ["variable", "time_index"])
        self.param.watch(self._on_twin_params, ["ratio", "noise", "seed"])
        self.param.watch(self._on_index_crop, ["index_crop"])
        self.param.watch(self._on_recipe, ["recipe"])
        self.param.watch(self._on_baseline_map, ["baseline_map"])
        if load:
            self.load_sample(self.sample)

    # ---- loading ------------------------------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        self.error = str(exc) if isinstance(exc, SSHDipError) else f"unexpected error: {type(exc).__name__}: {exc}"
        if not isinstance(exc, SSHDipError):
            log.error("explorer error\n%s", traceback.format_exc())

    def _set_quietly(self, **values) -> None:
        self._busy = True
        try:
            self.param.update(**values)
        finally:
            self._busy = False

    def load_sample(self, name: str) -> bool:
        """Load an embedded sample (all of it); on error keep what was loaded before."""
        try:
            s = get_sample(name)
            info = inspect_file(s.path, var=s.var)
            t = s.time
            f = load_field(s.path, var=info["variable"], time=t)
            f.attrs["credit"] = s.credit
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            return False
        self._upload = None
        self._adopt(f, twin, info, t, f"sample {name}: {s.title}. {s.credit}")
        return True

    def load_upload(self, data: bytes | None, filename: str = "upload.nc") -> bool:
        """Load an uploaded NetCDF (bytes); on error keep what was loaded before."""
        try:
            if data is None or len(data) == 0:
                raise SSHDipError(f"the upload {filename!r} is empty")
            if len(data) > MAX_UPLOAD_BYTES:
                raise SSHDipError(f"the upload {filename!r} is {len(data) / 2**20:.1f} MB; the limit here is "
                                  f"{MAX_UPLOAD_MB} MB: crop the region or pick fewer time steps first "
                                  "(e.g. with ncks or xarray)")
            info = inspect_file(bytes(data))
            f = load_field(bytes(data), var=info["variable"], time=0)
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            return False
        self._upload, self._upload_name = bytes(data), filename
        self._adopt(f, twin, info, 0, f"upload {filename}: {info['variable']} {info['grid'][0]}×{info['grid'][1]}")
        return True

    def load_field_object(self, f: Field, source: str = "array") -> bool:
        """Use an in-memory :class:`dipcore.io.Field` (scripts, benchmarks); on error keep the previous field."""
        try:
            f.check()
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            return False
        self._upload = None
        info = {"candidates": [f.name], "variable": f.name, "time_steps": 1}
        self._adopt(f, twin, info, 0, source)
        return True

    def _adopt(self, f: Field, twin: Twin, info: dict, t: int, source: str) -> None:
        self.stop()
        self._full = f
        self._set_quietly(variable=None, time_index=0, index_crop="")
        self.param.variable.objects = list(info["candidates"])
        self.param.time_index.bounds = (0, max(0, info["time_steps"] - 1))
        self._set_quietly(variable=info["variable"], time_index=t)
        self.source = source
        self.credit = str(f.attrs.get("credit", ""))
        self.error = ""
        # the credit has its own line on the page (it stays after a run): not twice
        self.message = f"Loaded {source.replace(self.credit, '').strip()}" if self.credit else f"Loaded {source}"
        self._set_field(f, twin)

    def _reload(self) -> None:
        """Reload the current source with another variable or time step."""
        try:
            if self._upload is not None:
                f = load_field(self._upload, var=self.variable, time=self.time_index)
            else:
                s = get_sample(self.sample)
                f = load_field(s.path, var=self.variable, time=self.time_index)
                f.attrs["credit"] = s.credit
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            return
        self.stop()
        self._full = f
        self._set_quietly(index_crop="")
        self.credit = str(f.attrs.get("credit", ""))
        self.error = ""
        self._set_field(f, twin)

    def crop(self, box: tuple[float, float, float, float] | None = None, *, index: tuple[int, int, int, int] | None
             = None) -> bool:
        """Crop the loaded field: ``box`` = (x0, y0, x1, y1) in map coordinates (a box selection on a map), or
        ``index`` = (y0, y1, x0, x1) on the full loaded grid. On error the field stays as it was."""
        try:
            if self._full is None:
                raise SSHDipError("load a field first")
            if index is not None:
                f = self._full.crop_index(*[int(i) for i in index])
            else:
                x0, y0, x1, y1 = box
                g = self.geom
                if g.xlabel.startswith("Longitude"):
                    f = self.field.crop_box(y0, y1, x0, x1)
                else:
                    xs = np.where((g.xs >= min(x0, x1)) & (g.xs <= max(x0, x1)))[0]
                    ys = np.where((g.ys >= min(y0, y1)) & (g.ys <= max(y0, y1)))[0]
                    if xs.size == 0 or ys.size == 0:
                        raise SSHDipError("the selected box contains no grid cell")
                    f = self.field.crop_index(ys[0], ys[-1] + 1, xs[0], xs[-1] + 1)
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            return False
        self.stop()
        self.error = ""
        self.message = f"Cropped to {f.shape[0]}×{f.shape[1]} cells"
        self._set_field(f, twin)
        return True

    def reset_crop(self, *_):
        if self._full is not None:
            self._set_quietly(index_crop="")
            try:
                twin = make_twin(self._full, self.ratio, self.noise, self.seed)
            except Exception as exc:
                self._fail(exc)
                return
            self.stop()
            self.error = ""
            self._set_field(self._full, twin)

    def _set_field(self, f: Field, twin: Twin) -> None:
        self.field = f
        self.geom = Geometry.of(twin.field)
        self.coarse_geom = self.geom.coarse(twin.degradation.ratio)
        self.ssh_clim, self.err_lim = views.clims(twin.truth, twin.bicubic)
        self.tap, self.points = None, []
        self.result, self.last = None, None
        self.step = 0
        self.progress_text = "idle: press Run"
        self.verdict = ""
        self.end_reason = ""
        self._push_static(twin)  # data first: the maps rebuilt for the new twin read the pipes' data
        self.twin = twin

    # ---- watchers -----------------------------------------------------------------------------------------
    def _on_sample(self, event):
        if self._busy:
            return
        if not self.load_sample(event.new):
            self._set_quietly(sample=event.old)

    def _on_reload(self, event):
        if not self._busy:
            self._reload()

    def _on_index_crop(self, event):
        if self._busy or not event.new.strip():
            return
        try:
            idx = [int(v) for v in event.new.replace(",", " ").split()]
            if len(idx) != 4:
                raise ValueError
        except ValueError:
            self.error = f"index crop needs four integers 'y0 y1 x0 x1'; got {event.new!r}"
            return
        self.crop(index=tuple(idx))

    def _on_twin_params(self, event):
        if self._busy or self.field is None:
            return
        try:
            twin = make_twin(self.field, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self._fail(exc)
            self._set_quietly(**{event.name: event.old})  # the previous, working setting stays
            return
        self.stop()
        self.error = ""
        self._set_field(self.field, twin)

    def _on_recipe(self, event):
        """A recipe comes with its own architecture: the architecture choice follows it (and can be changed)."""
        from dipcore.solver import get_recipe

        self.arch = get_recipe(event.new).arch

    def _on_baseline_map(self, event):
        t = self.twin
        if t is None:
            return
        self._pipes["bicubic"].send(self.baseline_field(t))
        if self.last is None:  # before a run the error map shows the baseline's error
            self._pipes["error"].send(self.baseline_field(t) - t.truth)

    def baseline_field(self, t: Twin) -> np.ndarray:
        """The classical estimate the baseline map shows (``baseline_map``: bicubic or IBP), in metres."""
        return getattr(t, self.baseline_map)

    def _on_upload(self, event):
        if event.new is not None:
            self.load_upload(event.new, self._upload_widget.filename or "upload.nc")

    # ---- the fit ------------------------------------------------------------------------------------------
    def config(self) -> dict:
        return {"sample": self.sample if self._upload is None else None,
                "file": self._upload_name if self._upload is not None else None,
                "variable": self.variable, "time": self.time_index, "ratio": self.ratio, "noise": self.noise,
                "members": self.members, "latent_samples": self.latent_samples, "iters": self.iters,
                "recipe": self.recipe, "arch": self.arch, "device": self.device, "seed": self.seed}

    def run(self, *_) -> bool:
        """Start a fit in a background thread of this session (returns at once)."""
        from dipcore.solver import resolve_device

        if self.running:
            return False
        try:
            if self.twin is None:
                raise SSHDipError("load a field first")
            resolve_device(self.device)
            recipe = fit_recipe(self.recipe, self.arch)
        except Exception as exc:
            self._fail(exc)
            return False
        self.error = ""
        self._run_id += 1
        twin, cfg = self.twin, self.config()
        self.run_twin, self.run_config = twin, cfg
        run = _Run(self._run_id, twin, cfg, self.tap, recipe)
        self.result, self.last = None, None
        self.verdict = ""
        self.end_reason = ""
        self.step = 0
        self.progress_text = f"starting {cfg['members']} member(s), {cfg['iters']} iterations…"
        self._run = run
        self.running = True
        run.thread = threading.Thread(target=run.work, daemon=True, name=f"ssh-dip-fit-{id(self)}-{run.id}")
        run.thread.start()
        return True

    @property
    def _thread(self) -> threading.Thread | None:
        return self._run.thread if self._run is not None else None

    def stop(self, *_) -> None:
        """Stop the fit: the page halts at once (next flush) with the last estimate kept; the worker ends
        after the step it is computing, never blocking the page."""
        if self._run is not None:
            self._run.stop.set()
            self.stats["stop_called"] = time.perf_counter()

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the worker and show its end (for scripts and tests). True when the worker has ended. In a browser
        session the session's own periodic flush shows it (this waits for that); without one, this flushes."""
        deadline = time.perf_counter() + timeout
        t = self._thread
        if t is not None:
            t.join(timeout)
        if self._periodic is not None:
            while (self.running or self._ended is not None) and time.perf_counter() < deadline:
                time.sleep(0.02)
        else:
            self.flush()
            self.flush()
        return t is None or not t.is_alive()

    # ---- pushing to the page ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Push the newest snapshot to the page (called every FLUSH_MS by the session; cheap when idle)."""
        live = getattr(self, "_live", None)
        hold = live.hold if live is not None else nullcontext
        t0, pushes = time.perf_counter(), self.stats["pushes"]
        try:
            with hold():  # one document message per update
                self._flush()
            if self._ended is not None:  # a run ended: its result views go in a second message, so that the
                p = self._ended             # "stopped"/"done" text reaches the page without waiting for them
                self.stats["end_shown"] = time.perf_counter()
                try:
                    with hold():
                        self._publish(p)
                finally:  # only now: wait() (another thread) returns once the result is all published
                    self._ended = None
            if self.stats["pushes"] != pushes:  # the cost includes serialising the message (on leaving the hold)
                cost = time.perf_counter() - t0
                self.stats["push_seconds"] += cost
                # keep the session's event loop at most ~half busy with pushes, so Stop and other clicks get in
                self._next_push = time.perf_counter() + cost
        except Exception as exc:  # never let the periodic callback die
            log.error("flush failed\n%s", traceback.format_exc())
            self.error = f"display error: {type(exc).__name__}: {exc}"

    def _flush(self) -> None:
        run = self._run
        if run is None or not self.running:
            return
        now = time.perf_counter()
        large = run.twin.truth.size >= LARGE_CELLS
        stopped = run.stop.is_set()
        live = getattr(self, "_live", None)
        with run.lock:
            p = run.slot
            ended = run.done
            if p is not None and not (p.done or ended or stopped) and (
                    now < self._next_push or (large and now - self._last_image_push < LARGE_PERIOD)
                    or (live is not None and live.busy(now))):
                return  # throttled: the browser is still painting the last update, or large fields at most every
                # LARGE_PERIOD; the loop stays free for clicks
            run.slot = None
            curve = np.array(run.curve, dtype=float).reshape(-1, 3) if p is not None else None
            err, run.error = run.error, None
        if p is not None and run.twin is self.twin and not (stopped and self.last is not None):
            self._show(p, curve)
            if live is not None:
                live.mark_sent()
            self._last_image_push = now
        if err:
            self.error = err
        if ended or stopped:
            self._finish()

    def _show(self, p, curve) -> None:
        twin = self.run_twin
        self.last = p
        self.step = p.step
        self._pipes["estimate"].send(p.estimate)
        self._pipes["error"].send(p.estimate - twin.truth)
        self._pipes["std"].send(p.member_std)
        sc = self.baseline_scores()
        self._pipes["rmse"].send((curve[:, 0], curve[:, 1] * CM, {k: v[0] * CM for k, v in sc.items()}))
        self._pipes["ssim"].send((curve[:, 0], curve[:, 2], {k: v[1] for k, v in sc.items()}))
        rate = self._rate()
        # no ETA from the first (warm-up) steps: it read 1134 s for a 60 s run; speed over recent steps only
        eta = prog.eta_text(p.step, p.iters, rate)
        speed = f"{rate:.2f} it/s · " if np.isfinite(rate) else ""
        self.progress_text = f"step {p.step}/{p.iters} · {speed}{eta + ' · ' if eta else ''}{self._scores_text(p)}"
        self.stats["pushes"] += 1
        t = time.perf_counter()
        self.stats["first_push"] = self.stats["first_push"] or t
        self.stats["last_push"] = t
        if self.tap is not None and (p.done or t - self._last_pixel_push > 0.5):
            self._last_pixel_push = t
            self._push_pixel()

    def _rate(self) -> float:
        """Iterations per second of the current run over its recent steps (explorer.progress.recent_rate)."""
        run = self._run
        if run is None:
            return float("nan")
        with run.lock:
            times = run.times[-(prog.RATE_WINDOW + 1):]
        return prog.recent_rate(times)

    def _finish(self) -> None:
        p = self.last
        self.running = False
        run = self._run
        self.end_reason = prog.end_reason(p, stopped=run is not None and run.stop.is_set(),
                                          failed=bool(self.error))
        if self.run_twin is not self.twin:  # the field changed while the fit ran: its result is void
            self.progress_text = "idle: press Run"
            return
        if p is None:
            self.progress_text = "stopped before the first step"
            return
        self.stats["finished"] = time.perf_counter()
        self.progress_text = prog.end_line(p, self.end_reason, p.iters_per_s, self._scores_text(p))
        self.message = f"Fit {self.end_reason} at step {p.step} after {p.elapsed:.1f} s on {p.device}"
        if p.done and p.selected is not None:  # held-out check: the answer is each member's best step
            steps = ", ".join(str(int(k)) for k in p.selected)
            self.message += (f"; the estimate is each member's output at the step that best predicted the held-out "
                             f"cells (step {steps}), made consistent with all the data")
        self._ended = p  # published by flush() right after this message

    def _publish(self, p) -> None:
        """The result of the run that just ended: the verdict, downloads, latent std map, pixel view, the lazy tabs."""
        sc = self.baseline_scores()
        three = (p.metrics.get("rmse", np.nan) * CM, sc["ibp"][0] * CM, sc["bicubic"][0] * CM)
        self.best = best_of(*three)  # before the text: the verdict's watchers read it
        self.verdict = ("" if p.done else f"Stopped at step {p.step}: ") + verdict(*three)
        self.result = p  # its views are the slowest to redraw
        self._pipes["latent"].send(p.latent_std)
        self._push_pixel()

    def baseline_scores(self, t: Twin | None = None) -> dict[str, tuple[float, float]]:
        """RMSE (m) and SSIM of the classical baselines, ``{"bicubic": (rmse, ssim), "ibp": (rmse, ssim)}``,
        against the truth of twin ``t`` (default: the run's, else the loaded one); computed once per twin."""
        if t is None:
            t = self.run_twin if self.run_twin is not None else self.twin
        # keyed by the twin object itself (held here): an id() may be reused by a new twin after garbage collection
        if self._scores is None or self._scores[0] is not t:
            self._scores = (t, {k: _scores(getattr(t, k), t.truth) for k in BASELINES.values()})
        return self._scores[1]

    def _scores_text(self, p) -> str:
        """'RMSE … cm (bicubic …, IBP …) · SSIM … (bicubic …, IBP …)' of a Progress event."""
        sc = self.baseline_scores()
        (b_rmse, b_ssim), (i_rmse, i_ssim) = sc["bicubic"], sc["ibp"]
        return (f"RMSE {p.metrics.get('rmse', np.nan) * CM:.2f} cm (bicubic {b_rmse * CM:.2f}, IBP {i_rmse * CM:.2f})"
                f" · SSIM {p.metrics.get('ssim', np.nan):.3f} (bicubic {b_ssim:.3f}, IBP {i_ssim:.3f})")

    def _push_static(self, t: Twin) -> None:
        self._pipes["truth"].send(t.truth)
        self._pipes["obs"].send(t.observation)
        self._pipes["bicubic"].send(self.baseline_field(t))
        self._pipes["estimate"].send(None)
        self._pipes["error"].send(self.baseline_field(t) - t.truth)
        self._pipes["std"].send(None)
        self._pipes["latent"].send(None)
        sc = self.baseline_scores(t)
        self._pipes["rmse"].send((np.array([]), np.array([]), {k: v[0] * CM for k, v in sc.items()}))
        self._pipes["ssim"].send((np.array([]), np.array([]), {k: v[1] for k, v in sc.items()}))
        self._pipes["marks"].send([])
        self._push_pixel()

    # ---- per-pixel uncertainty and transects --------------------------------------------------------------
    def total_std(self) -> np.ndarray | None:
        """The last result's members' spread and calibrated sub-grid std in quadrature (dipcore.uncertainty);
        None before a run or when the observation is too small to calibrate it."""
        p, t = self.result, self.run_twin
        if p is None or t is None:
            return None
        if self._total is None or self._total[0] is not p:
            stds = fit_stds(t, p)
            self._total = (p, stds[1] if stds is not None else None)
        return self._total[1]

    def tap_at(self, x: float | None, y: float | None) -> None:
        """Select the pixel nearest to map point (x, y); the last two taps define the transect."""
        if x is None or y is None or self.geom is None:
            return
        iy, ix = self.geom.index_of(x, y)
        self.tap = (iy, ix)
        if self._run is not None:
            self._run.set_tap(self.tap)
        self.points = (self.points + [(iy, ix)])[-2:]
        self.taps += 1
        self._pipes["marks"].send([self.geom.point_of(*q) for q in self.points])
        self._push_pixel()

    def pixel_info(self) -> dict:
        """Everything the pixel view shows for the tapped cell (values in metres)."""
        if self.tap is None or self.twin is None:
            return {}
        iy, ix = self.tap
        t = self.run_twin if (self.run_twin is not None and self.last is not None) else self.twin
        if iy >= t.truth.shape[0] or ix >= t.truth.shape[1]:
            return {}
        x, y = self.geom.point_of(iy, ix)
        where = views.place(x, y, self.geom)
        info = {"where": f"cell [{iy}, {ix}] ({where})", "place": where,
                "truth": float(t.truth[iy, ix]), "bicubic": float(t.bicubic[iy, ix]), "ibp": float(t.ibp[iy, ix])}
        if not np.isfinite(info["truth"]):  # land: nothing to inspect, and the view says so (no empty axes)
            info["land"] = True
            return info
        p = self.last
        if p is not None:
            mem = p.members[:, iy, ix] if p.members is not None else np.array([p.estimate[iy, ix]])
            info.update(members=mem.astype(float), mean=float(p.estimate[iy, ix]),
                        std=float(p.member_std[iy, ix]) if p.member_std is not None else 0.0)
            if p.latent_std is not None:
                info["latent_std"] = float(p.latent_std[iy, ix])
        run = self._run if self.last is not None else None
        hist, trace = run.pixel_history(iy, ix) if run is not None else ([], [])
        if trace:  # exact values since the tap, decimated snapshots before it
            hist = [h for h in hist if h[0] < trace[0][0]] + trace
        if hist and p is not None:
            # the line ends where the title and the member dots are: at the estimate shown (the final one is made
            # consistent with the data, and on fields larger than HIST_SIDE the snapshots hold a nearby cell)
            hist = [h for h in hist if h[0] < p.step] + [(p.step, info["mean"], info["std"])]
            info["hist_exact"] = run is not None and run.stride == 1
        if hist:
            a = np.array(hist, dtype=float)
            info.update(hist_steps=a[:, 0], hist_mean=a[:, 1], hist_std=a[:, 2])
        return info

    def transect_info(self) -> dict:
        """Truth, bicubic, IBP and estimate ± std along the line between the last two taps."""
        if len(self.points) < 2 or self.twin is None:
            return {}
        t = self.run_twin if (self.run_twin is not None and self.last is not None) else self.twin
        iy, ix = views.transect_samples(*self.points)
        ny, nx = t.truth.shape
        ok = (iy < ny) & (ix < nx)
        iy, ix = iy[ok], ix[ok]
        sp = t.field.spacing_km
        if sp:
            d = np.concatenate([[0], np.cumsum(np.hypot(np.diff(iy) * sp[0], np.diff(ix) * sp[1]))])
            xl, xu = "distance along the line", "km"
        else:
            d, xl, xu = np.arange(iy.size, dtype=float), "cell along the line", None
        p = self.last
        info = {"distance": d, "xlabel": xl, "xunit": xu, "truth": t.truth[iy, ix], "bicubic": t.bicubic[iy, ix],
                "ibp": t.ibp[iy, ix],
                "title": f"Transect from cell {tuple(self.points[0])} to {tuple(self.points[1])}"}
        if p is not None:
            info["estimate"] = p.estimate[iy, ix]
            if p.member_std is not None:
                info["std"] = p.member_std[iy, ix]
        return info

    def _push_pixel(self) -> None:
        self._pipes["pixel"].send(self.pixel_info())
        self._pipes["transect"].send(self.transect_info())

    # ---- results ------------------------------------------------------------------------------------------
    def netcdf(self) -> bytes:
        """The result as CF NetCDF bytes (the CLI's schema)."""
        if self.result is None:
            raise SSHDipError("run a fit first: there is no result to download yet")
        cfg = self.result_config()
        ds = result_dataset(self.run_twin, self.result, cfg)
        return netcdf_bytes(ds)

    def result_config(self) -> dict:
        """The run's settings plus how it ended (``last_step``, ``end_reason``, ``estimate_steps``): a stopped
        run's file must not read like a finished one (``config_iters=300`` from an estimate of step 45)."""
        cfg = dict(self.run_config)
        if self.result is not None:
            cfg.update(prog.end_config(self.result, self.end_reason or prog.end_reason(self.result, False)))
        return cfg

    def summary(self) -> dict:
        """The CLI's summary of the last result (scores of the estimate, IBP and bicubic; ``best``; ``arch``)."""
        if self.result is None:
            return {}
        out = summary(self.run_twin, self.result, self.result_config())
        out["arch"] = self.run_config.get("arch", out.get("arch"))  # the one chosen here, not the recipe's own
        return out

    def png(self) -> bytes:
        """The maps as a PNG figure (matplotlib)."""
        t = self.run_twin or self.twin
        p = self.result or self.last
        errors = [("Bicubic − truth", t.bicubic - t.truth, "error"), ("IBP − truth", t.ibp - t.truth, "error")]
        if p is None:
            panels = [("Truth", t.truth, "ssh"), ("Bicubic", t.bicubic, "ssh"), ("IBP", t.ibp, "ssh")] + errors
        else:  # rows of three: the estimates, their errors, the truth and the spreads
            panels = [("Bicubic", t.bicubic, "ssh"), ("IBP", t.ibp, "ssh"), ("DIP estimate", p.estimate, "ssh"),
                      *errors, ("DIP − truth", p.estimate - t.truth, "error"), ("Truth", t.truth, "ssh"),
                      ("Ensemble std", p.member_std, "std"), ("Latent std", p.latent_std, "std")]
        r = t.degradation.ratio
        title = f"{self.source} · ×{r}"
        if p is not None:
            sc = self.baseline_scores(t)
            title += (f" · RMSE DIP {p.metrics.get('rmse', np.nan) * CM:.2f} cm vs IBP {sc['ibp'][0] * CM:.2f} cm "
                      f"vs bicubic {sc['bicubic'][0] * CM:.2f} cm")
            if self.result is p and self.end_reason:
                title += f" · DIP {self.end_reason} at step {p.step}/{p.iters}"
        return views.figure_png(panels, Geometry.of(t.field), self.ssh_clim, self.err_lim, title)

    def _download(self, make) -> io.BytesIO | None:
        """A download button's callback: the bytes ``make()`` builds, or the error shown on the page."""
        try:
            return io.BytesIO(make())
        except Exception as exc:
            self._fail(exc)
            return None

    def _download_nc(self):
        return self._download(self.netcdf)

    def _download_png(self):
        return self._download(self.png)

    # ---- session wiring -----------------------------------------------------------------------------------
    def attach_session(self) -> "ExplorerApp":
        """Register the periodic flush and stop the fit when the browser session ends (call inside a session)."""
        if self._periodic is None and pn.state.curdoc is not None:
            self._periodic = pn.state.add_periodic_callback(self.flush, period=FLUSH_MS)
            pn.state.on_session_destroyed(self._on_destroyed)
        return self

    def _on_destroyed(self, session_context) -> None:
        self.stop()
        if self._periodic is not None:
            try:
                self._periodic.stop()
            except Exception:
                pass

    def __panel__(self):
        if self._panel is None:
            from explorer.layout import build_layout

            self._panel = build_layout(self)
        return self._panel


def _scores(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(RMSE in metres, SSIM) of ``estimate`` against ``truth``."""
    return rmse(estimate, truth), ssim(estimate, truth)


def fit_recipe(recipe: str, arch: str | None = None) -> str | Recipe:
    """What the app hands to ``dipcore.solver.fit``: the recipe's name, or, when ``arch`` is not the recipe's own
    architecture, a copy of the recipe with that architecture (its ``arch_opts`` dropped: they are keyword
    arguments of the recipe's own architecture)."""
    from dipcore.solver import get_recipe

    rec = get_recipe(recipe)
    if arch is None or arch == rec.arch:
        return recipe
    if arch not in ARCHITECTURES:
        raise SSHDipError(f"unknown architecture {arch!r}; choose one of: {', '.join(ARCHITECTURES)}")
    return dataclasses.replace(rec, arch=arch, arch_opts=())


def best_of(dip: float, ibp: float, bicubic: float) -> str:
    """``"estimate"``, ``"ibp"`` or ``"bicubic"``: the lowest RMSE (NaN never wins), ``"level"`` when the network
    and the better baseline are within ``TIE`` of each other."""
    scores = {k: (v if np.isfinite(v) else np.inf) for k, v in (("estimate", dip), ("ibp", ibp), ("bicubic", bicubic))}
    base = min(scores["ibp"], scores["bicubic"])
    if np.isfinite(base) and np.isfinite(scores["estimate"]) and abs(scores["estimate"] - base) <= TIE * base:
        return "level"
    return min(scores, key=scores.get)


def verdict(dip: float, ibp: float, bicubic: float) -> str:
    """One plain sentence on which estimate is better on this run, from the three RMSEs (cm)."""
    head = f"RMSE: DIP {dip:.2f} cm vs IBP {ibp:.2f} cm vs bicubic {bicubic:.2f} cm: "
    best = best_of(dip, ibp, bicubic)
    if best == "estimate":
        return head + "the network beats IBP and bicubic."
    base = "IBP" if ibp <= bicubic else "bicubic"
    if best == "level":
        return head + f"the network is level with {base} (within {TIE:.0%}): it adds nothing the classical " \
                      "method does not give here."
    tail = "; the network still beats bicubic." if best == "ibp" and dip < bicubic else "."
    return head + f"{base} (no network) is better than the network here{tail}"


def ladder_images(app: ExplorerApp) -> hv.Layout:
    """The truth at the six resolutions R03…R96 (paper Fig. 2), same colour scale."""
    t = app.twin
    g = Geometry.of(t.field)
    ims = []
    for r, arr in ladder(t.truth).items():
        ny, nx = arr.shape
        sub = Geometry(g.xs[:nx * r], g.ys[:ny * r], g.xlabel, g.ylabel, g.dx_km).coarse(r)
        km = f", {g.dx_km * r:.0f} km" if g.dx_km else ""
        ims.append(views.image(arr, sub, f"{LADDER_NAMES[r]} (×{r}{km}, {ny}×{nx})", "SSH",
                               clim=app.ssh_clim).opts(width=330, height=200, tools=["hover"]))
    return hv.Layout(ims).cols(3)


def comparison_images(app: ExplorerApp) -> hv.Layout:
    """At the chosen ratio, three rows of three: truth, observation and a score table; bicubic, IBP and DIP; their
    errors. Scores are in the titles too."""
    t = app.run_twin if (app.result is not None and app.run_twin is not None) else app.twin
    g = Geometry.of(t.field)
    r = t.degradation.ratio
    o = dict(width=330, height=200, tools=["hover"])
    err = (-app.err_lim, app.err_lim)
    p = app.result
    rows = [("Bicubic", t.bicubic), ("IBP", t.ibp)] + ([("DIP", p.estimate)] if p is not None else [])
    base = app.baseline_scores(t)
    scores = {"Bicubic": base["bicubic"], "IBP": base["ibp"], **({"DIP": _scores(p.estimate, t.truth)} if p else {})}
    table = hv.Table([(name, round(e * CM, 2), round(s, 3)) for name, (e, s) in scores.items()],
                     kdims=["estimate"], vdims=["RMSE (cm)", "SSIM"]).opts(title="Scores against the truth",
                                                                            width=o["width"], height=o["height"])
    ims = [views.image(t.truth, g, "Truth", "SSH", clim=app.ssh_clim).opts(**o),
           views.image(t.observation, g.coarse(r), f"Observation ×{r}", "SSH", clim=app.ssh_clim).opts(**o), table]
    ims += [views.image(arr, g, f"{name}: RMSE {scores[name][0] * CM:.2f} cm, SSIM {scores[name][1]:.3f}", "SSH",
                        clim=app.ssh_clim).opts(**o) for name, arr in rows]
    if p is None:  # keep the columns aligned: the DIP panel waits for a run
        ims.append(hv.Div("<p><b>DIP</b>: press Run for the network's estimate.</p>").opts(width=330, height=200))
    ims += [views.image(arr - t.truth, g, f"{name} − truth", "error", clim=err).opts(**o) for name, arr in rows]
    return hv.Layout(ims).cols(3)


def uncertainty_text(app: ExplorerApp) -> str:
    p, t = app.result, app.run_twin
    if p is None:
        return "Run a fit to compare its uncertainty with the actual error."
    lines = []
    if p.member_std is not None:
        c = error_std_correlation(p.member_std, p.estimate, t.truth)
        ss = spread_skill(p.member_std, p.estimate, t.truth)
        txt = (f"Ensemble std: **corr(|error|, std) = {c:.2f}** · **spread/skill = {ss:.2f}** "
               "(√mean variance / RMSE; 1 = calibrated, < 1 = over-confident)")
        if p.latent_std is not None:
            txt += f" · corr(|error|, latent std) = {error_std_correlation(p.latent_std, p.estimate, t.truth):.2f}"
        lines.append(txt)
    else:
        lines.append("Run a fit with K > 1 members to see the ensemble spread against the error.")
    tot = app.total_std()
    if tot is not None:
        lines.append(f"Total std (members and the sub-grid error no member sees, calibrated on the observation "
                     f"itself): **corr = {error_std_correlation(tot, p.estimate, t.truth):.2f}** · "
                     f"**spread/skill = {spread_skill(tot, p.estimate, t.truth):.2f}**")
    return "\n\n".join(lines)


class _Run:
    """One fit of one session: its worker thread and the slot it writes to (guarded by ``lock``)."""

    def __init__(self, run_id: int, twin: Twin, cfg: dict, tap: tuple[int, int] | None, recipe=None):
        self.id, self.twin, self.cfg = run_id, twin, cfg
        self.recipe = cfg["recipe"] if recipe is None else recipe  # a name, or a Recipe (another architecture)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.slot = None                  # newest Progress not yet shown ("latest wins")
        self.curve: list[tuple[int, float, float]] = []
        self.times: list[tuple[int, float]] = []   # (step, elapsed s): the recent speed and the ETA
        self.hist: list[tuple[int, np.ndarray, np.ndarray | None]] = []   # decimated snapshots
        h, w = twin.truth.shape
        self.stride = max(1, int(np.ceil(max(h, w) / HIST_SIDE)))
        self.tap = tap
        self.trace: list[tuple[int, float, float]] = []  # exact values at the tapped pixel since the tap
        self.error: str | None = None
        self.done = False
        self.events = 0

    def set_tap(self, tap) -> None:
        with self.lock:
            self.tap, self.trace = tap, []

    def pixel_history(self, iy: int, ix: int):
        s = self.stride
        with self.lock:
            hist = [(st, e[iy // s, ix // s], 0.0 if d is None else d[iy // s, ix // s]) for st, e, d in self.hist]
            trace = list(self.trace) if self.tap == (iy, ix) else []
        return hist, trace

    def work(self) -> None:
        from dipcore.solver import fit

        twin, cfg, s = self.twin, self.cfg, self.stride
        every_hist = max(1, cfg["iters"] // HIST_SNAPSHOTS)
        gen = None
        try:
            gen = fit(twin.observation, twin.degradation, self.recipe, members=cfg["members"],
                      latent_samples=cfg["latent_samples"], iters=cfg["iters"], seed=cfg["seed"],
                      device=cfg["device"], every=1, truth=twin.truth, dx_km=twin.dx_km, keep_members=True)
            for p in gen:
                m = p.metrics
                with self.lock:
                    self.slot = p
                    self.events += 1
                    self.curve.append((p.step, m.get("rmse", np.nan), m.get("ssim", np.nan)))
                    self.times.append((p.step, p.elapsed))
                    if p.step % every_hist == 0 or p.step == 1 or p.done:
                        sd = p.member_std[::s, ::s].copy() if p.member_std is not None else None
                        self.hist.append((p.step, p.estimate[::s, ::s].copy(), sd))
                    if self.tap is not None:
                        iy, ix = self.tap
                        self.trace.append((p.step, float(p.estimate[iy, ix]),
                                           float(p.member_std[iy, ix]) if p.member_std is not None else 0.0))
                if self.stop.is_set():
                    break
        except SSHDipError as exc:
            self.error = str(exc)
        except torch.cuda.OutOfMemoryError:
            self.error = "out of GPU memory: use fewer members, a smaller region or the CPU"
        except Exception as exc:  # any failure of the worker is shown on the page; the session lives on
            log.error("fit worker failed\n%s", traceback.format_exc())
            self.error = f"the fit failed: {type(exc).__name__}: {exc}"
        finally:
            if gen is not None:
                gen.close()
            with self.lock:
                self.done = True


__all__ = ["ExplorerApp", "MAX_UPLOAD_MB", "best_of", "comparison_images", "fit_recipe", "ladder_images",
           "uncertainty_text", "verdict"]
