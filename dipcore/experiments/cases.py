"""Cases of an experiment: ``sample[:time][@y0:y1,x0:x1]`` or ``path[:time][@y0:y1,x0:x1]``, parsed into a
:class:`Case`; ``…:START:STOP`` (STOP excluded) stands for one case per time index (:func:`expand_cases`), so a
sweep over a year of daily maps is one argument: ``ssh_2019.nc:0:365@0:128,0:256``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES, parse_spec

if TYPE_CHECKING:  # xarray is loaded when a case is, not when one is parsed
    from dipcore.io import Field


@dataclass(frozen=True)
class Case:
    """One snapshot to degrade: a sample name or a file, a time index and an optional index crop."""

    spec: str
    source: str
    time: int = 0
    index_crop: tuple[int, int, int, int] | None = None

    def load(self) -> Field:
        """Load the field (metres, NaN on land)."""
        from dipcore.io import load_field
        from dipcore.samples import load_sample

        kw = {"time": self.time, "index_crop": self.index_crop}
        if self.source in SAMPLES and not Path(self.source).exists():
            return load_sample(self.source, **kw)
        return load_field(self.source, **kw)


def parse_case(spec: str) -> Case:
    """Parse ``sample[:time][@y0:y1,x0:x1]`` or ``path[:time][@y0:y1,x0:x1]``.

    The ``sample[:time]`` part is read by :func:`dipcore.samples.parse_spec` (the one parser of sample specs).

    Raises
    ------
    SSHDipError
        For an unknown sample, a missing file, or a malformed time or crop.
    """
    text = spec.strip()
    if not text:
        raise SSHDipError("empty case specification")
    crop = None
    if "@" in text:
        text, box = text.split("@", 1)
        try:
            ys, xs = box.split(",")
            y0, y1 = (int(v) for v in ys.split(":"))
            x0, x1 = (int(v) for v in xs.split(":"))
        except ValueError:
            raise SSHDipError(f"case {spec!r}: the crop must read @y0:y1,x0:x1 (integers)") from None
        crop = (y0, y1, x0, x1)
    if Path(text).exists():
        return Case(spec, text, 0, crop)
    head, _, t = text.rpartition(":")
    if head and head not in SAMPLES and Path(head).exists():  # path:time (a path may hold ':' itself)
        if not t.strip().isdigit():
            raise SSHDipError(f"case {spec!r}: the time index after ':' must be an integer ≥ 0")
        return Case(spec, head, int(t), crop)
    if text.partition(":")[0] not in SAMPLES:
        raise SSHDipError(f"case {spec!r} is neither an existing file nor a sample (samples: {', '.join(SAMPLES)})")
    try:
        name, time_index = parse_spec(text)
    except SSHDipError as exc:  # a malformed or negative time: say which case
        raise SSHDipError(f"case {exc}") from None
    return Case(spec, name, time_index, crop)


_RANGE = re.compile(r"^(?P<head>.+):(?P<start>\d+):(?P<stop>\d+)$")


def expand_cases(specs: Sequence[str]) -> list[str]:
    """Expand every ``sample:START:STOP[@crop]`` or ``path:START:STOP[@crop]`` into one case per time index
    START … STOP-1 (a Python slice, as ``ssh-dip downscale --times``); other specifications are kept as they are.

    >>> expand_cases(["mediterranean:0:3@0:64,0:64", "gulfstream"])
    ['mediterranean:0@0:64,0:64', 'mediterranean:1@0:64,0:64', 'mediterranean:2@0:64,0:64', 'gulfstream']

    Raises
    ------
    SSHDipError
        For an empty range (STOP ≤ START).
    """
    out: list[str] = []
    for spec in specs:
        text, at, box = spec.strip().partition("@")
        m = _RANGE.match(text)
        if m is None or Path(text).exists():
            out.append(spec)
            continue
        start, stop = int(m["start"]), int(m["stop"])
        if stop <= start:
            raise SSHDipError(f"case {spec!r}: the time range START:STOP needs STOP > START")
        out.extend(f"{m['head']}:{t}{at}{box}" for t in range(start, stop))
    return out


__all__ = ["Case", "expand_cases", "parse_case"]
