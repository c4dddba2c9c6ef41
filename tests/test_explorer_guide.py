"""The Explore tab's guide map (SST): the state offers and shows it (explorer.data.state_guide), a Run hands it to the
fit (explorer.run.fit_session, explorer.run.fit_job) and says what the gate did, the page puts its map beside the
estimate (explorer.ui.explore, explorer.ui.sidebar). Fits are stand-ins running dipcore's real guide plan, and
one real guided fit."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from dipcore.guide import Guide, plan_guide
from dipcore.io import open_dataset
from dipcore.samples import ASSETS
from explorer.app import ExplorerApp
from explorer.data.guide_choice import NONE, OWN
from test_explorer import make_app  # noqa: F401  (the fixture: a new app, stopped at the end)

ROMS_SST = ASSETS / "roms_txla_sst.nc"


def reporting_fit(seen: dict, steps: int = 3):
    """A stand-in with the fit's signature that records what it is given and whose events carry dipcore's real
    report of the guide (none without one)."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fit(observation, degradation, recipe=None, *, members=1, iters=3, truth=None, seed=0, **kw):
        seen.update(recipe=recipe, **kw)
        guide = kw.get("guide")
        report = plan_guide(guide, observation, degradation, np.isfinite(truth), [seed]).report if guide else None
        for step in range(1, steps + 1):
            est = (truth + 0.01 / step).astype(np.float32)
            yield Progress(step=step, iters=steps, loss=np.zeros(members, np.float32), estimate=est, member_std=None,
                           elapsed=0.01 * step, metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9},
                           done=step == steps, guide=report)
    return fit


def run_to_end(app: ExplorerApp) -> None:
    assert app.run(), app.error
    assert app.wait(120)
    for _ in range(3):  # the end goes out in two flushes
        app.flush()
        time.sleep(0.01)


def test_the_sample_s_own_sst_is_offered_and_its_map_published_on_the_feed(make_app):
    app = make_app(sample="sqg_twin")
    assert app.guide.param.choice.objects == [NONE, OWN] and app.guide.choice == NONE
    assert app.feed["guide"] is None
    app.guide.choice = OWN
    g = app.feed["guide"]
    assert isinstance(g, Guide) and g.values.shape == app.twin.truth.shape
    assert app.config()["guide"] == "sqg_twin.nc:sst"
    app.ratio = 4  # a new twin: the guide follows onto its grid
    assert app.feed["guide"].values.shape == app.twin.truth.shape
    app.sample = "gulfstream"  # no SST of its own: back to none
    assert app.guide.choice == NONE and app.feed["guide"] is None and app.config()["guide"] is None


def test_a_run_hands_the_guide_to_the_fit_and_says_what_the_gate_did(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="sqg_twin")
    app.guide.choice = OWN
    run_to_end(app)
    g = seen["guide"]
    assert isinstance(g, Guide) and g.values.shape == app.twin.truth.shape and g.source == "sqg_twin.nc"
    assert app.guide.report is app.result.guide and app.result.guide.used
    assert app.guide.status.startswith("The gate used the guide: it predicts 73% of the coarse map's finest detail")
    ds, _ = open_dataset(app.netcdf())  # the download records the guide and the gate, never a server path
    assert ds.attrs["guide_used"] == 1 and ds.attrs["config_guide"] == "sqg_twin.nc:sst"
    assert ds.attrs["guide_file"] == "sqg_twin.nc"


def test_the_roms_sst_is_refused_by_the_gate_and_said(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="roms_txla")
    app.guide.choice = OWN
    run_to_end(app)
    assert not app.result.guide.used
    assert app.guide.status.startswith("The gate did not use the guide: it predicts")
    assert app.guide.status.endswith("The fit ran without it.")


def test_without_a_guide_the_fit_gets_no_guide_keyword(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="sqg_twin")
    run_to_end(app)
    assert "guide" not in seen and app.guide.status == ""


def test_a_recipe_that_takes_no_guide_is_refused_in_plain_words(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="sqg_twin")
    app.guide.choice = OWN
    app.recipe = "paper"
    assert not app.run() and seen == {}
    assert app.error.startswith("a guide works with the default recipe") and "--" not in app.error


def test_a_bad_guide_upload_is_said_and_the_field_and_guide_stay(make_app):
    app = make_app(sample="sqg_twin")
    app.guide.choice = OWN
    field, guide = app.field, app.feed["guide"]
    assert not app.load_guide_upload(b"not a netcdf file" * 50, "junk.nc")
    assert app.error == ("Could not use junk.nc as the guide: junk.nc is not a NetCDF file this page can read "
                         "(another format, or a file cut short?). The guide is still sqg_twin.nc:sst; the field "
                         "shown is unchanged.")
    assert app.field is field and app.guide.choice == OWN and app.feed["guide"] is guide
    assert not app.load_guide_upload(ROMS_SST.read_bytes(), "roms_txla_sst.nc")  # another region: no overlap
    assert "Could not use roms_txla_sst.nc as the guide" in app.error and app.guide.choice == OWN


def test_an_uploaded_guide_is_chosen_and_used(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="roms_txla")
    assert app.load_guide_upload(ROMS_SST.read_bytes(), "roms_txla_sst.nc") and app.error == ""
    assert app.guide.choice == "file: roms_txla_sst.nc" and app.feed["guide"] is not None
    run_to_end(app)
    assert seen["guide"].source == "roms_txla_sst.nc"


def test_the_guide_map_takes_the_place_of_the_network_s_change_in_the_grid(make_app):
    import panel as pn

    app = make_app(sample="sqg_twin")
    page = app.__panel__()
    grid = next(iter(page.select(pn.GridBox)))
    classes = lambda: [o.css_classes[0] for o in grid.objects]  # noqa: E731
    assert classes()[5] == "map-change" and len(classes()) == 9
    app.guide.choice = OWN
    assert classes()[5] == "map-guide" and len(classes()) == 9 and "map-change" not in classes()
    m = app.view.sst.map
    assert m.fig.title.text == "Guide: sst (°C), on the fine grid"
    g = app.feed["guide"].values
    assert (m.mapper.low, m.mapper.high) == pytest.approx(tuple(np.nanpercentile(g, [1, 99])))
    assert np.isfinite(m.source.data["image"][0]).all()  # drawn in °C (not × 100)
    assert np.nanmax(m.source.data["image"][0]) == pytest.approx(np.nanmax(g))
    app.guide.choice = NONE
    assert classes()[5] == "map-change"


def test_a_real_guided_fit_streams_the_gate_s_report(make_app):
    """dipcore.solver.fit itself, a few steps on the SQG twin: the guided recipe runs and the page says so."""
    app = make_app(sample="sqg_twin", iters=3, members=1, device="cpu")
    app.guide.choice = OWN
    run_to_end(app)
    assert app.error == "" and app.result.guide.used and app.result.guide.recipe == "guided"
    assert app.guide.status.startswith("The gate used the guide")


def test_events_of_a_run_are_shown_once_per_report(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen, steps=4), sample="sqg_twin")
    app.guide.choice = OWN
    shown = []
    app.guide.param.watch(lambda e: shown.append(e.new), "report")
    run_to_end(app)
    assert [r for r in shown if r is not None] == [app.result.guide]
    assert dataclasses.is_dataclass(app.result.guide)


def test_an_uploaded_guide_that_does_not_cover_a_new_field_is_said_and_a_run_refused(make_app):
    seen: dict = {}
    app = make_app(fit=reporting_fit(seen), sample="roms_txla")
    assert app.load_guide_upload(ROMS_SST.read_bytes(), "roms_txla_sst.nc")
    app.sample = "gulfstream"  # the upload stays offered and chosen, but covers nothing here
    assert app.guide.choice == "file: roms_txla_sst.nc" and app.feed["guide"] is None
    assert app.guide.status.startswith("The guide roms_txla_sst.nc cannot be used on this field: ")
    assert not app.run() and seen == {}
    assert app.error.startswith("The guide roms_txla_sst.nc cannot be used on this field: ")
    app.guide.choice = NONE  # without it the run goes
    run_to_end(app)
    assert "guide" not in seen and app.error == ""



def test_a_guide_chosen_during_a_run_is_not_described_by_that_run_s_gate(make_app):
    import threading

    gate, started = threading.Event(), threading.Event()
    inner = reporting_fit({}, steps=3)

    def held(*a, **kw):  # step 1, then the rest once the test opens the gate
        for p in inner(*a, **kw):
            yield p
            started.set()
            assert gate.wait(30)

    app = make_app(fit=held, sample="sqg_twin")
    app.guide.choice = OWN
    assert app.run() and started.wait(30)
    app.flush()
    assert app.guide.status.startswith("The gate used the guide")
    app.guide.choice = NONE  # changed during the run: its events no longer speak for the choice
    gate.set()
    assert app.wait(30)
    app.flush()
    app.flush()
    assert app.guide.status == "" and app.guide.report is None
