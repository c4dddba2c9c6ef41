"""Experiment sweeps: CLI smoke runs (tiny crops, 2 iterations), pure helpers with known answers, bad input,
cancellation, and the explorer's Experiments tab run server-side."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from dipcore import experiments as ex
from dipcore.cli import main
from dipcore.errors import SSHDipError

CASE = "blacksea@0:32,0:64"  # 32×64 real crop: the cheapest grid the generator handles
FAST = ["--cases", CASE, "--iters", "2", "--device", "cpu"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_png(path) -> None:
    from PIL import Image

    assert path.exists() and path.stat().st_size > 5000
    with Image.open(path) as im:
        im.verify()
        assert im.format == "PNG"
    with Image.open(path) as im:
        assert min(im.size) > 200


# ---------------------------------------------------------------------------------------------------------------
# CLI smoke runs
# ---------------------------------------------------------------------------------------------------------------

def test_ratios_cli_writes_tidy_csv_figures_and_skips_too_small(capsys, tmp_path):
    code, out, err = run_cli(capsys, "experiment", "ratios", "--out", str(tmp_path), *FAST,
                             "--ratios", "2", "32", "--noise", "0.05", "--recipe", "paper")
    assert code == 0, err
    t = pd.read_csv(tmp_path / "ratios.csv")
    assert list(t.columns) == ex.RATIO_COLUMNS
    assert len(t) == 6  # 1 case × 2 ratios × 1 noise × {dip, ibp, bicubic}
    ok = t[t["note"].isna()]
    assert set(ok["ratio"]) == {2} and set(ok["method"]) == {"dip", "ibp", "bicubic"}
    # IBP meets the data that bicubic only interpolates: never worse than bicubic on this noisy real field
    assert ok.set_index("method").loc["ibp", "rmse_cm"] <= ok.set_index("method").loc["bicubic", "rmse_cm"]
    assert np.isfinite(ok[["rmse_cm", "ssim", "nrmse", "eff_res_km"]].to_numpy()).all()
    assert (ok["rmse_cm"] > 0).all() and (ok["recipe"] == "paper").all() and (ok["iters"] == 2).all()
    skipped = t[t["ratio"] == 32]
    assert skipped["note"].str.contains("too small").all() and skipped["rmse_cm"].isna().all()
    assert_png(tmp_path / "ratios.png")
    assert_png(tmp_path / "ratios_maps.png")
    # one stderr line per fit (and per skipped combination), no per-step noise
    assert [line.startswith("[") for line in err.strip().splitlines()] == [True, True]
    assert "rmse_cm" in out and "bicubic" in out
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["recipe"] == "paper" and cfg["recipe_fields"]["name"] == "paper" and "lr" in cfg["recipe_fields"]


def test_ensemble_size_cli_rows_per_k(capsys, tmp_path):
    code, out, err = run_cli(capsys, "experiment", "ensemble-size", "--out", str(tmp_path), *FAST,
                             "--ratios", "4", "--members", "3")
    assert code == 0, err
    t = pd.read_csv(tmp_path / "ensemble-size.csv")
    assert list(t.columns) == ex.ENSEMBLE_COLUMNS
    assert len(t) == 3 * len(ex.ENSEMBLE_METHODS)
    assert sorted(t["k"].unique()) == [1, 2, 3]
    assert np.isfinite(t[["rmse_cm", "ssim", "nrmse"]].to_numpy()).all()
    at1 = t[t["k"] == 1].set_index("method")["rmse_cm"]
    # with one member, the ensemble mean, the mean member and the best member are the same field; the CSV rounds
    # to 6 decimals, so two roundings of (nearly) one number differ by at most one unit of the last decimal
    csv_unit = 1e-6 + 1e-12
    assert at1["ensemble_mean"] == pytest.approx(at1["mean_member"], abs=csv_unit)
    assert at1["ensemble_mean"] == pytest.approx(at1["best_member"], abs=csv_unit)
    assert_png(tmp_path / "ensemble_size.png")


def test_uncertainty_cli_maps_netcdf_and_diagnostics(capsys, tmp_path):
    import xarray as xr

    code, out, err = run_cli(capsys, "experiment", "uncertainty", "--out", str(tmp_path), *FAST,
                             "--ratios", "4", "--members", "2", "--latent-samples", "3")
    assert code == 0, err
    t = pd.read_csv(tmp_path / "uncertainty.csv")
    assert list(t.columns) == ex.UNCERTAINTY_COLUMNS
    assert list(t["source"]) == ["ensemble", "latent", "total", "predictive"]
    cols = ["mean_std_cm", "rms_std_cm", "rmse_cm", "corr_abs_error", "spread_skill", "crps_gauss_cm"]
    assert np.isfinite(t[cols].to_numpy()).all() and (t["mean_std_cm"] > 0).all()
    assert np.isfinite(t.loc[0, "crps_cm"]) and np.isnan(t.loc[1, "crps_cm"])
    # the total std adds the calibrated sub-grid part to the members' spread: never below it
    assert t.loc[2, "rms_std_cm"] >= t.loc[0, "rms_std_cm"]
    nc = list(tmp_path.glob("uncertainty_*.nc"))
    assert len(nc) == 1
    with xr.open_dataset(nc[0]) as ds:
        assert {"truth", "estimate", "uncertainty", "std", "latent_std", "abs_error"} <= set(ds.data_vars)
        assert ds["abs_error"].shape == (32, 64)
    for png in ("maps", "bins"):
        assert_png(next(tmp_path.glob(f"uncertainty_*_{png}.png")))


@pytest.mark.parametrize("argv, words", [
    (["experiment", "nope", "--out", "X"], "invalid choice"),
    (["experiment", "ratios", "--out", "{tmp}", "--cases", "atlantis"], "neither an existing file nor a sample"),
    (["experiment", "ratios", "--out", "{tmp}", "--cases", "mediterranean:x"], "time index"),
    (["experiment", "ratios", "--out", "{tmp}", "--cases", "blacksea@0:10"], "@y0:y1,x0:x1"),
    (["experiment", "ratios", "--out", "{tmp}", "--ratios", "3"], "invalid choice"),
    (["experiment", "ratios", "--out", "{tmp}", "--noise", "-0.1"], "≥ 0"),
    (["experiment", "ratios", "--out", "{tmp}", "--recipe", "magic", "--quick"], "unknown recipe"),
    (["experiment", "ensemble-size", "--out", "{tmp}", "--members", "1", "--quick"], "at least 2 members"),
    (["experiment", "ratios", "--out", "{file}", "--quick"], "not a folder"),
    (["experiment", "ratios"], "--out"),
])
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, argv, words):
    (tmp_path / "f.txt").write_text("x")
    argv = [a.format(tmp=tmp_path / "o", file=tmp_path / "f.txt") for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------------------------

def test_cumulative_means_known_answer():
    m = np.array([[1.0, np.nan], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]])  # (K=4, 2)
    out = ex.cumulative_means(m)
    assert np.allclose(out[:, 0], [1, 2, 3, 4])
    assert np.isnan(out[:, 1]).all()  # land (NaN) stays land
    grid = np.random.default_rng(0).normal(size=(5, 3, 4))
    assert np.allclose(ex.cumulative_means(grid)[2], grid[:3].mean(axis=0))


def test_ensemble_size_rows_mean_beats_members_by_construction():
    truth = np.zeros((16, 16))
    truth[0, 0] = np.nan
    d = 0.1
    members = np.stack([truth + d, truth - d, truth + 3 * d])
    rows = pd.DataFrame(ex.ensemble_size_rows(members, truth, truth + 0.5, dx_km=None))
    r = rows.set_index(["k", "method"])["rmse_cm"]
    assert r[(1, "ensemble_mean")] == pytest.approx(10)
    assert r[(2, "ensemble_mean")] == pytest.approx(0, abs=1e-9)      # +d and −d cancel
    assert r[(2, "mean_member")] == pytest.approx(10)
    assert r[(3, "mean_member")] == pytest.approx((10 + 10 + 30) / 3)
    assert r[(3, "best_member")] == pytest.approx(10)
    assert r[(3, "ensemble_mean")] == pytest.approx(100 * d)           # mean offset is +d
    assert np.allclose(rows[rows["method"] == "bicubic"]["rmse_cm"], 50)
    with_ibp = pd.DataFrame(ex.ensemble_size_rows(members, truth, truth + 0.5, dx_km=None, ibp=truth + 0.2))
    assert np.allclose(with_ibp[with_ibp["method"] == "ibp"]["rmse_cm"], 20) and len(with_ibp) == len(rows) + 3


def test_gaussian_crps_limits():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(20, 20))
    mean = truth + 0.3
    assert ex.gaussian_crps(mean, np.full_like(truth, 1e-9), truth) == pytest.approx(0.3, rel=1e-6)
    # a standard normal forecast of a value at its mean: σ(2φ(0) − 1/√π) = 0.2337…
    assert ex.gaussian_crps(truth, np.ones_like(truth), truth) == pytest.approx(0.23369, abs=1e-4)


def test_uncertainty_rows_perfectly_informative_spread():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(30, 30))
    std = np.abs(rng.normal(size=truth.shape)) + 0.01
    est = truth + std  # |error| equals the std map exactly
    rows = ex.uncertainty_rows(est, truth, std, 0.5 * std, np.stack([est - std, est + std]))
    ens, lat = rows
    assert ens["corr_abs_error"] == pytest.approx(1.0) and lat["corr_abs_error"] == pytest.approx(1.0)
    assert ens["spread_skill"] == pytest.approx(1.0) and lat["spread_skill"] == pytest.approx(0.5)
    assert lat["mean_std_cm"] == pytest.approx(0.5 * ens["mean_std_cm"])


def test_parse_case_forms(tmp_path):
    assert ex.parse_case("mediterranean:3") == ex.Case("mediterranean:3", "mediterranean", 3, None)
    c = ex.parse_case("roms_txla:1@0:64,10:74")
    assert (c.source, c.time, c.index_crop) == ("roms_txla", 1, (0, 64, 10, 74))
    assert ex.parse_case("gulfstream").time == 0
    f = tmp_path / "x.nc"
    f.write_bytes(b"")
    assert ex.parse_case(str(f)).source == str(f)
    with pytest.raises(SSHDipError):
        ex.parse_case("mediterranean:-1")


def test_should_stop_cancels_before_any_fit(tmp_path):
    with pytest.raises(ex.ExperimentCancelled):
        ex.run_experiment("ratios", quick=True, out=tmp_path, device="cpu", should_stop=lambda: True)


def test_on_progress_fractions_reach_one(tmp_path):
    seen: list[tuple[str, float]] = []
    ex.run_experiment("ratios", quick=True, cases=[CASE], ratios=[2, 32], iters=2, device="cpu",
                      on_progress=lambda m, f: seen.append((m, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any(ex.STEP_MARKER in m for m, _ in seen)


def test_load_results_reads_a_folder_and_refuses_an_empty_one(tmp_path):
    with pytest.raises(SSHDipError):
        ex.load_results(tmp_path)
    pd.DataFrame({"ratio": [2], "method": ["dip"], "rmse_cm": [1.0]}).to_csv(tmp_path / "ratios.csv", index=False)
    res = ex.load_results(tmp_path)
    assert res.name == "ratios" and len(res.table) == 1


# ---------------------------------------------------------------------------------------------------------------
# Explorer tab, server-side (no browser): construct, run quick in the background, wait for the table
# ---------------------------------------------------------------------------------------------------------------

def test_experiments_tab_runs_quick_in_background_and_fills_table(tmp_path):
    pytest.importorskip("panel")
    from explorer.ui.experiments import ExperimentsTab

    tab = ExperimentsTab()
    tab.__panel__()
    tab.experiment = "ratios"
    tab.quick = True
    tab.iters = 2
    tab.out_dir = str(tmp_path / "ui")
    tab.run()  # returns at once: the fit runs in a worker thread
    assert tab.running
    deadline = time.time() + 60
    while time.time() < deadline and tab.running:
        time.sleep(0.2)
        tab.flush()  # what the periodic callback does in a served page
    tab.flush()
    assert not tab.running and tab.error == ""
    assert len(tab.table.value) > 0 and "rmse_cm" in tab.table.value.columns
    assert tab.progress.value == 100
    assert len(tab.figures) >= 1
    # Load reads an existing folder; a bad folder shows an Alert instead of raising
    tab.load_dir = str(tmp_path / "ui")
    tab.load()
    tab.flush()
    assert len(tab.table.value) > 0
    tab.load_dir = str(tmp_path / "missing")
    tab.load()
    assert tab.alert.visible and "not a folder" in tab.alert.object


def test_experiments_tab_close_stops_its_sweep(tmp_path):
    # A closed tab's sweep must not run on for nobody: close() (called when the browser session ends) stops it at
    # its next fit step and the worker ends.
    pytest.importorskip("panel")
    from explorer.ui.experiments import ExperimentsTab

    tab = ExperimentsTab()
    tab.experiment, tab.quick, tab.iters, tab.out_dir = "ratios", True, 5000, str(tmp_path / "closed")
    tab.run()
    assert tab.running
    tab.close()
    tab.job.join(60)
    assert tab.job.stop_requested and not tab.job.alive
    tab.flush()
    assert not tab.running and tab.status == "stopped"
