"""The guided first run: what a visitor who has never seen the page needs, in plain words for a class.

* one obvious first action: :data:`FIRST_RUN_HINT` next to an emphasised Run button until the first run starts;
* a short caption under each map (:data:`CAPTIONS`), shown when that map first fills;
* a "what just happened" paragraph when a run ends (:func:`what_happened`), which explains the run and the scores
  behind the verdict line (:func:`dipcore.verdict.best_of` decides the winner; the verdict sentence itself stays
  in :mod:`explorer.run.fit_session`).

:class:`Guide` is the page's guide state (a ``param.Parameterized``, no UI library): which maps have filled and
whether a run has started. :class:`GuideView` holds the Panel panes that show it.
"""

from __future__ import annotations

import math

import numpy as np
import panel as pn
import param

from dipcore.style import CM
from dipcore.verdict import NAMES, TIE, best_of
from explorer.data.progress import EndReason


FIRST_RUN_HINT = "**Start here:** press **Run**. Small networks learn this map from its coarse version alone."
CAPTION_STYLE = {"font-size": "15px", "color": "#333", "line-height": "1.3"}
CAPTION_CSS = "p { margin: 0; }"  # two lines under a map, no paragraph margins around them

# under each live map (explorer.ui.live.LiveMaps.KEYS), for a teacher: what it shows and how to read it (two lines
# at most of the page's 15 px captions under a 370 px map)
CAPTIONS = {
    "truth": "The real sea surface height (cm). The methods never see it: it only scores them.",
    "obs": "What a coarse sensor sees: the truth averaged over blocks. All the methods are given.",
    "bicubic": "A classical answer, no network (switch above): IBP also keeps the block averages.",
    "estimate": "The networks' answer, learnt from the coarse map alone. It sharpens as they learn.",
    "error": "The networks' error: red too high, blue too low, white right.",
    "change": "What the networks added to IBP: red raised, blue lowered (a colour scale of its own).",
    "std": "After the run: how far off the answer may be (1 σ), without the truth. During it: the spread.",
}
# the error map shows the baseline's error until a run has shown an estimate
ERROR_BEFORE_RUN = "Until a run: the baseline's error. Red too high, blue too low, white right."


class Guide(param.Parameterized):
    """What the guide knows of one page: the maps that have shown data and whether a run has started.

    Parameters
    ----------
    state : explorer.data.state.ExplorerState, optional
        The state to follow (its feed and ``running``); without one, call :meth:`filled_with` and
        :meth:`run_started` by hand.
    """

    filled = param.List(default=[], item_type=str, doc="Live maps that have shown data at least once.")
    started = param.Boolean(default=False, doc="A run has started on this page (the first-run hint goes).")

    def __init__(self, state=None, **params):
        super().__init__(**params)
        if state is not None:
            for key in CAPTIONS:
                state.feed.subscribe(key, lambda data, key=key: self.filled_with(key, data))
                self.filled_with(key, state.feed[key])
            state.param.watch(lambda e: e.new and self.run_started(), "running")
            if state.running:
                self.run_started()

    def filled_with(self, key: str, data) -> None:
        """Map ``key`` received ``data``: the first time it is not empty, its caption appears."""
        if key in CAPTIONS and key not in self.filled and data is not None:
            self.filled = [*self.filled, key]

    def run_started(self) -> None:
        self.started = True


def what_happened(result, scores: dict[str, tuple[float, float]], config: dict, end_reason: str = "") -> str:
    """The "what just happened" paragraph of a run that ended, with its numbers.

    Parameters
    ----------
    result : dipcore.solver.Progress
        The run's last event (``step``, ``iters``, ``elapsed``, ``metrics["rmse"]`` in metres).
    scores : dict
        ``{"bicubic": (rmse, ssim), "ibp": (rmse, ssim)}`` of the baselines, RMSE in metres.
    config : dict
        The run's settings (``members``, ``ratio``).
    end_reason : str
        Why it ended ("finished", "stopped by the user", …; explorer.data.progress), said when not "finished".

    Returns
    -------
    str
        Markdown: what the networks did, then DIP vs IBP vs bicubic in words with their RMSEs (cm).
    """
    p = result
    k, r = int(config.get("members", 1)), config.get("ratio", "?")
    dip = float(p.metrics.get("rmse", np.nan)) * CM
    ibp, bic = scores["ibp"][0] * CM, scores["bicubic"][0] * CM
    nets = "one network" if k == 1 else f"{k} networks, each started from its own random weights,"
    secs = f"{p.elapsed:.0f}" if p.elapsed >= 10 else f"{p.elapsed:.1f}"
    how = (f"**What just happened:** {nets} learnt for {p.step} step{'s' if p.step != 1 else ''} ({secs} s) to "
           f"draw a fine map whose ×{r} block averages match the coarse observation: no other data, no training "
           "set. ")
    ended = {EndReason.STOPPED.value: "You stopped the run",
             EndReason.EARLY.value: "The recipe's held-out check ended the run",
             EndReason.SETTLED.value: "The fit stopped by itself: its estimate no longer moved, at step",
             EndReason.FAILED.value: "The run failed"}.get(end_reason)
    if end_reason == EndReason.SETTLED.value:
        how += f"{ended} {p.step} of at most {p.iters}. "
    elif ended:
        how += f"{ended} at step {p.step} of {p.iters}. "
    if not math.isfinite(dip):
        return how + "No score: the run gave no estimate to compare with the truth."
    nums = (f"Against the hidden truth the {'ensemble mean' if k > 1 else 'estimate'} is off by {dip:.2f} cm "
            f"(RMSE); IBP, the classical method with no network, by {ibp:.2f} cm; bicubic smoothing by "
            f"{bic:.2f} cm. ")
    best = best_of(dip, ibp, bic)
    base, base_v = ("IBP", ibp) if ibp <= bic else ("bicubic", bic)
    change = abs(dip - base_v) / base_v if base_v > 0 else 0.0
    if best == "estimate":
        words = (f"The network's error is {change:.0%} smaller than {base}'s: the network structure alone "
                 "recovered detail the classical methods miss.")
    elif best == "level":
        words = (f"The network and {base} are level (within {TIE:.0%}): here the network adds nothing the "
                 "classical method does not give.")
    else:
        name = NAMES[best]
        words = (f"{name[0].upper() + name[1:]} wins: the network's error is {change:.0%} larger. More steps, more "
                 "members or another recipe may change that; a plain method is sometimes enough.")
    return how + nums + words


class GuideView:
    """The guide's panes, placed by :class:`explorer.ui.layout.ExplorerView`: :attr:`hint` (under Run),
    :meth:`caption` (under each map) and :attr:`summary` (under the verdict).

    Parameters
    ----------
    app : explorer.app.ExplorerApp
        The session's app (read only: ``result``, ``verdict``, ``run_config``, ``end_reason``,
        ``baseline_scores()``).
    """

    def __init__(self, app):
        self.app = app
        self.guide = Guide(app)
        self.hint = pn.pane.Markdown(FIRST_RUN_HINT, css_classes=["ssh-first-hint"], margin=(0, 10),
                                     visible=not self.guide.started,
                                     styles={"font-size": "13px", "background": "#fff4cc", "border-radius": "4px",
                                             "padding": "0 6px"})
        self.captions = {k: pn.pane.Markdown(text, css_classes=[f"caption-{k}", "ssh-caption"], width=350,
                                             margin=(0, 10, 2, 10), visible=k in self.guide.filled,
                                             styles=CAPTION_STYLE, stylesheets=[CAPTION_CSS])
                         for k, text in CAPTIONS.items()}
        self.captions["error"].object = ERROR_BEFORE_RUN
        # always shown, empty until a run ends: a text change is cheap, a change of visibility lays the whole
        # page out again in the browser (explorer.ui.messages)
        self.summary = pn.pane.Markdown("", css_classes=["ssh-what-happened"], sizing_mode="stretch_width",
                                        margin=(0, 10))
        self.guide.param.watch(self._filled, "filled")
        self.guide.param.watch(lambda e: setattr(self.hint, "visible", not e.new), "started")
        app.param.watch(self._ended, ["verdict", "result"])  # the session sets the verdict, then the result
        app.feed.subscribe("estimate", self._error_caption)

    def caption(self, key: str) -> pn.pane.Markdown:
        return self.captions[key]

    def _error_caption(self, estimate) -> None:
        """The error map shows the network's error once there is an estimate, the baseline's before."""
        text = CAPTIONS["error"] if estimate is not None else ERROR_BEFORE_RUN
        if self.captions["error"].object != text:
            self.captions["error"].object = text

    def _filled(self, event) -> None:
        for k in event.new:
            self.captions[k].visible = True

    def _ended(self, event=None) -> None:
        app, p = self.app, self.app.result
        told = app.verdict and p is not None
        self.summary.object = what_happened(p, app.baseline_scores(), app.run_config, app.end_reason) if told else ""


__all__ = ["CAPTIONS", "CAPTION_STYLE", "ERROR_BEFORE_RUN", "FIRST_RUN_HINT", "Guide", "GuideView", "what_happened"]
