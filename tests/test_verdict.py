"""The one rule that says which estimate won a run (used by the CLI, the explorer and the tables)."""

import pytest

from dipcore.verdict import best_of, verdict


@pytest.mark.parametrize("dip, ibp, best, words", [
    (7.9, 8.0, "estimate", "the network beats IBP and bicubic"),
    (8.3, 8.0, "ibp", "IBP (no network) is better than the network here; the network still beats bicubic"),
    (8.9, 8.0, "ibp", "IBP (no network) is better than the network here."),
    (9.0, 8.8, "bicubic", "bicubic (no network) is better than the network here"),
    (8.02, 8.0, "level", "level with IBP"),
    (float("nan"), 8.0, "ibp", "IBP (no network) is better"),
])
def test_verdict_names_the_better_estimate(dip, ibp, best, words):
    assert best_of(dip, ibp, 8.6) == best
    text = verdict(dip, ibp, 8.6)
    assert words in text and f"IBP {ibp:.2f} cm" in text and "bicubic 8.60 cm" in text


def test_verdict_adds_ssim_when_given():
    text = verdict(7.9, 8.0, 8.6, ssim={"estimate": 0.80, "ibp": 0.79, "bicubic": 0.7})
    assert "SSIM: DIP 0.800 vs IBP 0.790 (the network is higher)" in text
    assert "IBP is higher or equal" in verdict(7.9, 8.0, 8.6, ssim={"estimate": 0.78, "ibp": 0.79})


def test_tie_is_relative_and_adjustable():
    assert best_of(8.05, 8.0, 9.0) == "level"
    assert best_of(8.05, 8.0, 9.0, tie=0.001) == "ibp"
