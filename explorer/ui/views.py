"""Plot builders of the explorer: colour maps, map images, the |error|-vs-std plot, the resolution ladder and the
comparison at the chosen ratio, the PNG figure and the Uncertainty tab's text.

Pure functions of NumPy arrays and twins (no session state), so the app and the tests can call them directly.
Values arrive in metres and are shown in centimetres. Coordinates: :mod:`explorer.data.geometry`.
"""

from __future__ import annotations

import io

import cmocean
import holoviews as hv
import matplotlib
import numpy as np
from bokeh.models import BasicTickFormatter
from matplotlib.colors import to_hex

from dipcore import style
from dipcore.degrade import LADDER_NAMES, ladder
from dipcore.metrics import rmse, ssim
from dipcore.style import CM
from explorer.data.geometry import Geometry

matplotlib.use("Agg")

LAND = "#d9d9d9"
MAP_HEIGHT = 260


def hex_cmap(cmap, n: int = 256) -> list[str]:
    """A matplotlib/cmocean colour map as a list of hex colours (what Bokeh takes)."""
    return [to_hex(c) for c in cmap(np.linspace(0, 1, n))]


BALANCE = hex_cmap(getattr(cmocean.cm, style.SSH_CMAP))  # diverging: SSH and error (dipcore.style: one style)
AMP = hex_cmap(getattr(cmocean.cm, style.STD_CMAP))      # sequential: std


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


def figure_png(panels: list[tuple[str, np.ndarray | None, str]], geom: Geometry, ssh_clim, err_lim: float,
               suptitle: str = "") -> bytes:
    """The maps as a PNG file (:func:`figure`, saved at 90 dpi)."""
    return figure_bytes(figure(panels, geom, ssh_clim, err_lim, suptitle))


def figure_bytes(fig, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue()


def figure(panels: list[tuple[str, np.ndarray | None, str]], geom: Geometry, ssh_clim, err_lim: float,
           suptitle: str = ""):
    """A matplotlib figure of the maps, three per row, each with its colour bar and labelled axes.

    Parameters
    ----------
    panels : list of (str, ndarray or None, str)
        (title, array in metres, kind) where kind is ``ssh``, ``error``, ``change`` (a difference of estimates, on a
        symmetric scale of its own) or ``std``; None arrays are left out.
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
        name = {"ssh": style.SSH_CMAP, "error": style.ERROR_CMAP, "change": style.ERROR_CMAP,
                "std": style.STD_CMAP}[kind]
        cmap = getattr(cmocean.cm, name).copy()
        cmap = cmap.with_extremes(bad=LAND)
        a = np.asarray(arr, dtype=float) * CM
        # a spread is often far below the SSH or error scale (0.001 cm against 35 cm): its own range from 0
        # a difference of two estimates (DIP − IBP) on a symmetric scale of its own: a few cm where errors are tens
        own = std_top(np.abs(a)) if kind == "change" else 0.0
        lim = {"ssh": ssh_clim, "error": (-err_lim, err_lim), "change": (-own, own), "std": (0.0, std_top(a))}[kind]
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
        label = {"std": "σ", "ssh": "SSH", "error": "error", "change": "DIP − IBP"}[kind]
        fig.colorbar(im, ax=ax, label=f"{label} (cm)", shrink=0.8)
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


def scores(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(RMSE in metres, SSIM) of ``estimate`` against ``truth``."""
    return rmse(estimate, truth), ssim(estimate, truth)


def ladder_images(twin, ssh_clim: tuple[float, float]) -> hv.Layout:
    """The truth of ``twin`` at the six resolutions R03…R96 (paper Fig. 2), on one colour scale (cm)."""
    g = Geometry.of(twin.field)
    ims = []
    for r, arr in ladder(twin.truth).items():
        ny, nx = arr.shape
        sub = Geometry(g.xs[:nx * r], g.ys[:ny * r], g.xlabel, g.ylabel, g.dx_km).coarse(r)
        km = f", {g.dx_km * r:.0f} km" if g.dx_km else ""
        ims.append(image(arr, sub, f"{LADDER_NAMES[r]} (×{r}{km}, {ny}×{nx})", "SSH",
                         clim=ssh_clim).opts(width=330, height=200, tools=["hover"]))
    return hv.Layout(ims).cols(3)


def comparison_images(twin, result, baseline_scores: dict, ssh_clim: tuple[float, float],
                      err_lim: float) -> hv.Layout:
    """At the twin's ratio, three rows of three: truth, observation and a score table; bicubic, IBP and DIP (the
    ``result`` event, or a hint before a run); their errors. ``baseline_scores``: ``{"bicubic": (rmse, ssim),
    "ibp": (rmse, ssim)}`` in metres. Scores are in the titles too."""
    t, p = twin, result
    g = Geometry.of(t.field)
    r = t.degradation.ratio
    o = dict(width=330, height=200, tools=["hover"])
    err = (-err_lim, err_lim)
    rows = [("Bicubic", t.bicubic), ("IBP", t.ibp)] + ([("DIP", p.estimate)] if p is not None else [])
    sc = {"Bicubic": baseline_scores["bicubic"], "IBP": baseline_scores["ibp"],
          **({"DIP": scores(p.estimate, t.truth)} if p is not None else {})}
    table = hv.Table([(name, round(e * CM, 2), round(s, 3)) for name, (e, s) in sc.items()],
                     kdims=["estimate"], vdims=["RMSE (cm)", "SSIM"]).opts(title="Scores against the truth",
                                                                            width=o["width"], height=o["height"])
    ims = [image(t.truth, g, "Truth", "SSH", clim=ssh_clim).opts(**o),
           image(t.observation, g.coarse(r), f"Observation ×{r}", "SSH", clim=ssh_clim).opts(**o), table]
    ims += [image(arr, g, f"{name}: RMSE {sc[name][0] * CM:.2f} cm, SSIM {sc[name][1]:.3f}", "SSH",
                  clim=ssh_clim).opts(**o) for name, arr in rows]
    if p is None:  # keep the columns aligned: the DIP panel waits for a run
        ims.append(hv.Div("<p><b>DIP</b>: press Run for the network's estimate.</p>").opts(width=330, height=200))
    ims += [image(arr - t.truth, g, f"{name} − truth", "error", clim=err).opts(**o) for name, arr in rows]
    return hv.Layout(ims).cols(3)


def reliability_plot(bins: dict[str, tuple[np.ndarray, np.ndarray]], title: str = "") -> hv.Overlay:
    """The reliability diagram: for each σ (by label), the RMS error of the cells in each bin of predicted σ against
    the bin's mean σ (cm), with the 1:1 line a calibrated σ follows. ``bins``: ``{label: (σ_mean, rms_error)}`` in
    metres (:func:`dipcore.metrics.spread_error_bins`)."""
    kd = hv.Dimension("sigma", label="predicted σ", unit="cm")
    vd = hv.Dimension("rmse", label="RMS error in the bin", unit="cm")
    colours = ["#d62728", "#1f77b4", "#9467bd"]
    top = max([float(np.nanmax(v)) * CM for pair in bins.values() for v in pair if np.size(v)] + [1e-3])
    parts = [hv.Curve(([0, top], [0, top]), kd, vd, label="1:1 (calibrated)").opts(color="black",
                                                                                   line_dash="dashed")]
    for (label, (sig, err)), colour in zip(bins.items(), colours):
        pts = (np.asarray(sig) * CM, np.asarray(err) * CM)
        parts += [hv.Curve(pts, kd, vd, label=label).opts(color=colour, line_width=3),
                  hv.Scatter(pts, kd, vd, label=label).opts(color=colour, size=8)]
    return hv.Overlay(parts).opts(title=title, width=560, height=360, legend_position="bottom_right", show_grid=True,
                                  xlim=(0, top * 1.05), ylim=(0, top * 1.05), fontsize={"title": 15, "labels": 13,
                                                                                      "ticks": 13, "legend": 13})


def calibration_text(result, twin) -> str:
    """The Uncertainty tab's scores of a run's calibrated ``uncertainty`` on ``twin`` (Markdown): ±1σ and ±2σ
    coverage against a Gaussian's 68 % and 95 %, the CRPS beside that of a flat σ equal to the true RMSE (the oracle
    to beat), spread/skill, the expected RMSE beside the real one; then the members' spread, by its honest name."""
    from dipcore.metrics import calibration

    p, t = result, twin
    lines = []
    unc = getattr(p, "uncertainty", None)
    if unc is not None:
        c = calibration(unc, p.estimate, t.truth)
        beats = "beats" if c["crps_cm"] < c["crps_flat_cm"] else "does not beat"
        lines.append(f"**Coverage:** the truth lies within ±1σ of the estimate on **{c['coverage_1sigma']:.0%}** of "
                     f"the cells and within ±2σ on **{c['coverage_2sigma']:.0%}** (a calibrated Gaussian σ: 68 % "
                     "and 95 %).")
        lines.append(f"**CRPS** {c['crps_cm']:.3f} cm against {c['crps_flat_cm']:.3f} cm for a flat σ equal to the "
                     f"true RMSE (an oracle: it knows the truth): the map {beats} it (lower is better). "
                     f"Spread/skill {c['spread_skill']:.2f} (1 = calibrated), corr(|error|, σ) {c['corr']:.2f}.")
        expected = getattr(p, "expected_rmse", None)
        if expected is not None:
            lines.append(f"**Expected RMSE ≈ {expected * CM:.2f} cm** (the σ map's RMS, from the observation alone, "
                         f"prior '{p.uncertainty_prior}') against the real {c['rmse'] * CM:.2f} cm.")
    else:
        lines.append("This run has no calibrated uncertainty: it is computed at the end of a fit (a stopped run "
                     "has none). Run one to the end.")
    if p.member_std is not None:
        m = calibration(p.member_std, p.estimate, t.truth)
        why = (": every member invents the same detail below the coarse cell, so they agree far more than they err"
               if m["spread_skill"] < 0.5 else "")
        lines.append(f"**Members' spread** (how much the K networks disagree; not the uncertainty): spread/skill "
                     f"{m['spread_skill']:.2f}, ±1σ coverage {m['coverage_1sigma']:.0%}{why}.")
    return "\n\n".join(lines)


__all__ = ["AMP", "BALANCE", "LAND", "calibration_text", "comparison_images", "figure", "figure_bytes",
           "figure_png", "image", "kdims", "ladder_images", "reliability_plot", "scores", "std_top"]
