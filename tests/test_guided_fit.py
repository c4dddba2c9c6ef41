"""A fit given a guide (dipcore.solver.fit(guide=…)), through the CLI (--guide) and a downscaling: the guided recipe
runs when the gate passes the guide and keeps the data; a refused guide gives the unguided default exactly; bad
guides and recipes that take none get one-line messages; outputs carry the guide with CF attributes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from dipcore.cli import main
from dipcore.degrade import Degradation, pool
from dipcore.errors import SSHDipError
from dipcore.guide import Guide
from dipcore.solver import run
from dipcore.synthetic import sqg_pair

ROOT = Path(__file__).resolve().parent.parent
ROMS_SST = ROOT / "assets" / "roms_txla_sst.nc"


@pytest.fixture(scope="module")
def pair():
    ssh, sst = sqg_pair(64, seed=4, turnovers=3.0)
    deg = Degradation(4, mask=np.ones(ssh.shape, bool))
    return ssh, sst, deg, deg.forward(ssh)


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_a_coherent_guide_runs_the_guided_recipe_and_keeps_the_data(pair):
    ssh, sst, deg, obs = pair
    ev = run(obs, deg, members=2, iters=8, truth=ssh, guide=Guide.from_array(sst), device="cpu")
    assert ev.guide.used and ev.guide.recipe == "guided" and ev.done
    assert np.abs(pool(ev.estimate, 4) - obs).max() < 1e-3 * float(np.std(obs))   # back-projected onto the data
    assert np.isfinite(ev.uncertainty).all() and ev.expected_rmse > 0
    assert ev.guide.guide.values.shape == ssh.shape


def test_a_refused_guide_gives_the_unguided_default_exactly(pair):
    ssh, _, deg, obs = pair
    noise = np.random.default_rng([2, 99]).standard_normal(ssh.shape)
    plain = run(obs, deg, members=2, iters=6, device="cpu")
    guided = run(obs, deg, members=2, iters=6, guide=noise, device="cpu")
    assert not guided.guide.used and guided.guide.recipe == "dip"
    np.testing.assert_array_equal(guided.estimate, plain.estimate)
    np.testing.assert_array_equal(guided.uncertainty, plain.uncertainty)


@pytest.mark.parametrize("recipe", ["guided_skip", "guided_pix"])
def test_the_other_guided_recipes_run(pair, recipe):
    ssh, sst, deg, obs = pair
    ev = run(obs, deg, recipe=recipe, members=1, iters=4, guide=sst, device="cpu")
    assert ev.guide.recipe == recipe and np.isfinite(ev.estimate).all()


def test_a_recipe_that_takes_no_guide_and_a_guided_recipe_without_one_are_refused(pair):
    ssh, sst, deg, obs = pair
    with pytest.raises(SSHDipError, match="takes no guide"):
        run(obs, deg, recipe="paper", iters=2, guide=sst, device="cpu")
    with pytest.raises(SSHDipError, match="needs a guide"):
        run(obs, deg, recipe="guided", iters=2, device="cpu")
    with pytest.raises(SSHDipError, match="fine grid is 64×64"):
        run(obs, deg, iters=2, guide=sst[:32], device="cpu")


def _cli(tmp_path, *extra):
    out = tmp_path / "r.nc"
    code = main(["fit", str(ROMS_SST), "--var", "zeta", "--ratio", "8", "--members", "1", "--iters", "3",
                 "--index-crop", "100", "164", "120", "248", "--device", "cpu", "--quiet", "--out", str(out),
                 "--summary", str(tmp_path / "s.json"), *extra])
    return code, out


def test_the_cli_writes_the_guide_with_cf_attributes_and_says_what_the_gate_did(tmp_path, capsys):
    code, out = _cli(tmp_path, "--guide", f"{ROMS_SST}:temp")
    assert code == 0
    printed = capsys.readouterr().out
    assert "guide " in printed and "coverage" in printed
    with xr.open_dataset(out) as ds:
        g = ds["guide"]
        assert g.attrs["standard_name"] == "sea_surface_temperature" and g.attrs["units"] == "degC"
        assert g.attrs["coverage_content_type"] == "auxiliaryInformation" and g.shape == ds["estimate"].shape
        assert ds.attrs["guide_variable"] == "temp" and ds.attrs["guide_used"] in (0, 1)
        assert np.isnan(g.values[np.isnan(ds["truth"].values)]).all()
    facts = json.loads((tmp_path / "s.json").read_text())
    assert facts["guide"]["variable"] == "temp" and "skill_cv" in facts["guide"]


@pytest.mark.parametrize("spec, words", [
    ("nowhere.nc", "file not found"),
    (f"{ROMS_SST}:salt", "guide variable 'salt' not found"),
    (f"{ROOT / 'assets' / 'gulfstream.nc'}", "no sea surface temperature"),
])
def test_a_bad_guide_is_one_line_and_exit_code_2(tmp_path, capsys, spec, words):
    code, _ = _cli(tmp_path, "--guide", spec)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0] and "Traceback" not in err[0]


def test_arch_does_not_go_with_a_guide(tmp_path, capsys):
    code, _ = _cli(tmp_path, "--guide", f"{ROMS_SST}:temp", "--arch", "decoder")
    assert code == 2 and "--arch does not go with --guide" in capsys.readouterr().err


def test_a_guide_of_another_region_is_refused_on_the_grid(tmp_path, capsys):
    lat, lon = np.linspace(-10, -5, 20), np.linspace(100, 105, 20)
    xr.Dataset({"sst": (("lat", "lon"), np.random.default_rng(0).random((20, 20)), {"units": "K"})},
               coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                       "lon": ("lon", lon, {"units": "degrees_east"})}).to_netcdf(tmp_path / "far.nc")
    code = main(["fit", "blacksea", "--ratio", "4", "--iters", "2", "--members", "1", "--quiet", "--device", "cpu",
                 "--guide", str(tmp_path / "far.nc"), "--out", str(tmp_path / "r.nc")])
    err = capsys.readouterr().err
    assert code == 2 and "does not overlap the field" in err


def test_downscale_takes_a_guide_and_refuses_it_for_a_series(tmp_path, capsys):
    out = tmp_path / "d.nc"
    code = main(["downscale", str(ROMS_SST), "--var", "zeta", "--factor", "2", "--index-crop", "100", "132", "120",
                 "184", "--members", "1", "--iters", "3", "--device", "cpu", "--quiet", "--guide",
                 f"{ROMS_SST}:temp", "--out", str(out)])
    assert code == 0 and "guide:" in capsys.readouterr().out
    with xr.open_dataset(out) as ds:
        assert ds["guide"].shape == ds["estimate"].shape and ds.attrs["guide_file"].endswith("roms_txla_sst.nc")
        assert float(ds.attrs["guide_time_offset_days"]) == 0.0
    code = main(["downscale", str(ROMS_SST), "--var", "zeta", "--factor", "2", "--times", "all", "--guide",
                 f"{ROMS_SST}:temp", "--out", str(tmp_path / "s.nc")])
    assert code == 2 and "one time step" in capsys.readouterr().err
