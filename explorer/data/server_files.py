"""NetCDF files a server offers from a folder of its own, named when it starts::

    panel serve explorer --args --data-dir /srv/ssh-maps

Someone who runs the explorer next to their data (years of daily maps, files larger than an upload may be) puts
them in one folder; the sidebar (a truth to score against) and the Downscale tab (the coarse map itself) then list
them by name beside the embedded samples. The page never sends a path: it picks one of the names
:meth:`DataDir.names` listed, and :meth:`DataDir.path` refuses any other, so no session can read outside the folder
(names starting with a dot, sub-folders and links leading out of the folder are not listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dipcore.errors import SSHDipError
from explorer.data.loading import NETCDF_SUFFIXES
from explorer.data.server_limits import ScriptArgs


@dataclass(frozen=True)
class DataDir:
    """The server's folder of NetCDF files (``folder`` None: there is none, and nothing is listed).

    Parameters
    ----------
    folder : pathlib.Path, optional
        An existing folder, resolved (absolute, links followed).
    """

    folder: Path | None = None

    @classmethod
    def from_argv(cls, argv: Sequence[str] | None = None) -> DataDir:
        """The ``--data-dir`` of the server's script arguments (default ``sys.argv[1:]``; other arguments are left
        to their readers). Raises SSHDipError when it names no folder."""
        import sys

        p = ScriptArgs()
        p.add_argument("--data-dir", default=None)
        ns, _ = p.parse_known_args(sys.argv[1:] if argv is None else list(argv))
        if ns.data_dir is None:
            return cls()
        folder = Path(ns.data_dir).expanduser()
        if not folder.is_dir():
            raise SSHDipError(f"--data-dir {ns.data_dir}: no such folder on this server")
        return cls(folder.resolve())

    def names(self) -> list[str]:
        """The NetCDF files directly in the folder, sorted by name (re-read at each call: files added while the
        server runs appear in the next session)."""
        if self.folder is None:
            return []
        out = []
        try:
            entries = sorted(self.folder.iterdir())
        except OSError:  # the folder went away or became unreadable: offer nothing rather than fail the page
            return []
        for p in entries:
            if p.name.startswith(".") or p.suffix.lower() not in NETCDF_SUFFIXES:
                continue
            try:
                real = p.resolve(strict=True)
            except OSError:  # a broken link
                continue
            if real.is_file() and real.is_relative_to(self.folder):
                out.append(p.name)
        return out

    def path(self, name: str) -> Path:
        """The path of the listed file ``name``; SSHDipError for any name :meth:`names` does not list."""
        if name not in self.names():
            raise SSHDipError(f"{name!r} is not one of the files this server offers")
        return self.folder / name


__all__ = ["DataDir"]
