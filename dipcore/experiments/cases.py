"""Cases of an experiment: ``sample[:time][@y0:y1,x0:x1]`` or ``path[@y0:y1,x0:x1]``, parsed into a :class:`Case`."""

from __future__ import annotations

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
    """Parse ``sample[:time][@y0:y1,x0:x1]`` or ``path[@y0:y1,x0:x1]``.

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
    if text.partition(":")[0] not in SAMPLES:
        raise SSHDipError(f"case {spec!r} is neither an existing file nor a sample (samples: {', '.join(SAMPLES)})")
    try:
        name, time_index = parse_spec(text)
    except SSHDipError as exc:  # a malformed or negative time: say which case
        raise SSHDipError(f"case {exc}") from None
    return Case(spec, name, time_index, crop)


__all__ = ["Case", "parse_case"]
