"""The Uncertainty tab: how honest the run's uncertainty is, checked against the truth a twin experiment knows.

The fit's calibrated ``uncertainty`` (dipcore's predictive σ, computed from the observation alone at the end of a
fit) is *the* uncertainty; the members' spread keeps its own name ("members' spread") because it is 7-20 times
smaller than the error. The tab shows the reliability diagram (RMS error per bin of predicted σ against σ, with the
1:1 line), the ±1σ and ±2σ coverage and the CRPS beside that of a flat σ equal to the true RMSE, then the maps: σ,
the actual |error|, the members' spread and the latent std (M > 0).
"""

from __future__ import annotations

import numpy as np
import panel as pn

from dipcore.style import CM
from explorer.ui import views
from explorer.ui.views import AMP

HINT = ("Run a fit to the end to see its uncertainty here: the σ map the fit computes from the coarse map alone, "
        "checked against the truth (coverage, a reliability diagram, the CRPS against a flat σ), and the members' "
        "spread beside it (add latent samples M > 0 for the latent std).")
INTRO = ("### Is the uncertainty honest?\nThe σ map is computed from the coarse map alone, without the truth. Here "
         "the truth is known, so we can check it: where σ is large, is the error large, and how often does the "
         "truth fall within ±1σ and ±2σ?")


def uncertainty_view(app) -> pn.viewable.Viewable:
    """The tab's content for ``app``'s last result (a hint before one)."""
    p, t = app.result, app.run_twin
    if p is None or t is None:  # no empty axes: say what will appear here
        return pn.pane.Markdown(HINT, css_classes=["uncertainty-hint"], styles={"font-size": "15px"})
    items = [pn.pane.Markdown(INTRO, margin=(0, 10), styles={"font-size": "15px"}),
             pn.pane.Markdown(views.calibration_text(p, t), css_classes=["ssh-coverage"],
                              styles={"font-size": "15px"}, sizing_mode="stretch_width", margin=(0, 10))]
    bins = {}
    if getattr(p, "uncertainty", None) is not None:
        bins["uncertainty σ"] = reliability_bins(p.uncertainty, p.estimate, t.truth)
    if p.member_std is not None:
        bins["members' spread"] = reliability_bins(p.member_std, p.estimate, t.truth)
    if bins:
        plot = views.reliability_plot(bins, "Reliability: RMS error per bin of predicted σ (cm)")
        items.append(pn.pane.HoloViews(plot, css_classes=["reliability"]))
    items.append(pn.GridBox(*[pn.pane.HoloViews(m) for m in maps(app, p, t)], ncols=3))  # 3 fit 1440 px
    return pn.Column(*items, sizing_mode="stretch_width")


def reliability_bins(std: np.ndarray, estimate: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean σ, RMS error) per decile of σ (:func:`dipcore.metrics.spread_error_bins`)."""
    from dipcore.metrics import spread_error_bins

    return spread_error_bins(std, estimate, truth, bins=10)


def maps(app, p, t) -> list:
    """σ and |error| on one scale from 0 (comparable at a glance), then the members' and the latent spread, each on
    a scale of its own from 0 (a 0-12 cm scale washes out a field of 0-0.5 cm)."""
    out = []
    unc = getattr(p, "uncertainty", None)
    err = np.abs(p.estimate - t.truth)
    top = views.std_top(np.concatenate([np.ravel(err), np.ravel(unc if unc is not None else err)]) * CM)
    size = dict(width=360, height=250)
    if unc is not None:
        out.append(views.image(unc, app.geom, "Uncertainty σ (from the coarse map)", "σ", cmap=AMP,
                               clim=(0, top)).opts(**size))
    out.append(views.image(err, app.geom, "|error| = |DIP − truth| (same scale)", "|error|", cmap=AMP,
                           clim=(0, top)).opts(**size))
    if p.member_std is not None:
        out.append(views.image(p.member_std, app.geom, "Members' spread (own scale)", "spread", cmap=AMP,
                               clim=(0, views.std_top(p.member_std * CM))).opts(**size))
    if p.latent_std is not None:
        out.append(views.image(p.latent_std, app.geom, "Latent std, M samples (own scale)", "std", cmap=AMP,
                               clim=(0, views.std_top(p.latent_std * CM))).opts(**size))
    return out


__all__ = ["HINT", "INTRO", "maps", "reliability_bins", "uncertainty_view"]
