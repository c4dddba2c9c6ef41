"""The guide choice of a tab: none, the sample's own SST, or an uploaded guide NetCDF (:class:`GuideChoice`).

A guide is a fine map of another variable (SST) that shares the SSH's fronts and eddies: ``dipcore.guide`` reads it,
puts it on the fit's fine grid and gates it (the fit uses it only where it predicts the coarse map's finest detail
out of sample; refused, the fit is the unguided default exactly). This module holds what the page chose and says,
in the page's words: what is chosen, why a guide file could not be used (no errno, no command-line flags), and what
the gate decided (:func:`gate_words`). Plain ``param``, no UI library: the Explore tab's state
(:mod:`explorer.data.state_guide`) and the Downscale tab's state own one each, and the views follow it.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import param

from dipcore.errors import SSHDipError
from dipcore.io import Field
from explorer.data.loading import check_upload, display_name, page_words

log = logging.getLogger(__name__)

NONE = "none"
OWN = "the sample's own SST"
FILE = "file: "      # + the uploaded file's name: the upload's entry in the choice


def said(exc: Exception) -> str:
    """dipcore's message of ``exc``; anything else (a file that breaks a library) as its type and text, its
    traceback to the server's log, never to the page."""
    if isinstance(exc, SSHDipError):
        return str(exc)
    log.warning("reading a guide failed", exc_info=exc)
    return f"unexpected error: {type(exc).__name__}: {exc}"


def gate_words(report) -> str:
    """What the coherence gate decided, in one line a class can read (``report``: a
    :class:`dipcore.guide.GuideReport`; '' for None)."""
    if report is None:
        return ""
    from dipcore.guide.gate import GATE_R2, MIN_CELLS

    c = report.coherence
    skill = f"{max(c.r2_cv, 0.0):.0%}" if c.r2_cv > 0 else "none"
    detail = f"it predicts {skill} of the coarse map's finest detail"
    if report.used:
        return f"The gate used the guide: {detail} (at least {GATE_R2:.0%} needed)."
    if c.cells < MIN_CELLS:
        why = "the map is too small to test the guide"
    elif c.r2_cv < GATE_R2:
        why = f"{detail}, below the {GATE_R2:.0%} needed"
    else:
        why = f"{detail}, but its link to the SSH changes sign across the map"
    return f"The gate did not use the guide: {why}. The fit ran without it."


class GuideChoice(param.Parameterized):
    """Which guide a tab's runs get (see the module docstring).

    The choice offers :data:`NONE`, :data:`OWN` while the shown sample has a guide of its own
    (:meth:`offer_own`), and ``file: NAME`` once a guide file was uploaded (:meth:`upload`). The guide on a field's
    grid is read once per field (:meth:`on`).
    """

    choice = param.Selector(default=NONE, objects=[NONE], doc="The guide (SST) the runs get: none by default.")
    status = param.String(default="", doc="One line: the guide chosen, then what the gate did with it.")
    report = param.Parameter(default=None, doc="The last run's dipcore.guide.GuideReport (None before one).")

    def __init__(self, **params):
        super().__init__(**params)
        self._own: str | None = None                 # PATH:VAR of the shown sample's own guide
        self._upload: tuple[str, bytes] | None = None  # (display name, bytes) of the uploaded guide
        self._cache: tuple[object, str, object] | None = None  # (field, choice, Guide): read once per field
        self.param.watch(self._chosen, "choice")
        self._chosen()

    # ---- what is offered ----------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True when a guide is chosen."""
        return self.choice != NONE

    @property
    def label(self) -> str | None:
        """The chosen guide's file and variable in a few words (``sqg_twin.nc:sst``); None for none."""
        if self.choice == OWN and self._own:
            path, _, var = self._own.rpartition(":")
            return f"{Path(path).name}:{var}"
        if self.choice.startswith(FILE) and self._upload:
            return self._upload[0]
        return None

    def offer_own(self, spec: str | None) -> None:
        """The shown sample's own guide (``PATH:VAR``; None: it has none, and a choice of it goes back to none)."""
        self._own = spec
        self._offer()

    def _offer(self) -> None:
        objects = [NONE, *([OWN] if self._own else []), *([FILE + self._upload[0]] if self._upload else [])]
        self.param.choice.objects = objects
        if self.choice not in objects:
            self.choice = NONE
        else:
            self._chosen()

    def upload(self, data: bytes | None, filename: str | None, field: Field | None = None) -> None:
        """Take uploaded NetCDF bytes as the guide and choose it, once it reads (and, with ``field``, covers it).

        Raises
        ------
        SSHDipError
            In the page's words; the earlier choice and upload stay as they were.
        """
        name = display_name(filename)
        try:
            data = check_upload(data, name)
            read = self._read(data, field)
        except Exception as exc:  # whatever the file: a message, and the page as it was
            raise SSHDipError(f"Could not use {name} as the guide: {page_words(said(exc), name)}") from exc
        # on the field's grid already: the choice below asks for exactly that, so it is not read a second time
        self._upload = (name, data)
        self._cache = (field, FILE + name, self._named(read, name)) if field is not None else None
        self._offer()
        self.choice = FILE + name

    # ---- reading it ---------------------------------------------------------------------------------------
    def _source(self):
        """What dipcore reads for the choice: ``PATH:VAR`` or the upload's bytes; None for none."""
        if self.choice == OWN:
            return self._own
        if self.choice.startswith(FILE) and self._upload:
            return self._upload[1]
        return None

    def _read(self, source, field: Field | None):
        """``source`` (``PATH:VAR`` or bytes) as read (``field`` None) or on ``field``'s grid."""
        from dipcore.guide import load_guide, load_guide_on, parse_guide_spec

        if field is not None:
            return load_guide_on(source, field.data, field.mask)
        if isinstance(source, str):
            path, var = parse_guide_spec(source)
            return load_guide(path, var=var)
        return load_guide(source)

    def words(self, text: str) -> str:
        """dipcore's ``text`` about the chosen guide in the page's words: its file by name, never a path of the
        server (the sample's own guide) nor a temporary copy (an upload); no command-line flags."""
        name, src = self.label or "the guide", self._source()
        if isinstance(src, str):
            path = src.rpartition(":")[0]
            text = text.replace(path, Path(path).name)
        return page_words(text, name)

    def _failed(self, exc: Exception, what: str) -> SSHDipError:
        """dipcore's message about the chosen guide in the page's words, after ``what`` ("cannot be read")."""
        return SSHDipError(f"The guide {self.label or 'the guide'} {what}: {self.words(said(exc))}")

    def on(self, field: Field):
        """The chosen guide on ``field``'s grid (a :class:`dipcore.guide.Guide`; None for none), read once per field
        and choice.

        Raises
        ------
        SSHDipError
            In the page's words (the guide's file by its name, never a path of the server).
        """
        src = self._source()
        if src is None:
            return None
        if self._cache is not None and self._cache[0] is field and self._cache[1] == self.choice:
            return self._cache[2]
        try:
            guide = self._named(self._read(src, field))
        except Exception as exc:
            raise self._failed(exc, "cannot be used on this field") from exc
        self._cache = (field, self.choice, guide)
        return guide

    def _named(self, guide, label: str | None = None):
        """``guide`` with its file by name (what a result file records): never a path of the server, nor the
        temporary copy of an upload. ``label``: the choice's (default: the current one's)."""
        label = label or self.label or "guide"
        name = label.rpartition(":")[0] or label
        return dataclasses.replace(guide, source=name)

    def on_fine(self, da, factor: int):
        """The chosen guide on the fine grid of a downscaling of the coarse map ``da`` by ``factor`` (a
        :class:`dipcore.guide.Guide`, what ``dipcore.downscale.downscale`` takes as it is); None for none. Put there
        before the run, so that a guide that cannot be used is said before it starts, in the page's words.

        Raises
        ------
        SSHDipError
            In the page's words.
        """
        src = self._source()
        if src is None:
            return None
        import numpy as np

        from dipcore.downscale.finegrid import refine_mask
        from dipcore.downscale.fit import guide_on_fine_grid

        try:
            fine_mask, _ = refine_mask(np.asarray(da.values, np.float32), int(factor), None)  # the fit's own rule
            return self._named(guide_on_fine_grid(self._read(src, None), da, int(factor), fine_mask))
        except Exception as exc:
            raise self._failed(exc, "cannot be used on this map") from exc

    # ---- what the page says -------------------------------------------------------------------------------
    def show(self, report) -> None:
        """A run's :class:`dipcore.guide.GuideReport` (None: no run yet): the status says what the gate did."""
        self.report = report
        self.status = gate_words(report) if report is not None else self._chosen_line()

    def _chosen_line(self) -> str:
        if not self.active:
            return ""
        return (f"Guide: {self.label}. At Run a gate tests it on the coarse map: the fit uses it only if it "
                "predicts the map's finest detail.")

    def _chosen(self, event=None) -> None:
        self.report = None
        self.status = self._chosen_line()


__all__ = ["FILE", "NONE", "OWN", "GuideChoice", "gate_words", "said"]
