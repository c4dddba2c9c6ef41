"""The embedded real samples: every registered one loads, carries its credit, and is small."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES, get_sample, load_sample


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_loads_as_real_ssh(name):
    s = get_sample(name)
    assert s.path.exists() and s.path.stat().st_size < 1_000_000 and s.credit
    f = load_sample(name)
    v = f.values[f.mask]
    assert f.values.dtype == np.float32 and v.size > 1000
    assert -3 < v.min() < v.max() < 3 and v.std() > 0.005  # metres, and not flat
    assert 0 <= f.land_fraction < 0.7


def test_altimetry_samples_carry_the_copernicus_credit():
    for name in ("gulfstream", "mediterranean", "blacksea"):
        assert get_sample(name).credit == "Generated using E.U. Copernicus Marine Service Information"


def test_unknown_sample_lists_the_choices():
    with pytest.raises(SSHDipError, match="unknown sample 'atlantis'.*gulfstream"):
        get_sample("atlantis")


def test_sample_time_step():
    a, b = load_sample("mediterranean", time=0), load_sample("mediterranean", time=6)
    assert not np.allclose(a.values[a.mask & b.mask], b.values[a.mask & b.mask])


@pytest.mark.parametrize("name", [n for n in sorted(SAMPLES) if SAMPLES[n].guide])
def test_a_sample_s_own_guide_reads_onto_its_grid(name):
    from dipcore.guide import load_guide_on

    f = load_sample(name)
    g = load_guide_on(get_sample(name).guide_spec, f.data, f.mask)
    assert g.values.shape == f.shape and g.units == "degC" and g.coverage > 0.9


def test_only_the_samples_with_an_sst_name_one():
    assert {n for n, s in SAMPLES.items() if s.guide} == {"roms_txla", "sqg_twin"}
    assert get_sample("gulfstream").guide_spec is None


@pytest.mark.parametrize("name, used", [("sqg_twin", True), ("roms_txla", False)])
def test_the_gate_uses_the_sqg_twin_s_sst_and_refuses_the_roms_one(name, used):
    """The synthetic twin is there to show a guide that helps (its gate skill ~0.7 at ×8); the ROMS SST carries
    nothing below the coarse cell and is refused (the fit is then the unguided default)."""
    from dipcore.guide import GATE_R2, load_guide_on, plan_guide
    from dipcore.twin import make_twin

    t = make_twin(load_sample(name), 8, 0.0, 0)
    g = load_guide_on(get_sample(name).guide_spec, t.field.data, t.mask)
    report = plan_guide(g, t.observation, t.degradation, t.mask, [0]).report
    assert report.used is used
    assert (report.coherence.r2_cv > 0.5) if used else (report.coherence.r2_cv < GATE_R2)


def test_the_sqg_twin_asset_is_what_its_script_builds():
    import importlib.util

    from dipcore.samples import ASSETS

    spec = importlib.util.spec_from_file_location("build_sqg_twin", ASSETS / "build_sqg_twin.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build()
    f = load_sample("sqg_twin")
    np.testing.assert_array_equal(f.values, built["ssh"].values)
