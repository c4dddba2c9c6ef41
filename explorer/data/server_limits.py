"""What one explorer server lets each session ask for, set when it starts::

    panel serve explorer --args --max-cells 1048576 --max-members 8 --max-iters 2000 --max-concurrent-fits 2

:class:`Limits` is read from the script's arguments (``sys.argv`` while ``explorer/main.py`` runs: Bokeh passes what
follows ``--args``), shown on the page in one line (:meth:`Limits.summary`) and enforced by the session before a fit
starts (:meth:`Limits.check`: a request over a limit is a message on the page, not a crash). The module is named
``server_limits`` and not ``limits``: Bokeh puts ``explorer/`` first on ``sys.path``, and ``limits`` is a library.

Two server settings this module cannot set, because they belong to ``panel serve`` itself: how soon a closed tab's
session is destroyed (``--unused-session-lifetime`` ms, default 15000, checked every ``--check-unused-sessions`` ms,
default 17000; the explorer stops a closed tab's fit itself within ~1 s, see :mod:`explorer.run.lifecycle`) and the
largest websocket message (``--websocket-max-message-size``, default 20 MB: an upload travels base64-encoded in one
message, so a file over ~15 MB closes the connection before the server sees it, whatever ``MAX_UPLOAD_MB`` says).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from dipcore.errors import SSHDipError
from dipcore.io import MAX_CELLS


def cpu_count() -> int:
    """CPU cores this process may use (its affinity mask where the system has one: a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cuda_devices() -> int:
    """Number of CUDA devices torch sees (0 without torch, driver or GPU)."""
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken driver is "no GPU"
        return 0


def default_concurrency(cpus: int | None = None, gpus: int | None = None) -> int:
    """Fits at a time that fit the machine: one per GPU when CUDA is available (two fits on one GPU share its
    memory and each runs at about half speed), else one per two CPU cores (a fit uses the cores of its intra-op
    thread pool; see :meth:`Limits.threads_per_fit`)."""
    gpus = cuda_devices() if gpus is None else gpus
    if gpus > 0:
        return gpus
    return max(1, (cpu_count() if cpus is None else cpus) // 2)


class ScriptArgs(argparse.ArgumentParser):
    """The parser of what follows ``panel serve explorer --args``: argparse that raises instead of printing usage
    and exiting (a session's script must not exit the server), with ``hint`` after argparse's message."""

    def __init__(self, hint: str = ""):
        super().__init__(prog="panel serve explorer --args", add_help=False)
        self.hint = hint

    def error(self, message: str):
        raise SSHDipError(f"explorer arguments: {message}{self.hint}")


@dataclass(frozen=True)
class Limits:
    """Per-session limits of a fit and the server-wide number of fits at a time.

    Parameters
    ----------
    max_cells : int
        Largest field (fine-grid cells) a session may load or fit.
    max_members : int
        Largest ensemble K.
    max_iters : int
        Most iterations of one fit.
    max_concurrent_fits : int
        Fits running at once on this server, all sessions together; the others wait in a FIFO queue
        (:mod:`explorer.run.fitqueue`). Default: :func:`default_concurrency`.
    """

    max_cells: int = MAX_CELLS
    max_members: int = 32
    max_iters: int = 20000
    max_concurrent_fits: int = field(default_factory=default_concurrency)

    def __post_init__(self):
        for name in ("max_cells", "max_members", "max_iters", "max_concurrent_fits"):
            if int(getattr(self, name)) < 1:
                raise SSHDipError(f"--{name.replace('_', '-')} must be at least 1; got {getattr(self, name)}")

    @classmethod
    def from_argv(cls, argv: Sequence[str] | None = None) -> Limits:
        """Limits from the server's script arguments (default ``sys.argv[1:]``); arguments it does not know are
        left alone (other options may follow ``--args``)."""
        import sys

        p = ScriptArgs(" (each --max-… option takes a whole number)")
        p.add_argument("--max-cells", type=int, default=MAX_CELLS)
        p.add_argument("--max-members", type=int, default=cls.max_members)
        p.add_argument("--max-iters", type=int, default=cls.max_iters)
        p.add_argument("--max-concurrent-fits", type=int, default=None)
        ns, _ = p.parse_known_args(sys.argv[1:] if argv is None else list(argv))
        conc = ns.max_concurrent_fits if ns.max_concurrent_fits is not None else default_concurrency()
        return cls(ns.max_cells, ns.max_members, ns.max_iters, conc)

    def threads_per_fit(self, cpus: int | None = None) -> int:
        """Torch intra-op threads for one fit: the cores shared out between the fits that may run at once, so
        that N concurrent fits do not oversubscribe the CPU (N × all cores each would thrash)."""
        return max(1, (cpu_count() if cpus is None else cpus) // self.max_concurrent_fits)

    def summary(self) -> str:
        """One line for the page: what this server allows."""
        n = self.max_concurrent_fits
        return (f"This server: at most {self.max_members} members, {self.max_iters:,} iterations, "
                f"{self.max_cells:,} cells; {n} fit{'s' if n > 1 else ''} at a time (others queue).")

    def check_cells(self, shape: tuple[int, int]) -> None:
        """Refuse a field larger than ``max_cells``."""
        ny, nx = shape
        if ny * nx > self.max_cells:
            raise SSHDipError(f"the field is {ny}×{nx} = {ny * nx:,} cells; this server takes at most "
                              f"{self.max_cells:,}: crop a region first")

    def check(self, members: int, iters: int, shape: tuple[int, int]) -> None:
        """Refuse a fit over a limit, with a message that says which and what to do."""
        if members > self.max_members:
            raise SSHDipError(f"K = {members} members is more than this server allows ({self.max_members}): "
                              "use fewer members")
        if iters > self.max_iters:
            raise SSHDipError(f"{iters:,} iterations is more than this server allows ({self.max_iters:,}): "
                              "use fewer iterations")
        self.check_cells(shape)


__all__ = ["Limits", "ScriptArgs", "cpu_count", "cuda_devices", "default_concurrency"]
