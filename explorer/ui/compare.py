"""One map, four answers: a toggle between the truth, bicubic, IBP and the DIP estimate at the chosen ratio, all on
the truth's colour scale, so that a class sees what each method gets right by flicking between them (the paper's
Fig. 4 along a transect stays in the pixel view, :mod:`explorer.ui.pixel`).

:class:`Comparison` is the toggle's state (a ``param.Parameterized``, no UI library) and says what to show for a
state (:meth:`Comparison.shown_field`); :class:`ComparisonView` draws it on a :class:`explorer.ui.live.LiveMap`.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import Range1d

from dipcore.style import CM
from explorer.ui.figures import LiveMap, frame_size
from explorer.ui.views import BALANCE

CHOICES = {"Truth": "truth", "Bicubic": "bicubic", "IBP": "ibp", "DIP estimate": "estimate"}
LABELS = {v: k for k, v in CHOICES.items()}
SOURCE_NAME = "ssh-compare"  # the map's data source, by name (the browser tests find it)
FRAME_MAX = (370, 300)       # the map's largest frame (px): beside the replay, both fit 1440 px


class Comparison(param.Parameterized):
    """Which answer the comparison map shows."""

    shown = param.Selector(default="truth", objects=CHOICES, doc="truth, bicubic, ibp or estimate (the DIP mean).")

    def shown_field(self, state) -> tuple[np.ndarray | None, str]:
        """(array in metres or None, title) of the chosen answer for ``state``: its twin's truth or baselines, or
        the estimate of its last run (its result, else the newest event of a run in progress) with its RMSE."""
        t = state.twin
        if t is None:
            return None, "Load a field first"
        r = t.degradation.ratio
        key = self.shown
        if key == "truth":
            return t.truth, "Truth: what every answer is scored against"
        if key in ("bicubic", "ibp"):
            e = state.baseline_scores(t)[key][0] * CM
            return getattr(t, key), f"{LABELS[key]} from the ×{r} observation: RMSE {e:.2f} cm"
        p = state.result if state.result is not None else state.last
        if p is None:
            return None, "DIP estimate: press Run"
        e = float(p.metrics.get("rmse", np.nan)) * CM
        return p.estimate, f"DIP estimate from the ×{r} observation (step {p.step}): RMSE {e:.2f} cm"


class ComparisonView(pn.viewable.Viewer):
    """The toggle and its map for one session.

    Parameters
    ----------
    state : explorer.data.state.ExplorerState
        What is compared (read only: ``twin``, ``result``, ``last``, ``geom``, ``ssh_clim``).
    """

    def __init__(self, state, **params):
        super().__init__(**params)
        self.state = state
        self.comparison = Comparison()
        self.map = LiveMap("Truth", BALANCE, "SSH", Range1d(0, 1), Range1d(0, 1))
        self.map.source.name = SOURCE_NAME
        self.toggle = pn.widgets.RadioButtonGroup.from_param(self.comparison.param.shown, name="",
                                                             color="primary", variant="outline",
                                                             description=None, css_classes=["w-compare"])
        self.comparison.param.watch(self.refresh, "shown")
        state.param.watch(self.refresh, ["twin", "result"])
        self.refresh()

    def refresh(self, *events) -> None:
        """Draw the chosen answer (a new field also resets the ranges, axes and the shared colour scale)."""
        s = self.state
        if s.geom is None:
            return
        arr, title = self.comparison.shown_field(s)
        if arr is not None and np.shape(arr) != (len(s.geom.ys), len(s.geom.xs)):
            return  # a field change in flight (its new twin follows)
        left, bottom, right, top = s.geom.bounds
        fig = self.map.fig
        if (fig.x_range.start, fig.x_range.end) != (left, right):
            fig.x_range.update(start=left, end=right)
        if (fig.y_range.start, fig.y_range.end) != (bottom, top):
            fig.y_range.update(start=bottom, end=top)
        self.map.axes(s.geom)
        if s.field is not None:  # the field's shape on the ground, as large as half the main area allows
            self.map.frame(*frame_size(s.field.shape, s.field.spacing_km, *FRAME_MAX))
        lo, hi = s.ssh_clim  # one colour scale for all four: the truth's
        self.map.clim(lo, hi)
        self.map.show(arr, s.geom)
        fig.title.text = title

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Compare the answers on one map\nFlick between the truth and the three answers "
                             "at the sidebar's ratio: one colour scale for all. Where does each method lose the "
                             "eddies' edges?", margin=(0, 10), styles={"font-size": "15px"}),
            self.toggle, pn.Column(pn.pane.Bokeh(self.map.fig), css_classes=["map-compare"]), width=540)


__all__ = ["CHOICES", "SOURCE_NAME", "Comparison", "ComparisonView"]
