"""The comparison map (explorer/ui/compare.py): one toggle, four answers on the truth's colour scale."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.ui.compare import CHOICES, Comparison, ComparisonView
from explorer.ui.figures import display_array
from explorer_fakes import small_paced_app


@pytest.fixture
def app():
    yield from small_paced_app(iters=5)


def test_each_choice_names_its_answer_and_the_estimate_waits_for_a_run(app):
    c = Comparison()
    assert list(CHOICES.values()) == ["truth", "bicubic", "ibp", "estimate"]
    t = app.twin
    for key, arr in (("truth", t.truth), ("bicubic", t.bicubic), ("ibp", t.ibp)):
        c.shown = key
        got, title = c.shown_field(app)
        assert got is arr
    assert "RMSE" in title and "×8" in title
    c.shown = "estimate"
    assert c.shown_field(app) == (None, "DIP estimate: press Run")
    assert app.run() and app.wait(30)
    got, title = c.shown_field(app)
    assert got is app.result.estimate and "step 5" in title


def test_the_toggle_changes_the_map_and_keeps_one_colour_scale(app):
    view = ComparisonView(app)
    seen, scales = {}, set()
    for key in ("truth", "bicubic", "ibp"):
        view.comparison.shown = key
        seen[key] = np.array(view.map.source.data["image"][0])
        scales.add((view.map.mapper.low, view.map.mapper.high))
        np.testing.assert_array_equal(seen[key], display_array(getattr(app.twin, key), app.geom))
    assert not np.array_equal(seen["truth"], seen["bicubic"], equal_nan=True)
    assert not np.array_equal(seen["bicubic"], seen["ibp"], equal_nan=True)
    assert scales == {tuple(float(v) for v in app.ssh_clim)}
    view.comparison.shown = "estimate"
    assert np.isnan(view.map.source.data["image"][0]).all()      # nothing before a run
    assert app.run() and app.wait(30)                             # the result arrives: the map follows
    np.testing.assert_array_equal(view.map.source.data["image"][0], display_array(app.result.estimate, app.geom))
    assert view.map.fig.title.text.startswith("DIP estimate")
    app.ratio = 16                                                # a new twin: its truth's extent and scale
    view.comparison.shown = "truth"
    assert view.map.fig.title.text.startswith("Truth")
    assert (view.map.mapper.low, view.map.mapper.high) == tuple(float(v) for v in app.ssh_clim)
