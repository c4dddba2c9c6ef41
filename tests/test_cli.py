"""The ``ssh-dip`` CLI: happy paths and one clear line (exit 2) for each kind of bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr

from dipcore.cli import main
from dipcore.samples import get_sample
from dipcore.verdict import verdict


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; argparse's own exits (usage errors) count as return codes too."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_samples_lists_every_sample(capsys):
    code, out, _ = run_cli(capsys, "samples")
    assert code == 0
    assert {"gulfstream", "roms_txla"} <= {line.split()[0] for line in out.splitlines()}


def test_inspect_sample(capsys):
    code, out, _ = run_cli(capsys, "inspect", "roms_txla")
    assert code == 0
    assert "zeta" in out and "191 × 300" in out and "time steps:    2" in out
    assert "27.8%" in out  # land fraction of the TXLA grid


def test_inspect_json(capsys):
    code, out, _ = run_cli(capsys, "inspect", str(get_sample("gulfstream").path), "--json")
    info = json.loads(out)
    assert code == 0 and info["variable"] == "adt" and info["grid"] == [128, 256]
    assert info["standard_name"] == "sea_surface_height_above_geoid"


def test_fit_happy_path_writes_netcdf_and_summary(capsys, tmp_path):
    out, summ = tmp_path / "r.nc", tmp_path / "s.json"
    code, stdout, err = run_cli(capsys, "fit", "gulfstream", "--ratio", "8", "--members", "2", "--iters", "12",
                                "--latent-samples", "2", "--noise", "0.05", "--device", "cpu", "--out", str(out),
                                "--summary", str(summ), "--quiet")
    assert code == 0, err
    assert "RMSE" in stdout and "bicubic" in stdout and "IBP" in stdout
    s = json.loads(summ.read_text())
    for key in ("rmse", "ssim"):
        assert set(s[key]) == {"estimate", "bicubic", "ibp"} and all(np.isfinite(v) for v in s[key].values())
    assert s["members"] == 2 and s["iters"] == 12 and s["device"] == "cpu" and s["seconds"] > 0
    assert s["params_per_member"] > 10_000 and s["recipe"] and s["arch"] in ("paper", "skip", "decoder")
    assert [h["step"] for h in s["history"]] == [10, 12] and all(0 < h["ssim"] <= 1 for h in s["history"])
    assert set(s["uncertainty"]["ensemble"]) == {"spread_skill", "corr"}
    # the one-line verdict is dipcore.verdict's sentence for the summary's numbers (RMSE in cm, SSIM)
    r = s["rmse"]
    assert verdict(100 * r["estimate"], 100 * r["ibp"], 100 * r["bicubic"], ssim=s["ssim"]) in stdout.splitlines()
    with xr.open_dataset(out) as ds:
        for v in ("truth", "lowres", "bicubic", "ibp", "estimate", "std", "latent_std"):
            assert v in ds and ds[v].attrs["units"] == "m"
        assert ds.truth.shape == (128, 256) and ds.lowres.shape == (16, 32)
        assert ds.truth.dims == ("latitude", "longitude") and ds.latitude.dims == ("latitude",)
        assert ds.lowres.dims == ("latitude_lr", "longitude_lr") and "longitude_lr" in ds.coords
        cfg = json.loads(ds.attrs["configuration"])
        assert cfg["ratio"] == 8 and cfg["members"] == 2 and cfg["noise"] == 0.05
        # the stored scores are those of the stored fields
        rm = float(np.sqrt(np.nanmean((ds.estimate.values - ds.truth.values) ** 2)))
        assert rm == pytest.approx(s["rmse"]["estimate"], rel=1e-4)


def test_fit_curvilinear_with_index_crop(capsys, tmp_path):
    out = tmp_path / "roms.nc"
    code, _, err = run_cli(capsys, "fit", "roms_txla", "--ratio", "4", "--index-crop", "0", "64", "0", "96",
                           "--time", "1", "--iters", "3", "--out", str(out), "--quiet", "--device", "cpu")
    assert code == 0, err
    with xr.open_dataset(out) as ds:
        assert ds.estimate.shape == (64, 96) and "lat_rho" in ds.coords and "lat_rho_lr" in ds.coords


def test_console_script_runs():
    exe = shutil.which("ssh-dip") or str(__import__("pathlib").Path(sys.executable).parent / "ssh-dip")
    res = subprocess.run([exe, "inspect", "blacksea"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "adt" in res.stdout


def _write(path, **vars_):
    xr.Dataset({k: (("y", "x"), v) for k, v in vars_.items()}).to_netcdf(path)
    return str(path)


@pytest.fixture
def bad_inputs(tmp_path):
    """name -> argv of each kind of bad input."""
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    text = tmp_path / "notes.nc"
    text.write_text("this is not a netcdf file\n")
    good = get_sample("gulfstream").path
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[:5000])
    sst = _write(tmp_path / "sst.nc", sst=np.ones((32, 32), np.float32))
    land = _write(tmp_path / "land.nc", ssh=np.full((32, 32), np.nan, np.float32))
    out = str(tmp_path / "r.nc")
    fit = ["fit", "--iters", "2", "--quiet", "--out", out]
    cases = {
        "missing file": [*fit, str(tmp_path / "nope.nc"), "--ratio", "2"],
        "unknown sample": [*fit, "atlantis", "--ratio", "2"],
        "random bytes": [*fit, str(garbage), "--ratio", "2"],
        "empty file": [*fit, str(empty), "--ratio", "2"],
        "text file": ["inspect", str(text)],
        "truncated netcdf": [*fit, str(truncated), "--ratio", "2"],
        "missing variable": [*fit, "gulfstream", "--var", "sst", "--ratio", "2"],
        "no ssh variable": [*fit, sst, "--ratio", "2"],
        "all land": [*fit, land, "--ratio", "2"],
        "all-land crop": [*fit, "gulfstream", "--index-crop", "120", "128", "0", "20", "--ratio", "2"],
        "too small for ratio": [*fit, "blacksea", "--ratio", "32"],
        "time out of range": [*fit, "mediterranean", "--time", "99", "--ratio", "2"],
        "crop outside grid": [*fit, "gulfstream", "--crop", "-60", "-50", "10", "20", "--ratio", "2"],
        "bad ratio": [*fit, "gulfstream", "--ratio", "3"],
        "negative noise": [*fit, "gulfstream", "--ratio", "2", "--noise", "-0.1"],
        "zero members": [*fit, "gulfstream", "--ratio", "2", "--members", "0"],
        "missing out folder": ["fit", "gulfstream", "--ratio", "2", "--iters", "2", "--out",
                               str(tmp_path / "no" / "such" / "r.nc")],
    }
    if not torch.cuda.is_available():
        cases["cuda unavailable"] = [*fit, "gulfstream", "--ratio", "2", "--device", "cuda"]
    return cases


CASES = ["missing file", "unknown sample", "random bytes", "empty file", "text file", "truncated netcdf",
         "missing variable", "no ssh variable", "all land", "all-land crop", "too small for ratio",
         "time out of range", "crop outside grid", "bad ratio", "negative noise", "zero members",
         "missing out folder", "cuda unavailable"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_clear_line(capsys, bad_inputs, case):
    if case not in bad_inputs:
        pytest.skip("CUDA is available here")
    code, _, err = run_cli(capsys, *bad_inputs[case])
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("fit ×")]
    assert len(lines) == 1, err
    assert lines[0].startswith("ssh-dip: error:") and "Traceback" not in err


EXPECTED_WORDS = {
    "missing file": "not found", "unknown sample": "neither an existing file nor a sample",
    "random bytes": "cannot read", "empty file": "empty (0 bytes)", "text file": "cannot read",
    "truncated netcdf": "cannot read", "missing variable": "'sst' not found", "no ssh variable": "no sea surface",
    "all land": "all land", "all-land crop": "all land", "too small for ratio": "too small for ×32",
    "time out of range": "out of range", "crop outside grid": "contains no grid cell",
    "missing out folder": "does not exist", "cuda unavailable": "CUDA",
}


@pytest.mark.parametrize("case", sorted(EXPECTED_WORDS))
def test_bad_input_message_says_what_is_wrong(capsys, bad_inputs, case):
    if case not in bad_inputs:
        pytest.skip("CUDA is available here")
    code, _, err = run_cli(capsys, *bad_inputs[case])
    assert code == 2 and EXPECTED_WORDS[case] in err, err


def test_debug_flag_shows_traceback(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--debug", "inspect", str(tmp_path / "missing.nc"))
    assert code == 2 and "Traceback" in err



@pytest.mark.parametrize("arch", ["paper", "skip", "decoder"])
def test_fit_arch_option_runs_that_network(capsys, tmp_path, arch):
    out, summ = tmp_path / "r.nc", tmp_path / "s.json"
    code, _, err = run_cli(capsys, "fit", "blacksea", "--ratio", "4", "--iters", "3", "--arch", arch, "--device",
                           "cpu", "--out", str(out), "--summary", str(summ), "--quiet")
    assert code == 0, err
    s = json.loads(summ.read_text())
    assert s["arch"] == arch
    with xr.open_dataset(out) as ds:
        assert json.loads(ds.attrs["configuration"])["arch"] == arch
