"""The explorer's state: what one browser session has chosen and loaded, as a :class:`param.Parameterized`.

Inputs (sample or upload, variable, time step, crop, ratio, noise, members, recipe, architecture…, and the guide
map: ``state.guide``, :mod:`explorer.data.state_guide`), the loaded field and its twin experiment, the display
limits, the classical baselines' scores, and what the page shows of a run (``result``, ``step``, ``progress_text``,
``verdict``…; written by :mod:`explorer.run.fit_session`). Arrays for the page are published on
:attr:`ExplorerState.feed` (:mod:`explorer.data.feed`). No UI library here: the views subscribe
to this state, never the reverse.
"""

from __future__ import annotations

import logging
import traceback

import numpy as np
import param

from dipcore.degrade import LADDER_NAMES, RATIOS
from dipcore.errors import SSHDipError
from dipcore.generators import ARCHITECTURES
from dipcore.io import Field
from dipcore.metrics import rmse, ssim
from dipcore.samples import SAMPLES
from dipcore.style import CM
from dipcore.twin import Twin, make_twin
from explorer.data import cropping
from explorer.data import loading
from explorer.data.feed import Feed
from explorer.data.geometry import Geometry, clims
from explorer.data.server_files import DataDir
from explorer.data.server_limits import Limits
from explorer.data.state_guide import Guiding
from explorer.data.state_loading import Loading

log = logging.getLogger(__name__)

BASELINES = {"Bicubic": "bicubic", "IBP": "ibp"}  # the classical estimates (Twin attributes), as the page names them


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver is "no CUDA"
        return False


class ExplorerState(Loading, Guiding, param.Parameterized):
    """Inputs, loaded field and shown results of one explorer session (see the module docstring).

    Parameters
    ----------
    load : bool
        Load the default sample now.
    limits : Limits, optional
        The server's limits: a larger field is refused at loading; the members and iterations start within them.
    data_dir : DataDir, optional
        The server's folder of NetCDF files (``--data-dir``; default none), offered by name in :attr:`server_file`.
    **params
        Initial values of the parameters.
    """

    # ---- inputs -------------------------------------------------------------------------------------------
    sample = param.Selector(default="gulfstream", objects=list(SAMPLES), doc="Embedded real sample.")
    server_file = param.Selector(default="", objects=[""],
                                 doc="A NetCDF file of the server's --data-dir, by name ('' = none chosen).")
    variable = param.Selector(default=None, objects=[], allow_None=True, doc="SSH variable of the file.")
    time_index = param.Integer(default=0, bounds=(0, None), doc="Time step of a 3-D variable.")
    index_crop = param.String(default="", doc="Index box 'y0 y1 x0 x1' on the loaded grid (empty: all).")
    ratio = param.Selector(default=8, objects={f"×{r}  ({LADDER_NAMES[r]})": r for r in RATIOS},
                           doc="Downscaling ratio: the observation is the truth average-pooled by this factor.")
    noise = param.Number(default=0.0, bounds=(0.0, 1.0), step=0.01,
                         doc="Noise σ as a fraction of the field's std.")
    members = param.Integer(default=4, bounds=(1, 32), doc="Ensemble members K (independent generators).")
    latent_samples = param.Integer(default=0, bounds=(0, 256), doc="Latent draws M at the end (latent std).")
    iters = param.Integer(default=1500, bounds=(1, 20000),
                          doc="Iterations: the recipe's own by default (a cap for a recipe that stops itself).")
    recipe = param.Selector(default=None, objects=[], doc="Fit recipe (dipcore.solver.RECIPES).")
    arch = param.Selector(default="paper", objects=list(ARCHITECTURES),
                          doc="Generator architecture (dipcore.generators.ARCHITECTURES); follows the recipe's.")
    device = param.Selector(default="auto", objects=["auto", "cpu", "cuda"], doc="Torch device.")
    seed = param.Integer(default=0, bounds=(0, None), doc="Seed of the noise draw and of member initialisation.")

    # ---- state --------------------------------------------------------------------------------------------
    field = param.ClassSelector(class_=Field, default=None, precedence=-1, doc="The loaded (cropped) truth.")
    twin = param.ClassSelector(class_=Twin, default=None, precedence=-1)
    error = param.String(default="", precedence=-1, doc="Last user-facing error (shown in a red alert).")
    note = param.String(default="", precedence=-1, doc="What loading the field repaired (dipcore's SSHDipWarning).")
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
    end_reason = param.String(default="", precedence=-1, doc="Why the last run ended (explorer.data.progress).")
    taps = param.Integer(default=0, precedence=-1, doc="Number of taps on the maps (the pixel view appears "
                                                       "with the first).")

    def __init__(self, load: bool = True, limits: Limits | None = None, data_dir: DataDir | None = None,
                 **params):
        from dipcore.solver import DEFAULT_RECIPE, RECIPES, get_recipe

        super().__init__(**params)
        self.limits = limits if limits is not None else Limits()
        self.data_dir = data_dir if data_dir is not None else DataDir()
        self.param.server_file.objects = ["", *self.data_dir.names()]
        # the page opens with settings this server accepts (a Run over a limit is refused with a message)
        self.members = min(self.members, self.limits.max_members)
        self.iters = min(self.iters, self.limits.max_iters)
        names = list(RECIPES)  # read at run time: the recipe list may grow
        self.param.recipe.objects = names
        if self.recipe not in names:
            self.recipe = DEFAULT_RECIPE if DEFAULT_RECIPE in names else names[0]
        if "arch" not in params:
            self.arch = get_recipe(self.recipe).arch
        if "iters" not in params:  # the recipe's own count, as the CLI's (a cap for a recipe that stops itself)
            self.iters = min(int(get_recipe(self.recipe).iters), self.limits.max_iters)
        self.cuda_available = cuda_available()
        self.feed = Feed()                # what the page shows: the views subscribe to it
        self.best: str | None = None      # dipcore.verdict.best_of() of the last run that ended
        self.last: object | None = None   # last Progress shown on the page
        self.run_config: dict = {}        # the settings of the current (or last) run
        self.run_twin: Twin | None = None  # and what it fits
        self.tap: tuple[int, int] | None = None
        self.points: list[tuple[int, int]] = []
        self.geom: Geometry | None = None
        self.coarse_geom: Geometry | None = None
        self.ssh_clim = (np.nan, np.nan)
        self.err_lim = 1.0
        self._scores: tuple | None = None  # (twin, its baselines' scores): see baseline_scores()
        self._busy = False                # guards watchers while the state sets params itself
        self._init_guide()                # state.guide: none, the sample's own SST or an upload (state_guide)
        self.param.watch(self._on_sample, ["sample"])
        self.param.watch(self._on_server_file, ["server_file"])
        self.param.watch(self._on_reload, ["variable", "time_index"])
        self.param.watch(self._on_twin_params, ["ratio", "noise", "seed"])
        self.param.watch(self._on_index_crop, ["index_crop"])
        self.param.watch(self._on_recipe, ["recipe"])
        self.param.watch(self._on_baseline_map, ["baseline_map"])
        if load:
            self.load_sample(self.sample)

    # ---- errors -------------------------------------------------------------------------------------------
    def report(self, exc: Exception) -> None:
        """Show ``exc`` in the error alert: dipcore's own message, or the type and text of an unexpected one
        (whose traceback goes to the log, never to the page)."""
        self.error = str(exc) if isinstance(exc, SSHDipError) else f"unexpected error: {type(exc).__name__}: {exc}"
        if not isinstance(exc, SSHDipError):
            log.error("explorer error\n%s", traceback.format_exc())

    def _set_quietly(self, **values) -> None:
        self._busy = True
        try:
            self.param.update(**values)
        finally:
            self._busy = False

    def crop(self, box: tuple[float, float, float, float] | None = None, *, index: tuple[int, int, int, int] | None
             = None) -> bool:
        """Crop the loaded field: ``box`` = (x0, y0, x1, y1) in map coordinates (a box selection on a map), or
        ``index`` = (y0, y1, x0, x1) on the full loaded grid. On error the field stays as it was."""
        try:
            if self._full is None:
                raise SSHDipError("load a field first")
            f = cropping.cropped(self._full, self.field, self.geom, box=box, index=index)
            twin = make_twin(f, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self.report(exc)
            return False
        self.error = ""
        self.message = f"Cropped to {f.shape[0]}×{f.shape[1]} cells"
        self._set_field(f, twin)
        return True

    def reset_crop(self, *_) -> None:
        if self._full is not None:
            self._set_quietly(index_crop="")
            try:
                twin = make_twin(self._full, self.ratio, self.noise, self.seed)
            except Exception as exc:
                self.report(exc)
                return
            self.error = ""
            self._set_field(self._full, twin)

    def crop_box(self) -> tuple[int, int, int, int] | None:
        """(y0, y1, x0, x1) of the shown field within the loaded one; None when uncropped (or not locatable)."""
        return cropping.position(self._full, self.field, self.index_crop)

    def _set_field(self, f: Field, twin: Twin) -> None:
        """Show a new field (and twin): a run of the previous one is void (the session stops it on ``twin``)."""
        self.field = f
        self.geom = Geometry.of(twin.field)
        self.coarse_geom = self.geom.coarse(twin.degradation.ratio)
        self.ssh_clim, self.err_lim = clims(twin.truth, twin.bicubic)
        self.tap, self.points = None, []
        self.result, self.last = None, None
        self.step = 0
        self.progress_text = "idle: press Run"
        self.verdict = ""
        self.end_reason = ""
        self._push_static(twin)  # data first: the maps rebuilt for the new twin read the feed's data
        self.twin = twin
        self._offer_guide()      # the sample's own guide, and the chosen one on the new grid

    def _push_static(self, t: Twin) -> None:
        send = self.feed.send
        send("truth", t.truth)
        send("obs", t.observation)
        send("bicubic", self.baseline_field(t))
        send("estimate", None)
        send("error", self.baseline_field(t) - t.truth)
        send("change", None)
        send("std", None)
        send("uncertainty", None)
        send("latent", None)
        sc = self.baseline_scores(t)
        send("rmse", (np.array([]), np.array([]), {k: v[0] * CM for k, v in sc.items()}))
        send("ssim", (np.array([]), np.array([]), {k: v[1] for k, v in sc.items()}))
        send("marks", [])
        send("pixel", {})      # no tap on a new field
        send("transect", {})

    # ---- watchers -----------------------------------------------------------------------------------------
    def _on_sample(self, event):
        if self._busy:
            return
        if not self.load_sample(event.new):
            self._set_quietly(sample=event.old)

    def _on_server_file(self, event):
        if self._busy or not event.new:
            return
        if not self.load_server_file(event.new):  # the box goes back to what is shown
            self._set_quietly(server_file=event.old)

    def _on_reload(self, *events):  # variable and time step together when both change (param.update)
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

    def _on_twin_params(self, *events):  # several at once when set together (param.update)
        if self._busy or self.field is None:
            return
        try:
            twin = make_twin(self.field, self.ratio, self.noise, self.seed)
        except Exception as exc:
            self.report(exc)
            self._set_quietly(**{e.name: e.old for e in events})  # the previous, working settings stay
            return
        self.error = ""
        self._set_field(self.field, twin)

    def _on_recipe(self, event):
        """A recipe comes with its own architecture and iteration count: both follow it (and can be changed)."""
        from dipcore.solver import get_recipe

        rec = get_recipe(event.new)
        self.param.update(arch=rec.arch, iters=min(int(rec.iters), self.limits.max_iters))

    def _on_baseline_map(self, event):
        t = self.twin
        if t is None:
            return
        self.feed.send("bicubic", self.baseline_field(t))
        if self.last is None:  # before a run the error map shows the baseline's error
            self.feed.send("error", self.baseline_field(t) - t.truth)

    # ---- baselines, settings, taps ------------------------------------------------------------------------
    def baseline_field(self, t: Twin) -> np.ndarray:
        """The classical estimate the baseline map shows (``baseline_map``: bicubic or IBP), in metres."""
        return getattr(t, self.baseline_map)

    def baseline_scores(self, t: Twin | None = None) -> dict[str, tuple[float, float]]:
        """RMSE (m) and SSIM of the classical baselines, ``{"bicubic": (rmse, ssim), "ibp": (rmse, ssim)}``,
        against the truth of twin ``t`` (default: the run's, else the loaded one); computed once per twin."""
        if t is None:
            t = self.run_twin if self.run_twin is not None else self.twin
        # keyed by the twin object itself (held here): an id() may be reused by a new twin after garbage collection
        if self._scores is None or self._scores[0] is not t:
            self._scores = (t, {k: (rmse(getattr(t, k), t.truth), ssim(getattr(t, k), t.truth))
                                for k in BASELINES.values()})
        return self._scores[1]

    def config(self) -> dict:
        """The settings a Run uses now (what the NetCDF's ``config_*`` attributes record)."""
        kind = self.origin
        return {"sample": self.sample if kind == "sample" else None,
                "file": self._source.name if kind in ("upload", "file") else None,
                "variable": self.shown_variable, "time": self.time_index, "ratio": self.ratio, "noise": self.noise,
                "members": self.members, "latent_samples": self.latent_samples, "iters": self.iters,
                "recipe": self.recipe, "arch": self.arch, "device": self.device, "seed": self.seed,
                "guide": self.guide.label}

    def tap_at(self, x: float | None, y: float | None) -> None:
        """Select the pixel nearest to map point (x, y); the last two taps define the transect. ``taps`` counts
        them (the session follows it to record the tapped cell and refresh the pixel view)."""
        if x is None or y is None or self.geom is None:
            return
        iy, ix = self.geom.index_of(x, y)
        self.tap = (iy, ix)
        self.points = (self.points + [(iy, ix)])[-2:]
        self.feed.send("marks", [self.geom.point_of(*q) for q in self.points])
        self.taps += 1


__all__ = ["BASELINES", "ExplorerState", "cuda_available"]
