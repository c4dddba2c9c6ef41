"""The guided first run (explorer/ui/guide.py): captions appear as their maps fill, the first-run hint goes when a run
starts, and the "what just happened" paragraph explains the run with its numbers."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from explorer.data.feed import Feed
from explorer.ui.guide import CAPTIONS, FIRST_RUN_HINT, Guide, what_happened
from explorer_fakes import paced_fit


def _p(rmse_m: float, step: int = 300, iters: int = 300, elapsed: float = 42.0):
    return SimpleNamespace(step=step, iters=iters, elapsed=elapsed, metrics={"rmse": rmse_m})


SCORES = {"bicubic": (0.021, 0.5), "ibp": (0.015, 0.6)}   # metres: 2.10 and 1.50 cm
CFG = {"members": 4, "ratio": 8}


def test_a_caption_appears_when_its_map_first_fills_and_the_hint_goes_with_the_first_run():
    import param

    class State(param.Parameterized):
        running = param.Boolean(default=False)

    state = State()
    state.feed = Feed()
    state.feed.send("truth", np.zeros((2, 2)))
    guide = Guide(state)
    assert guide.filled == ["truth"] and not guide.started
    state.feed.send("estimate", None)                         # an empty map is not filled
    assert "estimate" not in guide.filled
    state.feed.send("estimate", np.ones((2, 2)))
    state.feed.send("estimate", np.ones((2, 2)))
    assert guide.filled == ["truth", "estimate"]              # once each
    state.running = True
    assert guide.started
    assert set(CAPTIONS) == {"truth", "obs", "bicubic", "estimate", "error", "change", "std"}
    assert all(len(text) <= 95 for text in CAPTIONS.values())   # two lines at most of 15 px under a 370 px map
    assert "Run" in FIRST_RUN_HINT


def test_what_happened_says_what_the_networks_did_and_who_won_with_the_numbers():
    won = what_happened(_p(0.012), SCORES, CFG, "finished")
    assert "4 networks" in won and "300 steps" in won and "(42 s)" in won and "×8" in won
    assert "1.20 cm" in won and "1.50 cm" in won and "2.10 cm" in won
    assert re.search(r"20% smaller than IBP's", won)
    assert "stopped" not in won
    lost = what_happened(_p(0.018, step=45), SCORES, {"members": 1, "ratio": 16}, "stopped by the user")
    assert "one network" in lost and "You stopped the run at step 45 of 300" in lost
    assert "IBP wins" in lost and "20% larger" in lost
    level = what_happened(_p(0.01501), SCORES, CFG, "finished")
    assert "level" in level and "wins" not in level
    early = what_happened(_p(0.012, step=120), SCORES, CFG, "early-stopped")
    assert "held-out check ended the run at step 120 of 300" in early
    settled = what_happened(_p(0.012, step=330, iters=1500), SCORES, CFG, "settled")
    assert "stopped by itself: its estimate no longer moved, at step 330 of at most 1500" in settled
    assert "No score" in what_happened(_p(float("nan")), SCORES, CFG)


@pytest.fixture
def app():
    from explorer.app import ExplorerApp

    a = ExplorerApp(fit=paced_fit(200.0))
    yield a
    a.stop()
    a.wait(30)


def test_the_page_shows_the_hint_then_the_captions_then_what_happened(app):
    from bokeh.document import Document

    app.__panel__().get_root(Document())
    g = app.view.guide
    assert g.hint.visible and not g.summary.object
    assert g.captions["truth"].visible and not g.captions["estimate"].visible
    assert g.captions["error"].visible and "Until a run: the baseline's error" in g.captions["error"].object
    app.param.update(index_crop="0 32 0 64", iters=12, members=2)
    assert app.run()
    assert not g.hint.visible                               # the first action has been taken
    assert app.wait(30)
    assert g.captions["estimate"].visible and g.captions["change"].visible
    assert g.captions["error"].object.startswith("The networks' error")  # no "before a run" after one
    assert "What just happened" in g.summary.object
    rmse_cm = app.result.metrics["rmse"] * 100
    assert f"{rmse_cm:.2f} cm" in g.summary.object
    app.ratio = 4                                           # a new twin: the old run's story goes
    assert not g.summary.object and not app.verdict
