"""Reading what a session loads: an embedded sample, an upload, an in-memory field; with dipcore's notes on repairs.

The server only reads: the embedded samples (a fixed list, chosen in a Select), uploads (bytes; ``dipcore.io``
writes them to an anonymous temporary file to read them, never under the name the browser sent), the files of its
``--data-dir`` that :mod:`explorer.data.server_files` lists, and fields given by scripts. No text box of the page takes
a path. A :class:`Source` says which of these a tab shows and reads it again. An upload's name is only shown and
recorded, cleaned first (:func:`display_name`).

:func:`noted` turns the :class:`dipcore.errors.SSHDipWarning` a usable-but-repaired input raises ("3 non-finite
cells treated as missing") into a list of one-line notes the page shows. :func:`page_words` rewrites what dipcore
says for the command line ("name one with --var", "cannot read <upload> as NetCDF (OSError: [Errno -51] …)") in
the page's words, and a file whose SSH variable cannot be told apart raises :class:`ChooseVariable`, which names
the candidates the page then offers in its Variable box.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.io import Field, inspect_file, load_field, open_dataset
from dipcore.samples import get_sample

MAX_UPLOAD_MB = 14        # a FileInput upload travels as one websocket message (Bokeh's default cap is 20 MB,
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024  # and base64 adds a third): bigger files are refused here
NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")  # what the upload boxes accept and --data-dir lists
ACCEPT = ",".join(NETCDF_SUFFIXES)                    # a FileInput's ``accept``
NAME_CHARS = 80           # an upload's name is shown cut to this length
TEMP_COPY = re.compile(re.escape(tempfile.gettempdir()) + r"[/\\][\w.-]+")  # where dipcore.io copies uploads
UNREADABLE = re.compile(r"cannot read .* as NetCDF \(.*\)$", re.S)  # dipcore.io's words for a file it cannot open
# the command line's advice, in the page's words (the page has boxes, not flags)
CLI_WORDS = [(re.compile(r"; name one with --var$"), "; choose the one that is in the Variable box"),
             (re.compile(r"; choose another with --level N"), ""),
             (re.compile(r" \(use 0, or leave --level out\)"), " (use 0)"),
             (re.compile(r"and pass the smaller file"), "and upload the smaller file")]


class ChooseVariable(SSHDipError):
    """The file holds maps but none is named like sea surface height: the user picks one (``candidates``)."""

    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = list(candidates)


def page_words(text: str, name: str) -> str:
    """dipcore's message about file ``name`` in the page's words: the file by its name (never the server's
    temporary copy or ``<upload>``), no errno or library error for a file that is not NetCDF, no command-line
    flags."""
    text = TEMP_COPY.sub(name, text).replace("<upload>", name)
    if UNREADABLE.search(text):
        return f"{name} is not a NetCDF file this page can read (another format, or a file cut short?)"
    for pattern, words in CLI_WORDS:
        text = pattern.sub(words, text)
    return text


def inspected(source, name: str, var: str | None) -> dict:
    """``dipcore.io.inspect_file`` of ``source`` (a path or bytes), in the page's words; a file whose SSH variable
    cannot be found but which holds maps raises :class:`ChooseVariable` with them."""
    try:
        return inspect_file(source, var=var)
    except SSHDipError as exc:
        if var is None and "no sea surface height variable" in str(exc):
            ds, _ = open_dataset(source)
            maps = [n for n, v in ds.data_vars.items() if v.ndim >= 2]
            if maps:
                raise ChooseVariable(f"{name} holds maps, but none is named like sea surface height: choose the "
                                     f"one that is in the Variable box ({', '.join(maps)})", maps) from exc
        raise SSHDipError(page_words(str(exc), name)) from exc


@contextmanager
def noted(notes: list[str]) -> Iterator[list[str]]:
    """Collect the SSHDipWarnings raised inside into ``notes`` (each once); other warnings go on as usual.

    ``warnings.catch_warnings`` swaps process-wide state: fine here because a server's session callbacks (where
    loading happens) run one at a time on its event loop; a warning a fit thread raises meanwhile is re-issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SSHDipWarning)  # the same note again on a reload: say it again
        yield notes
    for w in caught:
        if issubclass(w.category, SSHDipWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def display_name(filename: str | None) -> str:
    """The name an upload is shown and recorded under: the last part of what the browser sent (no folders), only
    letters, digits, '.', '-', '_' and spaces (the rest become '_': the name reaches Markdown on the page), at
    most NAME_CHARS characters."""
    base = re.split(r"[/\\]", str(filename or ""))[-1]
    clean = re.sub(r"[^\w.\- ]", "_", base, flags=re.ASCII).strip(" .")
    return (clean[:NAME_CHARS] or "upload.nc")


def check_upload(data: bytes | None, name: str) -> bytes:
    """The upload's bytes, or a user-facing error when there are none or too many."""
    if data is None or len(data) == 0:
        raise SSHDipError(f"the upload {name!r} is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SSHDipError(f"the upload {name!r} is {len(data) / 2**20:.1f} MB; the limit here is {MAX_UPLOAD_MB} MB: "
                          "crop the region or pick fewer time steps first (e.g. with ncks or xarray)")
    return bytes(data)


def read_sample(name: str, var: str | None = None, time: int | None = None) -> tuple[Field, dict, int, str]:
    """(field, inspect info, time step, source line) of an embedded sample (its own variable and time step
    unless given)."""
    s = get_sample(name)
    info = inspect_file(s.path, var=var or s.var)
    t = s.time if time is None else time
    f = load_field(s.path, var=info["variable"], time=t)
    f.attrs["credit"] = s.credit
    return f, info, t, f"sample {name}: {s.title}. {s.credit}"


def read_upload(data: bytes, name: str, var: str | None = None, time: int = 0) -> tuple[Field, dict, int, str]:
    """(field, inspect info, time step, source line) of uploaded NetCDF bytes (checked by :func:`check_upload`)."""
    data = check_upload(data, name)
    info = inspected(data, name, var)
    try:
        f = load_field(data, var=info["variable"], time=time)
    except SSHDipError as exc:  # the reader's message may name the server's temporary copy: the page gets none
        raise SSHDipError(page_words(str(exc), name)) from exc
    return f, info, time, f"upload {name}: {info['variable']} {info['grid'][0]}×{info['grid'][1]}"


def read_server_file(path, name: str, var: str | None = None, time: int = 0) -> tuple[Field, dict, int, str]:
    """(field, inspect info, time step, source line) of a file of the server's ``--data-dir``
    (:mod:`explorer.data.server_files`), known to the page by its ``name`` only: messages say the name, not the path."""
    try:
        info = inspected(path, name, var)
        f = load_field(path, var=info["variable"], time=time)
    except ChooseVariable as exc:
        raise ChooseVariable(str(exc).replace(str(path), name), exc.candidates) from exc
    except SSHDipError as exc:
        raise SSHDipError(page_words(str(exc).replace(str(path), name), name)) from exc
    return f, info, time, f"server file {name}: {info['variable']} {info['grid'][0]}×{info['grid'][1]}"


def read_field(f: Field, source: str) -> tuple[Field, dict, int, str]:
    """An in-memory field (scripts, benchmarks), checked like a file's."""
    f.check()
    return f, {"candidates": [f.name], "variable": f.name, "time_steps": 1}, 0, source


Reader = Callable[[str | None, int | None], tuple[Field, dict, int, str]]


@dataclass(frozen=True)
class Source:
    """Where a session's field comes from, and how to read it again with another variable or time step.

    Both tabs keep the Source of what they show, so another day of a file needs no new upload and a reload reads
    exactly what the first load read (an upload's kept bytes, a sample, a listed server file).

    Parameters
    ----------
    kind : str
        "sample", "upload", "file" (one of the server's ``--data-dir`` files) or "field" (in memory).
    name : str
        The sample's name, the upload's cleaned name (:func:`display_name`), the server file's listed name, or an
        in-memory field's source line.
    read : callable
        ``read(var, time)`` → (field, inspect info, time step, source line); None: the source's default.
    """

    kind: str
    name: str
    read: Reader = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        """The source in a few words: "sample gulfstream", "upload my.nc", "file 2019.nc"."""
        return self.name if self.kind == "field" else f"{self.kind} {self.name}"

    @classmethod
    def sample(cls, name: str) -> Source:
        return cls("sample", name, lambda v, t: read_sample(name, v, t))

    @classmethod
    def upload(cls, data: bytes | None, filename: str | None) -> Source:
        name = display_name(filename)
        return cls("upload", name, lambda v, t: read_upload(data, name, v, t or 0))

    @classmethod
    def server_file(cls, path_of: Callable[[str], Path], name: str) -> Source:
        """``path_of``: :meth:`explorer.data.server_files.DataDir.path`, asked at every read (it refuses a name the
        folder no longer lists)."""
        return cls("file", name, lambda v, t: read_server_file(path_of(name), name, v, t or 0))

    @classmethod
    def in_memory(cls, f: Field, source: str) -> Source:
        return cls("field", source, lambda v, t: read_field(f, source))


__all__ = ["ACCEPT", "MAX_UPLOAD_BYTES", "NETCDF_SUFFIXES", "MAX_UPLOAD_MB", "ChooseVariable", "Source",
           "check_upload", "display_name", "inspected", "noted", "page_words", "read_field", "read_sample",
           "read_server_file", "read_upload"]
