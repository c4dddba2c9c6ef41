"""Display coordinates and units of the explorer's maps: plain NumPy, no UI library.

A field's :class:`Geometry` says where its cells are on screen (longitude/latitude when the grid is regular in
them, cell indices otherwise); the state, the live maps, the pixel inspector and the PNG figure share it. Values
arrive in metres and are shown in centimetres (``dipcore.style.CM``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dipcore.style import CM


@dataclass
class Geometry:
    """Display coordinates of a field: 1-D lon/lat when the grid is regular in them, else cell indices."""

    xs: np.ndarray
    ys: np.ndarray
    xlabel: str
    ylabel: str
    dx_km: float | None = None
    cell: tuple[float, float] = (1.0, 1.0)   # (dx, dy) cell size in display units

    def __post_init__(self):
        if self.cell == (1.0, 1.0) and len(self.xs) > 1 and len(self.ys) > 1:
            self.cell = (abs(float(self.xs[1] - self.xs[0])), abs(float(self.ys[1] - self.ys[0])))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the cells' outer edges."""
        dx, dy = self.cell
        return (float(self.xs.min()) - dx / 2, float(self.ys.min()) - dy / 2, float(self.xs.max()) + dx / 2,
                float(self.ys.max()) + dy / 2)

    @classmethod
    def of(cls, field) -> Geometry:
        da = field.data
        ydim, xdim = da.dims
        ny, nx = da.shape
        spacing = field.spacing_km
        dx = spacing[1] if spacing else None
        xs = ys = None
        for name, c in da.coords.items():
            if c.dims == (xdim,) and _regular(c.values):
                xs = c.values.astype(np.float64)
                xlabel = "Longitude (°E)" if "lon" in name.lower() else str(name)
                if "lon" in name.lower():
                    xs = signed_longitudes(xs)
            if c.dims == (ydim,) and _regular(c.values):
                ys = c.values.astype(np.float64)
                ylabel = "Latitude (°N)" if "lat" in name.lower() else str(name)
        if xs is None or ys is None:
            return cls(np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64),
                       "x (cell index)", "y (cell index)", dx)
        return cls(xs, ys, xlabel, ylabel, dx)

    def coarse(self, ratio: int) -> Geometry:
        """Block-mean coordinates of the observation grid."""
        return Geometry(self.xs.reshape(-1, ratio).mean(axis=1), self.ys.reshape(-1, ratio).mean(axis=1),
                        self.xlabel, self.ylabel, self.dx_km * ratio if self.dx_km else None,
                        (self.cell[0] * ratio, self.cell[1] * ratio))

    def index_of(self, x: float, y: float) -> tuple[int, int]:
        """Nearest cell (iy, ix) to a point in display coordinates."""
        return int(np.argmin(np.abs(self.ys - y))), int(np.argmin(np.abs(self.xs - x)))

    def point_of(self, iy: int, ix: int) -> tuple[float, float]:
        return float(self.xs[ix]), float(self.ys[iy])


def signed_longitudes(lon: np.ndarray) -> np.ndarray:
    """Longitudes in −180…180 (°E, as oceanographers read them: 70° W is −70, not 290).

    A grid that crosses the antimeridian keeps 0…360, where it is continuous: wrapped, its coordinates would jump
    from 180 to −180 in mid-map.
    """
    lon = np.asarray(lon, dtype=np.float64)
    wrapped = (lon + 180.0) % 360.0 - 180.0
    if lon.size > 1 and _regular(wrapped):
        return wrapped
    return wrapped if lon.size == 1 else lon


def is_lonlat(geom: Geometry) -> bool:
    """True when the map's axes are longitude and latitude (not cell indices or projected x/y)."""
    return geom.xlabel.startswith("Longitude") and geom.ylabel.startswith("Latitude")


def place(x: float, y: float, geom: Geometry) -> str:
    """A map point as people write it: '75.12°W 35.12°N' on a lon/lat grid, 'x 12, y 30' (with the unit of the
    axes) otherwise."""
    if is_lonlat(geom):
        lon = ((x + 180.0) % 360.0) - 180.0  # a 0…360 grid (across the antimeridian) still reads as E/W
        return f"{abs(lon):.2f}°{'W' if lon < 0 else 'E'} {abs(y):.2f}°{'S' if y < 0 else 'N'}"
    return f"x {x:g}, y {y:g}"


def _regular(v: np.ndarray) -> bool:
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1 or v.size < 2 or not np.all(np.isfinite(v)):
        return False
    d = np.diff(v)
    return bool(np.all(d > 0) or np.all(d < 0)) and np.allclose(d, d[0], rtol=1e-3, atol=0)


def clims(truth: np.ndarray, bicubic: np.ndarray) -> tuple[tuple[float, float], float]:
    """Fixed colour limits in cm: the SSH range of the truth, and the symmetric error limit (from bicubic)."""
    lo, hi = np.nanpercentile(truth, [0.5, 99.5]) * CM
    err = np.abs(bicubic - truth)
    e = float(np.nanpercentile(err, 99.5)) * CM if np.isfinite(err).any() else 1.0
    return (float(lo), float(hi)), max(e, 1e-3)


def transect_samples(p0: tuple[int, int], p1: tuple[int, int], n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-cell indices (iy, ix) of ``n`` evenly spaced points from cell p0 to cell p1."""
    (y0, x0), (y1, x1) = p0, p1
    n = n or max(2, int(np.hypot(y1 - y0, x1 - x0)) + 1)
    t = np.linspace(0, 1, n)
    return np.rint(y0 + t * (y1 - y0)).astype(int), np.rint(x0 + t * (x1 - x0)).astype(int)
