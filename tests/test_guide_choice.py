"""explorer.data.guide_choice: what a tab offers as a guide map (SST), how it reads it, and what the page says of it
(the chosen guide, a file that cannot be used, the gate's decision) in plain words."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from dipcore.errors import SSHDipError, SSHDipWarning
from dipcore.guide import GATE_R2, Guide
from dipcore.samples import ASSETS, get_sample, load_sample
from explorer.data.guide_choice import FILE, NONE, OWN, GuideChoice, gate_words

ROMS_SST = ASSETS / "roms_txla_sst.nc"


@dataclass
class FakeCoherence:
    r2_cv: float
    cells: int = 900


@dataclass
class FakeReport:
    used: bool
    coherence: FakeCoherence


def test_none_is_the_default_and_the_sample_s_own_is_offered_only_while_it_exists():
    c = GuideChoice()
    assert c.choice == NONE and not c.active and c.label is None and c.status == ""
    c.offer_own(get_sample("sqg_twin").guide_spec)
    assert c.param.choice.objects == [NONE, OWN]
    c.choice = OWN
    assert c.active and c.label == "sqg_twin.nc:sst" and c.status.startswith("Guide: sqg_twin.nc:sst. At Run a gate")
    c.offer_own(None)  # a sample without one: the choice goes back to none
    assert c.param.choice.objects == [NONE] and c.choice == NONE and c.status == ""


def test_a_guide_is_read_once_per_field_on_its_grid():
    f = load_sample("sqg_twin")
    c = GuideChoice()
    c.offer_own(get_sample("sqg_twin").guide_spec)
    assert c.on(f) is None  # none chosen
    c.choice = OWN
    g = c.on(f)
    assert isinstance(g, Guide) and g.values.shape == f.shape and g.units == "degC"
    assert c.on(f) is g  # cached for this field


def test_an_upload_is_chosen_once_it_reads_and_covers_the_field():
    f = load_sample("roms_txla")
    c = GuideChoice()
    c.upload(ROMS_SST.read_bytes(), "/home/me/roms_txla_sst.nc", f)
    assert c.choice == FILE + "roms_txla_sst.nc" and c.label == "roms_txla_sst.nc"
    assert c.on(f).values.shape == f.shape


@pytest.mark.parametrize("data, words", [(os.urandom(2048), "junk.nc is not a NetCDF file this page can read"),
                                         (b"", "the upload 'junk.nc' is empty")])
def test_a_file_that_is_no_guide_is_said_in_plain_words_and_the_choice_stays(data, words):
    c = GuideChoice()
    c.offer_own(get_sample("sqg_twin").guide_spec)
    c.choice = OWN
    with pytest.raises(SSHDipError) as err:
        c.upload(data, "junk.nc")
    text = str(err.value)
    assert text.startswith("Could not use junk.nc as the guide: ") and words in text
    assert "errno" not in text.lower() and "--" not in text and "/tmp" not in text
    assert c.choice == OWN and c.param.choice.objects == [NONE, OWN]


def test_a_guide_that_does_not_cover_the_field_is_refused_at_upload():
    c = GuideChoice()
    with pytest.raises(SSHDipError, match="Could not use roms_txla_sst.nc as the guide: .*does not overlap"):
        c.upload(ROMS_SST.read_bytes(), "roms_txla_sst.nc", load_sample("gulfstream"))
    assert c.choice == NONE


def test_a_message_names_the_sample_s_guide_by_its_file_never_the_server_s_path():
    c = GuideChoice()
    c.offer_own(get_sample("sqg_twin").guide_spec)
    c.choice = OWN
    with pytest.raises(SSHDipError) as err:
        c.on_fine(load_sample("sqg_twin").data, 4)  # x/y in km: it cannot be put onto another grid
    text = str(err.value)
    assert text.startswith("The guide sqg_twin.nc:sst cannot be used on this map: ") and str(ASSETS) not in text


def test_on_the_fine_grid_of_a_downscaling():
    f = load_sample("roms_txla")
    c = GuideChoice()
    c.upload(ROMS_SST.read_bytes(), "roms_txla_sst.nc")  # no field: only read
    with pytest.warns(SSHDipWarning, match="coarser than the fine grid"):  # said as a note on the page
        g = c.on_fine(f.data, 2)
    assert isinstance(g, Guide) and g.values.shape == (f.shape[0] * 2, f.shape[1] * 2)


def test_the_gate_s_decision_in_words():
    assert gate_words(None) == ""
    used = gate_words(FakeReport(True, FakeCoherence(0.73)))
    assert used == (f"The gate used the guide: it predicts 73% of the coarse map's finest detail (at least "
                    f"{GATE_R2:.0%} needed).")
    low = gate_words(FakeReport(False, FakeCoherence(-0.2)))
    assert "did not use the guide: it predicts none of" in low and low.endswith("The fit ran without it.")
    assert "changes sign" in gate_words(FakeReport(False, FakeCoherence(0.4)))
    assert "too small" in gate_words(FakeReport(False, FakeCoherence(0.0, cells=3)))


def test_show_a_report_then_a_new_choice_forgets_it():
    c = GuideChoice()
    c.offer_own(get_sample("sqg_twin").guide_spec)
    c.choice = OWN
    report = FakeReport(True, FakeCoherence(0.5))
    c.show(report)
    assert c.report is report and c.status.startswith("The gate used the guide")
    c.choice = NONE
    assert c.report is None and c.status == ""



def test_a_file_that_breaks_a_library_is_a_message_too(monkeypatch):
    import dipcore.guide

    def boom(*a, **kw):
        raise ValueError("boom")

    monkeypatch.setattr(dipcore.guide, "load_guide", boom)
    c = GuideChoice()
    with pytest.raises(SSHDipError, match=r"^Could not use x.nc as the guide: unexpected error: ValueError: boom$"):
        c.upload(b"CDF\x01" + b"\x00" * 64, "x.nc")
    assert c.choice == NONE
