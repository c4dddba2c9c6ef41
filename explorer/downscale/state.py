"""State of the explorer's "Downscale my field (no truth)" tab: plain ``param``, NumPy and xarray, no Bokeh.

The field the user loads (a sample, an upload or a file of the server's ``--data-dir``) *is* the observation.
:class:`DownscaleState` holds the inputs, the loaded field and what the tab shows of a run (``snapshot``,
``misfit``, ``result``, ``status``…), which :class:`explorer.downscale.session.DownscaleSession` writes and the
tab's view (:mod:`explorer.ui.downscale`) watches. There is no truth here, so no error and no score against a
truth: the misfit says how well the estimate reproduces the map it was given, nothing more. A guide map (SST) may be
chosen (:attr:`DownscaleState.guide`, an :class:`explorer.data.guide_choice.GuideChoice`: none, the sample's own SST,
an upload); a run shows it on the fine grid (``guide_map``) and the gate's decision in the choice's status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import param
import xarray as xr

from dipcore.constants import RATIOS
from dipcore.errors import SSHDipError
from dipcore.io import Field
from dipcore.recipes import get_recipe
from dipcore.samples import SAMPLES
from explorer.data.eta import Pace
from explorer.data.guide_choice import GuideChoice
from explorer.data.loading import ChooseVariable, Source, noted
from explorer.data.server_files import DataDir
from explorer.data.state_loading import NO_VARIABLE
from explorer.downscale.worker import misfit_rms

log = logging.getLogger(__name__)

FACTORS = tuple(r for r in RATIOS if r > 1)  # ×1 "downscales" nothing
DEFAULT_SAMPLE = "mediterranean" if "mediterranean" in SAMPLES else next(iter(SAMPLES))


class DownscaleState(param.Parameterized):
    """What the Downscale tab shows and does, for one browser session.

    Parameters
    ----------
    load : bool
        Load the default sample at once (False: nothing until :meth:`load_sample`, :meth:`upload` or
        :meth:`use_field`).
    data_dir : explorer.data.server_files.DataDir, optional
        The server's folder of NetCDF files (default: none), offered by name in :attr:`server_file`.
    """

    sample = param.Selector(default=DEFAULT_SAMPLE, objects=list(SAMPLES), doc="An embedded sample to downscale.")
    server_file = param.Selector(default="", objects=[""],
                                 doc="A NetCDF file of the server's --data-dir, by name ('' = none chosen).")
    time_index = param.Integer(default=0, bounds=(0, None),
                               doc="Time step of the loaded variable (the map downscaled, when it has several).")
    time_steps = param.Integer(default=1, precedence=-1, doc="How many time steps the loaded variable has.")
    factor = param.Selector(default=4, objects=list(FACTORS), doc="How much finer the answer is (per side).")
    members = param.Integer(default=4, bounds=(1, 32), doc="Ensemble members K (K > 1 gives the std).")
    variable = param.Selector(default=None, objects=[], allow_None=True,
                              doc="The file's SSH variable (the box shows when the file has several maps).")
    iters = param.Integer(default=1500, bounds=(0, 20000),
                          doc="Iterations per member, at most (the recipe's own by default: it may stop before, once "
                              "settled); 0 = the recipe's. Fewer for a quick look.")
    recipe = param.String(default="default", precedence=-1, doc="dipcore recipe name.")
    device = param.Selector(default="auto", objects=["auto", "cpu", "cuda"], precedence=-1)
    seed = param.Integer(default=0, precedence=-1)

    field = param.Parameter(default=None, precedence=-1, doc="The loaded coarse field (dipcore.io.Field).")
    source = param.String(default="", precedence=-1, doc="What is loaded, in words (sample or upload name).")
    running = param.Boolean(default=False, precedence=-1)
    status = param.String(default="", precedence=-1)
    error = param.String(default="", precedence=-1, doc="The last user-facing failure ('' when none).")
    notes = param.List(default=[], item_type=str, precedence=-1, doc="Repairs made while loading (SSHDipWarning).")
    frame = param.Integer(default=0, precedence=-1, doc="Bumped whenever estimate/std/misfit change.")
    result = param.Parameter(default=None, precedence=-1, doc="The Dataset of the last finished run.")
    snapshot = param.Parameter(default=None, precedence=-1,
                               doc="The run's newest explorer.downscale.worker.Snapshot (None before one).")
    plan = param.String(default="", precedence=-1, doc="What a run will do and how long it will take (before Run).")
    misfit_note = param.String(default="", precedence=-1, doc="What the misfit curve says, in words.")
    misfit = param.Parameter(default=(np.zeros(0), np.zeros(0)), precedence=-1,
                             doc="(steps, misfit RMS in metres) of the current run.")
    guide_map = param.Parameter(default=None, precedence=-1,
                                doc="The run's guide on the fine grid (np.ndarray, its units; None before one).")

    def __init__(self, load: bool = True, data_dir: DataDir | None = None, **params):
        super().__init__(**params)
        if "iters" not in params:  # the recipe's own count (a cap when it settles), as on the twin's tabs
            self.iters = int(get_recipe(self.recipe).iters)
        self.data_dir = data_dir if data_dir is not None else DataDir()
        self.param.server_file.objects = ["", *self.data_dir.names()]
        self._source: Source | None = None  # what is shown (an upload's bytes live on in it: another time step
        # needs no second upload)
        self._quiet = False  # set while this object writes time_index or server_file itself (no user's choice)
        self._loaded_time = 0  # the time step of the field shown
        self.pending: Source | None = None  # a file waiting for its variable to be chosen (nothing of it shown)
        self.pace = Pace()  # how long a run takes here (rescaled by this session's runs)
        self.guide = GuideChoice()  # the guide map (SST) the runs get: none by default
        self.param.watch(lambda e: self.update_plan(), ["factor", "members", "iters", "field"])
        if load:
            self.load_sample(self.sample)
        else:
            self.status = "load a sample or upload a NetCDF file"

    # ---- loading (widget callbacks: quick) ------------------------------------------------------------------
    @param.depends("sample", watch=True)
    def _sample_chosen(self) -> None:
        self.load_sample(self.sample)

    def load_sample(self, name: str) -> bool:
        """Load sample ``name`` as the observation; on failure the message is shown and the field stays."""
        return self._load(Source.sample(name))

    def upload(self, data: bytes | None, filename: str | None) -> bool:
        """Read uploaded NetCDF bytes as the observation (its first time step; :attr:`time_index` picks another);
        on failure the message is shown and the field stays."""
        return self._load(Source.upload(data, filename))

    @param.depends("server_file", watch=True)
    def _file_chosen(self) -> None:
        if self._quiet or not self.server_file or self.load_file(self.server_file):
            return
        kind, name = self._shown  # it could not be read: the box goes back to what is shown
        with self._quietly():
            self.server_file = name if kind == "file" else ""

    def load_file(self, name: str, time: int | None = None) -> bool:
        """Load file ``name`` of the server's ``--data-dir`` as the observation; on failure the message is shown
        and the field stays."""
        return self._load(Source.server_file(self.data_dir.path, name), time)

    @param.depends("time_index", watch=True)
    def _time_chosen(self) -> None:
        """Another time step of what is shown (a user with years of maps downscales any of them)."""
        if self._quiet:
            return
        if self._shown[0] == "field" or not self._load(self._source, int(self.time_index), self.variable):
            self._set_time(self._loaded_time, self.time_steps)  # the map shown is still the step loaded before

    @param.depends("variable", watch=True)
    def _variable_chosen(self) -> None:
        """Another variable of the file shown, or the one chosen for a file that waits for it."""
        if self._quiet or not self.variable:
            return
        src = self.pending or self._source
        if src is not None and src.kind != "field":
            self._load(src, None if self.pending else int(self.time_index), self.variable)

    def update_plan(self) -> None:
        """What Run will do and how long it will take, for the field and settings now."""
        if self.field is None:
            self.plan = ""
            return
        rec = get_recipe(self.recipe)
        self.plan = self.pace.plan(rec, self.field.shape, int(self.factor), int(self.members),
                                   int(self.iters or rec.iters))

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """This object writes time_index or server_file itself: not a user's choice, so no watcher acts on it."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _set_time(self, t: int, steps: int) -> None:
        with self._quietly():
            self.param.time_index.bounds = (0, max(0, steps - 1))
            self.param.update(time_steps=steps, time_index=int(t))
        self._loaded_time = int(t)

    @property
    def _shown(self) -> tuple[str, str]:
        """(kind, name) of what is shown (:class:`explorer.data.loading.Source`); ("field", "") before any load."""
        return (self._source.kind, self._source.name) if self._source is not None else ("field", "")

    def use_field(self, field: Field, source: str = "an in-memory field") -> bool:
        """An in-memory field (scripts, tests), checked like a file's."""
        return self._load(Source.in_memory(field, source))

    def _load(self, src: Source, time: int | None = None, var: str | None = None) -> bool:
        """Read ``src`` (at ``time`` and ``var``; None: its defaults) and show it; False (and the message, which
        says what is still shown) on failure. A file whose variable must be chosen waits in :attr:`pending`."""
        label = src.label + (f", time step {time}" if time is not None else "")
        notes: list[str] = []
        try:
            with noted(notes):
                f, info, t, line = src.read(var, time)
        except ChooseVariable as exc:  # maps, none named like SSH: the Variable box offers them
            self.pending = src
            with self._quietly():
                self.param.variable.objects = [NO_VARIABLE, *exc.candidates]
                self.variable = NO_VARIABLE
            self.error = f"{exc}.{self._still_shown(src)}"
            return False
        except SSHDipError as exc:  # bad upload, all land…: said on the page; what was loaded stays
            self.error = f"Could not load {label}: {exc}.{self._still_shown(src)}"
            return False
        except Exception as exc:  # an unreadable upload must not end the session
            log.warning("loading %s failed", label, exc_info=True)
            self.error = f"Could not load {label}: {type(exc).__name__}: {exc}.{self._still_shown(src)}"
            return False
        self.pending = None
        with self._quietly():
            self.param.variable.objects = list(info.get("candidates", [info.get("variable")]))
            self.variable = info.get("variable")
        steps = int(info.get("time_steps", 1))
        if steps > 1 and src.kind == "upload":
            notes.append(f"the file has {steps} time steps: step {t} is downscaled (choose another with 'Time step')")
        self._set_time(t, steps)
        self.error, self.notes = "", notes
        self._source = src  # an earlier upload's bytes (up to 14 MB) go with the Source it replaces
        if src.kind != "file" and self.server_file:  # the file box no longer names what is shown
            with self._quietly():
                self.server_file = ""
        stamp = f" ({f.attrs['time']})" if f.attrs.get("time") else ""
        self.source = line + (f"; time step {t} of 0–{steps - 1}{stamp}" if steps > 1 else "")
        self.clear_run()
        self.guide.offer_own(SAMPLES[src.name].guide_spec if src.kind == "sample" else None)
        self.field = f  # a new field voids a run (DownscaleSession follows it)
        h, w = f.shape
        self.status = f"loaded {label}: {h}×{w} cells. Press Downscale to refine it ×{self.factor}."
        return True

    def _still_shown(self, src: Source) -> str:
        """' Still shown: …' after a failed load: what the page (and its download) still hold ('' for none)."""
        if self._source is None or self._source is src or self.field is None:
            return ""
        held = f"; the download holds its ×{self.result.attrs.get('factor', self.factor)} result" \
            if self.result is not None else ""
        step = f", time step {self._loaded_time}" if self.time_steps > 1 else ""
        return f" Still shown: {self._source.label}{step}{held}."

    def clear_run(self) -> None:
        """Nothing of a run on the page (a new field, or a new run starting)."""
        self.snapshot, self.misfit, self.result = None, (np.zeros(0), np.zeros(0)), None
        self.guide_map = None
        self.guide.show(None)
        self.frame += 1

    def upload_guide(self, data: bytes | None, filename: str | None) -> bool:
        """Use uploaded NetCDF bytes as the guide map (SST) of the next runs; on failure the message says why and
        what is still used, and the loaded map and the earlier guide stay."""
        try:
            self.guide.upload(data, filename)
        except SSHDipError as exc:
            self.error = (f"{str(exc).rstrip('.')}. The guide is still {self.guide.label or 'none'}; your map is "
                          "unchanged.")
            return False
        self.error = ""
        return True

    def show_guide(self, report) -> None:
        """A run's :class:`dipcore.guide.GuideReport`: its guide map on the fine grid, and what the gate did."""
        if report is None or report is self.guide.report:
            return
        self.guide.show(report)
        self.guide_map = np.asarray(report.guide.values, np.float32)

    def provenance(self) -> dict:
        """What the NetCDF records as its input: never a path of this server."""
        f, (kind, name) = self.field, self._shown
        what = "server file" if kind == "file" else kind
        p = {"input": f"{what} {name}" if kind != "field" else name, "variable": f.name}
        if self.time_steps > 1:  # the file holds several maps: say which one (the NetCDF's input_file)
            p["input"] += f", time step {int(self.time_index)}"
        if kind == "sample":
            p.update(credit=f.attrs.get("credit", ""), title=SAMPLES[name].title)
        return p

    # ---- results --------------------------------------------------------------------------------------------
    def netcdf_bytes(self) -> bytes:
        """The finished run's Dataset as a NetCDF-4 file (raises SSHDipError before a run has finished)."""
        if self.result is None:
            raise SSHDipError("no finished run to download yet")
        from dipcore.export import netcdf_bytes

        return netcdf_bytes(self.result)

    @property
    def filename(self) -> str:
        """The download's name: what was downscaled and by how much."""
        kind, name = self._shown
        base = name.rsplit(".", 1)[0] if kind in ("upload", "file") else name if kind == "sample" else "field"
        if self.time_steps > 1:
            base += f"_t{int(self.time_index)}"
        factor = self.result.attrs.get("factor", self.factor) if self.result is not None else self.factor
        return f"{base}_x{factor}_downscaled.nc"

    def reference_misfits(self) -> dict[str, float]:
        """Misfit RMS (m) of the classical estimates in the finished result ({} before one)."""
        ds: xr.Dataset | None = self.result
        if ds is None or self.field is None:
            return {}
        obs = np.asarray(self.field.values, np.float32)
        return {k: misfit_rms(ds[k].values, obs, int(ds.attrs.get("factor", self.factor)))
                for k in ("bicubic", "ibp") if k in ds}


__all__ = ["DEFAULT_SAMPLE", "FACTORS", "DownscaleState"]
