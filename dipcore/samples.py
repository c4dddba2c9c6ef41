"""Registry of the embedded SSH samples shipped under ``assets/``: real crops, and one synthetic twin (``sqg_twin``)
whose SST guide helps. A sample with a guide map (SST) of its own names it in :attr:`Sample.guide`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dipcore.errors import SSHDipError

ASSETS = Path(os.environ.get("SSH_DIP_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


@dataclass(frozen=True)
class Sample:
    """One embedded sample: a file under ``assets/`` and how to read it."""

    name: str
    file: str
    title: str
    credit: str
    var: str | None = None
    time: int = 0
    guide: str | None = None  # its own guide map (SST), ``FILE:VAR`` under ``assets/`` (None: it has none)

    @property
    def path(self) -> Path:
        return ASSETS / self.file

    @property
    def guide_spec(self) -> str | None:
        """The guide's ``PATH:VAR`` (what :func:`dipcore.guide.load_guide_on` reads), None without one."""
        return f"{ASSETS / self.guide}" if self.guide else None


_CMEMS = "Generated using E.U. Copernicus Marine Service Information"
SAMPLES: dict[str, Sample] = {s.name: s for s in [
    Sample("gulfstream", "gulfstream.nc", "Gulf Stream, DUACS ADT 0.25°, 2019-02-23 (128×256)", _CMEMS),
    Sample("kuroshio", "kuroshio.nc", "Kuroshio, DUACS ADT 0.25°, 2019-02-23 (128×256)", _CMEMS),
    Sample("agulhas", "agulhas.nc", "Agulhas, DUACS ADT 0.25°, 2019-02-23 (128×256)", _CMEMS),
    Sample("mediterranean", "mediterranean.nc", "Mediterranean, DUACS ADT 1/8°, 2005 (7 days, 128×344)", _CMEMS),
    Sample("blacksea", "blacksea.nc", "Black Sea, DUACS ADT 1/8°, 2016-07-07 (56×120)", _CMEMS),
    Sample("roms_txla", "roms_txla.nc", "ROMS Texas–Louisiana shelf zeta, 0.5–2.5 km (191×300)",
           "ROMS TXLA output, Hetland group (Texas A&M), via xroms (MIT)", guide="roms_txla_sst.nc:temp"),
    Sample("sqg_twin", "sqg_twin.nc", "Synthetic SQG twin: SSH + SST, 2 km (128×128)",
           "synthetic (ssh-dip, dipcore.synthetic.sqg_pair)", var="ssh", guide="sqg_twin.nc:sst"),
]}


def get_sample(name: str) -> Sample:
    """Return the registered sample ``name`` or raise a user-facing error listing the choices."""
    try:
        return SAMPLES[name]
    except KeyError:
        raise SSHDipError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}") from None


def parse_spec(spec: str) -> tuple[str, int]:
    """``"name[:time]"`` → (sample name, time index): the one parser of sample specifications.

    The time defaults to the sample's own (``Sample.time``).

    Raises
    ------
    SSHDipError
        For an unknown sample, or a time that is not an integer ≥ 0.
    """
    name, _, t = spec.strip().partition(":")
    sample = get_sample(name)
    try:
        time = int(t) if t.strip() else sample.time
    except ValueError:
        raise SSHDipError(f"{spec!r}: the time index after ':' must be an integer") from None
    if time < 0:
        raise SSHDipError(f"{spec!r}: the time index must be ≥ 0")
    return name, time


def load_sample(name: str, **kwargs):
    """Load an embedded sample as a :class:`dipcore.io.Field` (keyword arguments go to ``load_field``)."""
    s = get_sample(name)
    kwargs.setdefault("time", s.time)
    from dipcore.io import load_field

    return load_field(s.path, var=kwargs.pop("var", s.var), **kwargs)
