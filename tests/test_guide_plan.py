"""What a fit does with a guide (dipcore.guide.plan): the sub-cell detail each member adds (block means zero, the
members' amplitudes spread by the gate's error), the networks' channels, the classical guided estimate, the report,
and the uncertainty scaled by what the guide predicts."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore import metrics
from dipcore.degrade import Degradation, pool
from dipcore.guide import Guide, guided_std, plan_guide
from dipcore.synthetic import sqg_pair
from dipcore.uncertainty import Uncertainty


@pytest.fixture(scope="module")
def twin():
    ssh, sst = sqg_pair(128, seed=3, turnovers=3.0)
    deg = Degradation(8, mask=np.ones(ssh.shape, bool))
    return ssh, sst, deg, deg.forward(ssh)


def test_a_coherent_guide_gives_each_member_a_detail_with_zero_block_means(twin):
    ssh, sst, deg, obs = twin
    mask = np.ones(ssh.shape, bool)
    plan = plan_guide(Guide.from_array(sst), obs, deg, mask, [0, 1, 2])
    assert plan.report.used and plan.report.recipe == "guided"
    assert plan.detail.shape == (3, 128, 128) and plan.channels.shape == (2, 128, 128)
    amps = np.array(plan.report.amplitudes)
    assert len(set(amps.tolist())) == 3                                   # members differ by the guide's error
    assert np.all(np.abs(amps - plan.report.coherence.coefficient) < 4 * plan.report.coherence.stderr + 1e-12)
    means = pool(plan.detail[0], 8)
    assert np.abs(means).max() < 1e-3 * float(np.std(obs))
    assert np.isfinite(plan.channels).all()


def test_the_classical_guided_estimate_beats_ibp_on_an_sqg_twin_and_keeps_the_data(twin):
    ssh, sst, deg, obs = twin
    plan = plan_guide(Guide.from_array(sst), obs, deg, np.ones(ssh.shape, bool), [0])
    base = plan.report.baseline
    ibp = deg.ibp(obs)
    assert metrics.rmse(base, ssh) < 0.85 * metrics.rmse(ibp, ssh)
    assert np.abs(pool(base, 8) - obs).max() < 1e-3 * float(np.std(obs))


def test_an_incoherent_guide_is_reported_and_changes_nothing(twin):
    ssh, _, deg, obs = twin
    noise = np.random.default_rng([1, 99]).standard_normal(ssh.shape)
    plan = plan_guide(noise, obs, deg, np.ones(ssh.shape, bool), [0, 1], fallback="dip")
    assert not plan.report.used and plan.report.recipe == "dip"
    assert plan.detail is None and plan.channels is None and plan.report.baseline is None
    assert "not used" in plan.report.message


def test_the_report_goes_into_files_as_plain_attributes(twin):
    ssh, sst, deg, obs = twin
    rep = plan_guide(Guide.from_array(sst), obs, deg, np.ones(ssh.shape, bool), [0]).report
    attrs = rep.attributes()
    assert attrs["guide_used"] == 1 and attrs["guide_transform"] == "esqg" and attrs["guide_coverage"] == 1.0
    assert all(isinstance(v, (int, float, str)) for v in attrs.values())
    assert "units" not in rep.variable_attrs()                            # an array guide has no units to claim


def _u(std: float, e2: float, t: float = 1.0, g: float = 1.0) -> Uncertainty:
    return Uncertainty(np.full((4, 4), std, np.float32), std, "dynamic", e2, t, g)


def test_the_guided_std_scales_only_what_lies_below_the_cell():
    u = _u(2.0, 4.0)                                   # all of it sub-cell: T² E2 = 4 = 2²
    np.testing.assert_allclose(guided_std(u, None, 0.0), 2.0, rtol=1e-6)
    np.testing.assert_allclose(guided_std(u, None, 0.75), 1.0, rtol=1e-6)  # √(4 × 0.25)
    members = np.full((4, 4), 1.0)
    np.testing.assert_allclose(guided_std(u, members, 0.75), np.sqrt(3 * 0.25 + 1), rtol=1e-6)
    noisy = _u(2.0, 2.0, g=2.0)                        # half of the level is the noise the estimate keeps (σ = 1)
    np.testing.assert_allclose(guided_std(noisy, None, 0.5, sigma=1.0), np.sqrt(4 * (1 - 0.25)), rtol=1e-6)
    np.testing.assert_allclose(guided_std(u, None, 1.0), np.sqrt(4 * 0.1), rtol=1e-6)  # never below √(1 − 0.9)
