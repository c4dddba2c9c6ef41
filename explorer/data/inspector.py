"""What the pixel inspector and the transect show: plain dictionaries of values (metres) built from the state and,
for the history of a cell, the fit's records (a :class:`PixelHistory`: ``explorer.run.fit_job.FitJob``). No UI
library (``explorer.ui.pixel`` draws them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from explorer.data.geometry import place, transect_samples

if TYPE_CHECKING:
    from explorer.data.state import ExplorerState


class PixelHistory(Protocol):
    """What a fit keeps of each cell's history (``explorer.run.fit_job.FitJob``)."""

    stride: int  # snapshots keep every stride-th cell (1: exact)

    def pixel_history(self, iy: int, ix: int) -> tuple[list, list]:
        """(decimated snapshots, exact values since the tap) as [(step, estimate, std)]."""


def _shown_twin(state: ExplorerState):
    """The twin whose values are on the page: the run's once it has shown an estimate, else the loaded one."""
    return state.run_twin if (state.run_twin is not None and state.last is not None) else state.twin


def pixel_info(state: ExplorerState, job: PixelHistory | None = None) -> dict:
    """Everything the pixel view shows for the tapped cell: where it is, truth, bicubic and IBP there, the
    members' values with their mean ± std, and (from ``job``) how the estimate there moved during the fit.
    ``{"land": True, …}`` on land; ``{}`` without a tap."""
    if state.tap is None or state.twin is None:
        return {}
    iy, ix = state.tap
    t = _shown_twin(state)
    if iy >= t.truth.shape[0] or ix >= t.truth.shape[1]:
        return {}
    x, y = state.geom.point_of(iy, ix)
    where = place(x, y, state.geom)
    info = {"where": f"cell [{iy}, {ix}] ({where})", "place": where,
            "truth": float(t.truth[iy, ix]), "bicubic": float(t.bicubic[iy, ix]), "ibp": float(t.ibp[iy, ix])}
    if not np.isfinite(info["truth"]):  # land: nothing to inspect, and the view says so (no empty axes)
        info["land"] = True
        return info
    p = state.last
    if p is not None:
        mem = p.members[:, iy, ix] if p.members is not None else np.array([p.estimate[iy, ix]])
        info.update(members=mem.astype(float), mean=float(p.estimate[iy, ix]),
                    std=float(p.member_std[iy, ix]) if p.member_std is not None else 0.0)
        if p.latent_std is not None:
            info["latent_std"] = float(p.latent_std[iy, ix])
    hist, trace = job.pixel_history(iy, ix) if job is not None else ([], [])
    if trace:  # exact values since the tap, decimated snapshots before it
        hist = [h for h in hist if h[0] < trace[0][0]] + trace
    if hist and p is not None:
        # the line ends where the title and the member dots are: at the estimate shown (the final one is made
        # consistent with the data, and on fields larger than HIST_SIDE the snapshots hold a nearby cell)
        hist = [h for h in hist if h[0] < p.step] + [(p.step, info["mean"], info["std"])]
        info["hist_exact"] = job is not None and job.stride == 1
    if hist:
        a = np.array(hist, dtype=float)
        info.update(hist_steps=a[:, 0], hist_mean=a[:, 1], hist_std=a[:, 2])
    return info


def transect_info(state: ExplorerState) -> dict:
    """Truth, bicubic, IBP and estimate ± std along the line between the last two taps (``{}`` before two)."""
    if len(state.points) < 2 or state.twin is None:
        return {}
    t = _shown_twin(state)
    iy, ix = transect_samples(*state.points)
    ny, nx = t.truth.shape
    ok = (iy < ny) & (ix < nx)
    iy, ix = iy[ok], ix[ok]
    sp = t.field.spacing_km
    if sp:
        d = np.concatenate([[0], np.cumsum(np.hypot(np.diff(iy) * sp[0], np.diff(ix) * sp[1]))])
        xl, xu = "distance along the line", "km"
    else:
        d, xl, xu = np.arange(iy.size, dtype=float), "cell along the line", None
    p = state.last
    info = {"distance": d, "xlabel": xl, "xunit": xu, "truth": t.truth[iy, ix], "bicubic": t.bicubic[iy, ix],
            "ibp": t.ibp[iy, ix],
            "title": f"Transect from cell {tuple(state.points[0])} to {tuple(state.points[1])}"}
    if p is not None:
        info["estimate"] = p.estimate[iy, ix]
        # the band: the calibrated uncertainty once the fit has made it (the members' spread is 7-20 times smaller
        # than the error, so a ±2 band of it would look far more certain than the estimate is)
        sigma = getattr(p, "uncertainty", None)
        if sigma is not None:
            info["std"], info["band"] = sigma[iy, ix], "uncertainty σ"
        elif p.member_std is not None:
            info["std"], info["band"] = p.member_std[iy, ix], "members' spread (not the uncertainty)"
    return info
