"""Crops of the main tab's field: by a box drawn on a map or by grid indices, and where a crop sits in the field it
was cut from (what an experiment case names as ``@y0:y1,x0:x1``). Pure functions of fields: the state keeps what
is loaded and shown."""

from __future__ import annotations

import numpy as np

from dipcore.errors import SSHDipError
from dipcore.io import Field
from explorer.data.geometry import Geometry


def cropped(full: Field, shown: Field, geom: Geometry, box: tuple[float, float, float, float] | None = None,
            index: tuple[int, int, int, int] | None = None) -> Field:
    """A crop: ``index`` = (y0, y1, x0, x1) on the ``full`` loaded grid, else ``box`` = (x0, y0, x1, y1) in the
    map coordinates of ``geom`` (the ``shown`` field's geometry: a box drawn on a map). SSHDipError when the box
    holds no cell."""
    if index is not None:
        return full.crop_index(*[int(i) for i in index])
    x0, y0, x1, y1 = box
    if geom.xlabel.startswith("Longitude"):
        return shown.crop_box(y0, y1, x0, x1)
    xs = np.where((geom.xs >= min(x0, x1)) & (geom.xs <= max(x0, x1)))[0]
    ys = np.where((geom.ys >= min(y0, y1)) & (geom.ys <= max(y0, y1)))[0]
    if xs.size == 0 or ys.size == 0:
        raise SSHDipError("the selected box contains no grid cell")
    return shown.crop_index(ys[0], ys[-1] + 1, xs[0], xs[-1] + 1)


def position(full: Field | None, shown: Field | None, index_crop: str = "") -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of ``shown`` within ``full``; None when uncropped (or not locatable). ``index_crop``: the
    typed index box, the only clue on a grid without coordinates."""
    if full is None or shown is None or shown.shape == full.shape:
        return None
    gf, gc = Geometry.of(full), Geometry.of(shown)
    if gf.xlabel.startswith("x (cell"):
        try:
            y0, y1, x0, x1 = (int(v) for v in index_crop.replace(",", " ").split())
            return y0, y1, x0, x1
        except ValueError:
            return None
    y0 = int(np.argmin(np.abs(gf.ys - gc.ys[0])))
    x0 = int(np.argmin(np.abs(gf.xs - gc.xs[0])))
    return y0, y0 + shown.shape[0], x0, x0 + shown.shape[1]


__all__ = ["cropped", "position"]
