"""The Downscale tab's guide map (SST): its state offers and takes one (explorer.downscale.state), a run hands it to
``downscale`` on the fine grid and shows what the gate did (explorer.downscale.session, explorer.downscale.worker),
the tab draws it beside the uncertainty (explorer.ui.downscale). Stand-ins run dipcore's real guide plan; one real
guided downscaling."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.degrade import Degradation
from dipcore.guide import Guide, plan_guide
from dipcore.samples import ASSETS
from explorer.data.guide_choice import NONE, OWN
from explorer.ui.downscale import DownscaleTab

ROMS_SST = ASSETS / "roms_txla_sst.nc"


def reporting_downscale(seen: dict, steps: int = 2):
    """A stand-in of ``dipcore.downscale.downscale`` that records its arguments; its events carry the real report of
    its guide; no Dataset (the run ends as a stopped one)."""
    from dipcore.solver import Progress

    def fit(da, factor, *, progress=None, **kw):
        seen.update(factor=factor, **kw)
        obs = np.asarray(da.values, np.float32)
        fine = np.kron(obs, np.ones((factor, factor), np.float32))
        mask = np.isfinite(fine)
        g = kw.get("guide")
        report = plan_guide(g, obs, Degradation(factor, mask=mask), mask, [0]).report if g is not None else None
        for step in range(1, steps + 1):
            progress(Progress(step=step, iters=steps, loss=np.zeros(1, np.float32), estimate=fine, member_std=None,
                              elapsed=0.01 * step, done=False, guide=report))
        return None
    return fit


@pytest.fixture
def roms_tab():
    """The tab on the ROMS sample (its own SST offered), factor 2, with a recording stand-in."""
    seen: dict = {}
    tab = DownscaleTab(fit=reporting_downscale(seen), load=False)
    assert tab.state.load_sample("roms_txla")
    tab.state.factor = 2
    tab.seen = seen
    yield tab
    tab.stop()
    tab.session.wait(30)


def run_to_end(tab: DownscaleTab) -> None:
    assert tab.run(), tab.state.error
    assert tab.session.wait(60)
    tab.session.flush()


def test_the_sample_s_own_sst_is_offered_only_for_a_sample_with_one():
    tab = DownscaleTab(load=False)
    s = tab.state
    s.load_sample("mediterranean")
    assert s.guide.param.choice.objects == [NONE]
    s.load_sample("roms_txla")
    assert s.guide.param.choice.objects == [NONE, OWN]


def test_a_run_hands_the_guide_on_the_fine_grid_and_shows_it_and_the_gate(roms_tab):
    tab, s = roms_tab, roms_tab.state
    s.guide.choice = OWN
    run_to_end(tab)  # the ROMS SST is no finer than its SSH: a note, not a warning in the server's log
    g = tab.seen["guide"]
    h, w = s.field.shape
    assert isinstance(g, Guide) and g.values.shape == (2 * h, 2 * w) and g.source == "roms_txla_sst.nc"
    assert s.guide_map.shape == (2 * h, 2 * w) and s.guide.report is not None and not s.guide.report.used
    assert s.guide.status.startswith("The gate did not use the guide") and tab.guide_status.object == s.guide.status
    assert any("coarser than the fine grid" in n for n in s.notes)  # the regridding's warning, as a note
    assert tab.guide_map.fig.title.text == "Guide: temp (°C), on the fine grid"
    assert np.isfinite(tab.guide_map.source.data["image"][0]).any()


def test_without_a_guide_downscale_gets_no_guide_keyword(roms_tab):
    run_to_end(roms_tab)
    assert "guide" not in roms_tab.seen and roms_tab.state.guide_map is None


def test_a_guide_that_cannot_be_used_is_said_before_the_run(roms_tab):
    tab, s = roms_tab, roms_tab.state
    assert s.load_sample("sqg_twin")
    s.guide.choice = OWN  # x/y in km, no latitude/longitude: not onto another grid
    assert not tab.run() and tab.seen == {} and not s.running
    assert s.error.startswith("The guide sqg_twin.nc:sst cannot be used on this map: ") and str(ASSETS) not in s.error


def test_a_bad_guide_upload_is_said_and_the_map_and_guide_stay(roms_tab):
    tab, s = roms_tab, roms_tab.state
    s.guide.choice = OWN
    field = s.field
    assert not s.upload_guide(b"\x00junk" * 100, "junk.nc")
    assert s.error == ("Could not use junk.nc as the guide: junk.nc is not a NetCDF file this page can read (another "
                       "format, or a file cut short?). The guide is still roms_txla_sst.nc:temp; your map is "
                       "unchanged.")
    assert s.field is field and s.guide.choice == OWN
    assert s.upload_guide(ROMS_SST.read_bytes(), "my_sst.nc") and s.error == ""
    assert s.guide.choice == "file: my_sst.nc"


def test_the_guide_map_takes_its_place_beside_the_uncertainty():
    tab = DownscaleTab(load=False)
    tab.state.load_sample("roms_txla")
    rows = lambda: [[c.css_classes[0] for c in r.objects] for r in tab.lower.objects]  # noqa: E731
    assert rows() == [["ds-uncertainty", "ds-curve"]]
    tab.state.guide.choice = OWN
    assert rows() == [["ds-guide", "ds-uncertainty"], ["ds-curve"]]
    tab.state.guide.choice = NONE
    assert rows() == [["ds-uncertainty", "ds-curve"]]


def test_a_real_guided_downscaling_records_the_gate(roms_tab):
    """dipcore.downscale.downscale itself, two steps: the guide and the gate's attributes are in the result."""
    from dipcore.downscale import downscale

    tab, s = roms_tab, roms_tab.state
    tab.session.fit = downscale
    s.members, s.iters = 1, 2
    s.guide.choice = OWN
    run_to_end(tab)
    ds = s.result
    assert ds is not None and "guide" in ds and ds.attrs["guide_used"] == 0
    assert ds.attrs["guide_file"] == "roms_txla_sst.nc"
    assert s.guide.status.startswith("The gate did not use the guide")


def test_a_guide_chosen_during_a_run_is_not_described_by_that_run_s_gate(roms_tab):
    import threading

    tab, s = roms_tab, roms_tab.state
    gate, started = threading.Event(), threading.Event()
    inner = reporting_downscale({}, steps=3)

    def held(da, factor, *, progress=None, **kw):  # each event after the first waits for the test
        def hold(p):
            progress(p)
            started.set()
            assert gate.wait(30)
        return inner(da, factor, progress=hold, **kw)

    tab.session.fit = held
    s.guide.choice = OWN
    assert tab.run() and started.wait(30)
    tab.session.flush()
    assert s.guide.status.startswith("The gate did not use the guide")
    s.guide.choice = NONE
    gate.set()
    assert tab.session.wait(30)
    tab.session.flush()
    assert s.guide.status == "" and s.guide.report is None
