"""What a run leaves behind, built from the state: the NetCDF download (the CLI's schema, with the calibrated
``uncertainty``), the CLI's summary and the PNG figure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dipcore.errors import SSHDipError
from dipcore.export import netcdf_bytes, result_dataset
from dipcore.export import summary as export_summary
from dipcore.style import CM
from explorer.data import progress as prog
from explorer.data.geometry import Geometry
from explorer.data.progress import EndReason
from explorer.ui import views

if TYPE_CHECKING:
    from explorer.data.state import ExplorerState


def result_config(state: ExplorerState) -> dict:
    """The run's settings plus how it ended (``last_step``, ``end_reason``, ``estimate_steps``): a stopped run's
    file must not read like a finished one (``config_iters=300`` from an estimate of step 45)."""
    cfg = dict(state.run_config)
    if state.result is not None:
        reason = EndReason(state.end_reason) if state.end_reason else prog.end_reason(state.result, False)
        cfg.update(prog.end_config(state.result, reason))
    return cfg


def netcdf(state: ExplorerState) -> bytes:
    """The last result as CF NetCDF bytes (the CLI's schema)."""
    if state.result is None:
        raise SSHDipError("run a fit first: there is no result to download yet")
    return netcdf_bytes(result_dataset(state.run_twin, state.result, result_config(state)))


def summary(state: ExplorerState) -> dict:
    """The CLI's summary of the last result (scores of the estimate, IBP and bicubic; ``best``; ``arch``)."""
    if state.result is None:
        return {}
    out = export_summary(state.run_twin, state.result, result_config(state))
    out["arch"] = state.run_config.get("arch", out.get("arch"))  # the one chosen here, not the recipe's own
    return out


def png_figure(state: ExplorerState):
    """The maps as a matplotlib figure (the caller closes it): before a run truth, bicubic, IBP and their errors;
    after one the estimates, their errors, the truth and the spreads, with the scores in the title."""
    t = state.run_twin or state.twin
    p = state.result or state.last
    errors = [("Bicubic − truth", t.bicubic - t.truth, "error"), ("IBP − truth", t.ibp - t.truth, "error")]
    if p is None:
        panels = [("Truth", t.truth, "ssh"), ("Bicubic", t.bicubic, "ssh"), ("IBP", t.ibp, "ssh")] + errors
    else:  # rows of three: the estimates, their errors, the truth and the spreads
        panels = [("Bicubic", t.bicubic, "ssh"), ("IBP", t.ibp, "ssh"), ("DIP estimate", p.estimate, "ssh"),
                  *errors, ("DIP − truth", p.estimate - t.truth, "error"), ("Truth", t.truth, "ssh"),
                  ("What the network changed: DIP − IBP", p.estimate - t.ibp, "change"),
                  ("Uncertainty σ (from the observation alone)", getattr(p, "uncertainty", None), "std"),
                  ("Members' spread (not the uncertainty)", p.member_std, "std"), ("Latent std", p.latent_std, "std")]
    r = t.degradation.ratio
    title = f"{state.source} · ×{r}"
    if p is not None:
        sc = state.baseline_scores(t)
        title += (f" · RMSE DIP {p.metrics.get('rmse', np.nan) * CM:.2f} cm vs IBP {sc['ibp'][0] * CM:.2f} cm "
                  f"vs bicubic {sc['bicubic'][0] * CM:.2f} cm")
        if state.result is p and state.end_reason:
            title += f" · DIP {state.end_reason} at step {p.step}/{p.iters}"
    return views.figure(panels, Geometry.of(t.field), state.ssh_clim, state.err_lim, title)


def png(state: ExplorerState) -> bytes:
    """:func:`png_figure` as PNG bytes (90 dpi)."""
    return views.figure_bytes(png_figure(state))
