"""How the explorer's state loads a field: a sample, an upload, a file of the server's ``--data-dir`` or an
in-memory field, and another variable or time step of it (:class:`Loading`, a part of
:class:`explorer.data.state.ExplorerState`).

A load that fails keeps everything the page shows (the field, its crop, its last run) and says so: the message ends
with what is still shown, so that a download under it is never mistaken for the new file's. A file holding maps of
which none is named like sea surface height is kept aside (:attr:`Loading.pending`) while its candidates fill the
Variable box: choosing one loads it.
"""

from __future__ import annotations

from dipcore.io import Field
from dipcore.twin import make_twin
from explorer.data import loading
from explorer.data.loading import ChooseVariable, Source

NO_VARIABLE = ""  # the Variable box's blank entry while a file waits for the user to choose its variable


class Loading:
    """The loading half of :class:`explorer.data.state.ExplorerState` (it needs that class's parameters:
    ``variable``, ``time_index``, ``index_crop``, ``server_file``, ``ratio``, ``noise``, ``seed``, ``source``,
    ``credit``, ``error``, ``note``, ``message``, and its ``limits``, ``data_dir``, ``_set_field``,
    ``_set_quietly`` and ``report``)."""

    _source: Source | None = None    # what is shown (an upload's bytes live on in it)
    _full: Field | None = None       # the loaded field before any crop
    pending: Source | None = None    # a file waiting for its variable to be chosen (nothing of it shown yet)
    _variables: tuple[list, str | None] = ([], None)  # the Variable box of what is shown: (candidates, chosen)

    @property
    def full_field(self) -> Field | None:
        """The loaded field before any crop."""
        return self._full

    @property
    def origin(self) -> str:
        """What the field comes from: "sample", "upload", "file" (the server's --data-dir), "field" (in memory);
        "" before anything loaded."""
        return self._source.kind if self._source is not None else ""

    @property
    def uploaded(self) -> bool:
        """True when the field comes from an uploaded file."""
        return self.origin == "upload"

    @property
    def shown_variable(self) -> str | None:
        """The variable of the field shown (the Variable box may list a waiting file's meanwhile)."""
        return self._variables[1]

    def load_sample(self, name: str) -> bool:
        """Load an embedded sample (all of it); on error keep what was loaded before."""
        return self._load(Source.sample(name))

    def load_upload(self, data: bytes | None, filename: str = "upload.nc") -> bool:
        """Load an uploaded NetCDF (bytes); on error keep what was loaded before (field, crop and settings)."""
        return self._load(Source.upload(data, filename))

    def load_server_file(self, name: str) -> bool:
        """Load file ``name`` of the server's ``--data-dir`` (a name it lists; never a path); on error keep what
        was loaded before."""
        return self._load(Source.server_file(self.data_dir.path, name))

    def load_field_object(self, f: Field, source: str = "array") -> bool:
        """Use an in-memory :class:`dipcore.io.Field` (scripts, benchmarks); on error keep the previous field."""
        return self._load(Source.in_memory(f, source))

    def _failed(self, src: Source, exc: Exception) -> None:
        """Say why ``src`` could not be loaded, and what the page still shows (its downloads are of that)."""
        self.report(exc)
        if self._source is None or self._source is src:
            return
        first = str(exc) if isinstance(exc, ChooseVariable) else f"Could not load {src.label}: {self.error}"
        self.error = (f"{first.rstrip('.')}. Still shown: {self._source.label} (its maps and downloads are "
                      "unchanged).")

    def _read(self, src: Source, var: str | None = None, time: int | None = None) -> tuple | None:
        """``src`` read (at ``var``, ``time``: None for its defaults) → (field, twin, info, time, source line,
        notes) within the limits; None on failure (the error shown; a file whose variable must be chosen waits in
        :attr:`pending`)."""
        notes: list[str] = []
        try:
            with loading.noted(notes):
                f, info, t, source = src.read(var, time)
                self.limits.check_cells(f.shape)  # before the twin: its IBP on a huge grid would hold the server
                twin = make_twin(f, self.ratio, self.noise, self.seed)
        except ChooseVariable as exc:
            self.pending = src
            self._set_quietly(variable=NO_VARIABLE)
            self.param.variable.objects = [NO_VARIABLE, *exc.candidates]
            self._failed(src, exc)
            return None
        except Exception as exc:
            self._forget_pending()
            self._failed(src, exc)
            return None
        return f, twin, info, t, source, notes

    def _forget_pending(self) -> None:
        """No file waits for its variable any more: the Variable box lists what is shown again."""
        if self.pending is None:
            return
        self.pending = None
        names, chosen = self._variables
        self.param.variable.objects = list(names)
        self._set_quietly(variable=chosen)

    def _load(self, src: Source, var: str | None = None) -> bool:
        got = self._read(src, var)
        if got is None:
            return False
        f, twin, info, t, source, notes = got
        self._source, self.pending = src, None  # an upload's bytes live on (another time step needs no upload)
        self._full = f
        listed = src.kind == "file" and src.name in self.param.server_file.objects
        self._set_quietly(variable=None, time_index=0, index_crop="", server_file=src.name if listed else "")
        self.param.variable.objects = list(info["candidates"])
        self.param.time_index.bounds = (0, max(0, info["time_steps"] - 1))
        self._set_quietly(variable=info["variable"], time_index=t)
        self._variables = (list(info["candidates"]), info["variable"])
        self.source = source
        self.credit = str(f.attrs.get("credit", ""))
        self.error = ""
        self.note = "; ".join(notes)
        # the credit has its own line on the page (it stays after a run): not twice
        self.message = f"Loaded {source.replace(self.credit, '').strip()}" if self.credit else f"Loaded {source}"
        self._set_field(f, twin)
        return True

    def _reload(self) -> None:
        """Reload the current source with another variable or time step (a file waiting for its variable: load it
        with the one chosen)."""
        if self.pending is not None:
            if self.variable not in (None, NO_VARIABLE):
                self._load(self.pending, self.variable)
            return
        if self._source is None:
            return
        got = self._read(self._source, self.variable, self.time_index)
        if got is None:
            return
        f, twin, _, _, _, notes = got
        self._full = f
        self._variables = (self._variables[0], self.variable)
        self._set_quietly(index_crop="")
        self.credit = str(f.attrs.get("credit", ""))
        self.error = ""
        self.note = "; ".join(notes)
        self._set_field(f, twin)


__all__ = ["NO_VARIABLE", "Loading"]
