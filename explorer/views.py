"""Plot builders of the explorer: colour maps, map images, curves, pixel and transect plots, the PNG figure.

Pure functions of NumPy arrays (no session state), so the app and the tests can call them directly. Values
arrive in metres and are shown in centimetres.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cmocean
import holoviews as hv
import matplotlib
import numpy as np
from bokeh.models import BasicTickFormatter
from matplotlib.colors import to_hex

matplotlib.use("Agg")

CM = 100.0  # metres → centimetres for display
LAND = "#d9d9d9"
MAP_HEIGHT = 260


def hex_cmap(cmap, n: int = 256) -> list[str]:
    """A matplotlib/cmocean colour map as a list of hex colours (what Bokeh takes)."""
    return [to_hex(c) for c in cmap(np.linspace(0, 1, n))]


BALANCE = hex_cmap(cmocean.cm.balance)   # diverging: SSH and error
AMP = hex_cmap(cmocean.cm.amp)           # sequential: std


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
    def of(cls, field) -> "Geometry":
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

    def coarse(self, ratio: int) -> "Geometry":
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


def is_lonlat(geom: "Geometry") -> bool:
    """True when the map's axes are longitude and latitude (not cell indices or projected x/y)."""
    return geom.xlabel.startswith("Longitude") and geom.ylabel.startswith("Latitude")


def place(x: float, y: float, geom: "Geometry") -> str:
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


def kdims(geom: Geometry) -> list[hv.Dimension]:
    return [hv.Dimension("x", label=geom.xlabel), hv.Dimension("y", label=geom.ylabel)]


def image(arr: np.ndarray | None, geom: Geometry, title: str, label: str, unit: str = "cm",
          cmap: list[str] = BALANCE, clim: tuple[float, float] | None = None, scale: float = CM) -> hv.Image:
    """One map: ``arr`` (metres) shown ×``scale`` with a colour bar, hover in ``unit`` and land in grey."""
    if arr is None:
        arr = np.full((len(geom.ys), len(geom.xs)), np.nan, dtype=np.float32)
    z = np.asarray(arr, dtype=np.float32) * np.float32(scale)
    vdim = hv.Dimension("value", label=label, unit=unit)
    if len(geom.ys) > 1 and geom.ys[0] < geom.ys[-1]:
        z = z[::-1]  # with explicit bounds, row 0 is the top (northern) row
    img = hv.Image(z, bounds=geom.bounds, kdims=kdims(geom), vdims=[vdim])
    # plain colour-bar ticks: a small std would otherwise read 4.00e-4; a new formatter per plot (a Bokeh model
    # belongs to one document)
    return img.opts(title=title, cmap=cmap, clim=clim or (np.nan, np.nan), colorbar=True, tools=["hover", "tap"],
                    clipping_colors={"NaN": LAND}, width=360, height=MAP_HEIGHT, clabel=f"{label} ({unit})",
                    active_tools=["wheel_zoom"], cformatter=BasicTickFormatter(use_scientific=False))


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


def error_std_plot(std: np.ndarray | None, estimate: np.ndarray | None, truth: np.ndarray,
                   title: str = "", max_points: int = 4000, seed: int = 0, label: str = "ensemble std"
                   ) -> hv.Overlay:
    """|error| against std (a random subsample of ocean cells), binned RMS error per std bin, and the 1:1 line."""
    from dipcore.metrics import spread_error_bins

    kd = hv.Dimension("std", label=label, unit="cm")
    vd = hv.Dimension("abs_error", label="|error|", unit="cm")
    if std is None or estimate is None:
        return hv.Scatter(([], []), kd, vd).opts(title=title or "|error| vs std: run a fit with K ≥ 2",
                                                 width=520, height=260)
    m = np.isfinite(std) & np.isfinite(estimate) & np.isfinite(truth)
    s, e = std[m] * CM, np.abs(estimate[m] - truth[m]) * CM
    if s.size > max_points:
        idx = np.random.default_rng(seed).choice(s.size, max_points, replace=False)
        s, e = s[idx], e[idx]
    bs, be = spread_error_bins(std, estimate, truth)
    top = float(max(np.nanmax(s) if s.size else 1.0, np.nanmax(e) if e.size else 1.0))
    return (hv.Scatter((s, e), kd, vd, label="cells").opts(size=3, alpha=0.3, color="#1f77b4")
            * hv.Curve((bs * CM, be * CM), kd, vd, label="RMS error per std bin").opts(color="#d62728",
                                                                                       line_width=2)
            * hv.Curve(([0, top], [0, top]), kd, vd, label="1:1").opts(color="black", line_dash="dashed")).opts(
        title=title, width=520, height=300, legend_position="top_left", show_grid=True)


def figure_png(panels: list[tuple[str, np.ndarray | None, str]], geom: Geometry, ssh_clim, err_lim: float,
               suptitle: str = "") -> bytes:
    """The maps as a PNG file (:func:`figure`, saved at 90 dpi)."""
    import matplotlib.pyplot as plt

    fig = figure(panels, geom, ssh_clim, err_lim, suptitle)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def figure(panels: list[tuple[str, np.ndarray | None, str]], geom: Geometry, ssh_clim, err_lim: float,
           suptitle: str = ""):
    """A matplotlib figure of the maps, three per row, each with its colour bar and labelled axes.

    Parameters
    ----------
    panels : list of (str, ndarray or None, str)
        (title, array in metres, kind) where kind is ``ssh``, ``error`` or ``std``; None arrays are left out.
    geom : Geometry
        Coordinates and axis labels of the maps.
    ssh_clim : (float, float)
        Colour range of the SSH maps (cm), shared by truth and estimates.
    err_lim : float
        Symmetric colour limit of the error maps (cm).
    suptitle : str
        The figure's title; wrapped to the figure's width (a long source name must not be cut).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (the caller closes it).
    """
    import textwrap

    import matplotlib.pyplot as plt

    panels = [p for p in panels if p[1] is not None]
    ncol = 3
    nrow = int(np.ceil(len(panels) / ncol))
    ny, nx = panels[0][1].shape
    lines = textwrap.wrap(suptitle, width=int(13 * ncol * 2.6)) if suptitle else []  # ~2.6 chars per inch at 11 pt
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 4.2 * nrow * ny / nx + 1.0 + 0.25 * len(lines)),
                             squeeze=False, constrained_layout=True)
    extent = [geom.xs.min(), geom.xs.max(), geom.ys.min(), geom.ys.max()]
    for i, (ax, (title, arr, kind)) in enumerate(zip(axes.flat, panels)):
        cmap = {"ssh": cmocean.cm.balance, "error": cmocean.cm.balance, "std": cmocean.cm.amp}[kind].copy()
        cmap = cmap.with_extremes(bad=LAND)
        a = np.asarray(arr, dtype=float) * CM
        # a spread is often far below the SSH or error scale (0.001 cm against 35 cm): its own range from 0
        lim = {"ssh": ssh_clim, "error": (-err_lim, err_lim), "std": (0.0, std_top(a))}[kind]
        if geom.ys[0] > geom.ys[-1]:  # imshow with origin="lower" wants rows from south to north
            a = a[::-1]
        im = ax.imshow(np.ma.masked_invalid(a), origin="lower", extent=extent, cmap=cmap, vmin=lim[0],
                       vmax=lim[1], aspect="auto", interpolation="nearest")
        ax.set_title(title, fontsize=10)
        if i % ncol == 0:
            ax.set_ylabel(geom.ylabel, fontsize=9)
        if i + ncol >= len(panels):  # the lowest map of its column
            ax.set_xlabel(geom.xlabel, fontsize=9)
        ax.tick_params(labelsize=8)
        fig.colorbar(im, ax=ax, label=f"{'std' if kind == 'std' else 'SSH' if kind == 'ssh' else 'error'} (cm)",
                     shrink=0.8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if lines:
        fig.suptitle("\n".join(lines), fontsize=11)
    return fig


def std_top(a_cm: np.ndarray) -> float:
    """Upper colour limit (cm) of a spread map: its 99th percentile (a few outliers do not wash it out), > 0."""
    a = np.asarray(a_cm, dtype=float)
    ok = np.isfinite(a)
    if not ok.any():
        return 1.0
    hi = float(np.percentile(a[ok], 99))
    if not hi > 0:
        hi = float(a[ok].max())
    return hi if hi > 0 else 1e-3
