"""The sweeps on Dask (``workers=`` / ``scheduler=``, ``ssh-dip experiment … --workers N | --scheduler ADDRESS``):
the same tables as serial runs with the same seeds, a case that fails on a worker recorded as a row, the CLI's
options; and the case ranges (``sample:START:STOP``) that make a many-snapshot sweep one argument.

Small and short: a 32×64 Black Sea crop, 2 iterations, one shared 2-worker local cluster (1 thread each)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from dipcore import experiments as ex
from dipcore.cli import main
from dipcore.errors import SSHDipError

CASE = "blacksea@0:32,0:64"
LAND = "mediterranean:0@0:32,0:64"  # an all-land crop: loading it raises an SSHDipError (on the worker)
FAST = dict(iters=2, device="cpu", seed=0)
TIMING = ["seconds"]  # wall times differ between runs; every other column must not


# ---------------------------------------------------------------------------------------------------------------
# Case ranges (no cluster)
# ---------------------------------------------------------------------------------------------------------------

def test_expand_cases_ranges_and_file_times(tmp_path):
    assert ex.expand_cases(["mediterranean:1:4@0:64,0:64", "gulfstream", CASE]) == [
        "mediterranean:1@0:64,0:64", "mediterranean:2@0:64,0:64", "mediterranean:3@0:64,0:64", "gulfstream", CASE]
    f = tmp_path / "x.nc"
    f.write_bytes(b"")
    assert ex.expand_cases([f"{f}:0:2"]) == [f"{f}:0", f"{f}:1"]
    c = ex.parse_case(f"{f}:5@0:8,0:8")
    assert (c.source, c.time, c.index_crop) == (str(f), 5, (0, 8, 0, 8))
    with pytest.raises(SSHDipError, match="STOP > START"):
        ex.expand_cases(["mediterranean:3:3"])
    with pytest.raises(SSHDipError, match="integer"):
        ex.parse_case(f"{f}:x")


def test_cluster_options_are_checked_before_any_work(tmp_path):
    with pytest.raises(SSHDipError, match="not both"):
        ex.run_ratios([CASE], [2], [0.0], workers=2, scheduler="tcp://127.0.0.1:1", out=tmp_path / "o", **FAST)
    assert not (tmp_path / "o").exists()
    with pytest.raises(SSHDipError, match="at least 1"):
        ex.run_ratios([CASE], [2], [0.0], workers=0, **FAST)


@pytest.mark.parametrize("argv", [["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], ["--workers", "0"]])
def test_cli_refuses_bad_cluster_options(capsys, tmp_path, argv):
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "ratios", "--quick", "--out", str(tmp_path), *argv])
    assert exc.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_help_says_how_to_start_a_cluster(capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    out = capsys.readouterr().out
    assert "--workers N" in out and "--scheduler ADDRESS" in out
    assert "dask scheduler" in out and "dask worker tcp://HOST:8786" in out


# ---------------------------------------------------------------------------------------------------------------
# On a 2-worker local cluster
# ---------------------------------------------------------------------------------------------------------------

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """One 2-worker local cluster (processes, 1 thread each) for the module; passed as ``scheduler=``."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as cl:
        yield cl


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers: the serial reference is then the same computation
    yield
    torch.set_num_threads(n)


def assert_same_table(serial: pd.DataFrame, cluster: pd.DataFrame) -> None:
    a, b = serial.drop(columns=TIMING, errors="ignore"), cluster.drop(columns=TIMING, errors="ignore")
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]):
            np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=1e-5, atol=1e-7,
                                       equal_nan=True, err_msg=col)
        else:
            assert a[col].fillna("").tolist() == b[col].fillna("").tolist(), col


def test_ratios_on_cluster_equal_serial_in_the_serial_order(tmp_path, client, one_thread):
    # unsorted ratios and noises: the table keeps the serial order, not the order the fits finish in
    kw = dict(cases=[CASE, "blacksea@8:40,0:64"], ratios=[4, 32], noises=[0.05, 0.0], **FAST)
    serial = ex.run_ratios(out=tmp_path / "s", **kw)
    seen: list[tuple[str, float]] = []
    par = ex.run_ratios(out=tmp_path / "c", scheduler=client, on_progress=lambda m, f: seen.append((m, f)), **kw)
    assert_same_table(serial.table, par.table)
    assert_same_table(pd.read_csv(tmp_path / "s" / "ratios.csv"), pd.read_csv(tmp_path / "c" / "ratios.csv"))
    assert par.table["note"].fillna("").str.contains("too small").sum() == 2 * 2 * 3  # ×32: 2 cases × 2 noises
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == sorted(p.name for p in (tmp_path / "s").iterdir())
    config = [json.loads((tmp_path / d / "config.json").read_text()) for d in ("s", "c")]
    assert config[0] == config[1]  # the cluster leaves no trace in the outputs
    assert seen[0][0].startswith("Dask: 2 worker(s)")
    lines = [m for m, _ in seen[1:]]
    assert len(lines) == 8 and all(m.startswith(f"[{i + 1}/8] ") for i, m in enumerate(lines))
    assert [f for _, f in seen[1:]] == pytest.approx([(i + 1) / 8 for i in range(8)])
    assert set(client.run(torch.get_num_threads).values()) == {1}  # one core per worker, no oversubscription


def test_a_case_failing_on_a_worker_is_a_row_with_a_note(tmp_path, client):
    res = ex.run_ratios([CASE, LAND], [2], [0.0], scheduler=client, **FAST)
    t = res.table
    assert list(t["case"]) == [CASE] * 3 + [LAND] * 3
    bad = t[t["case"] == LAND]
    assert bad["rmse_cm"].isna().all() and bad["note"].str.startswith("skipped: ").all()
    assert bad["note"].str.contains("all land").all()
    assert np.isfinite(t[t["case"] == CASE]["rmse_cm"]).all()


def test_ensemble_size_and_uncertainty_on_cluster_equal_serial(tmp_path, client, one_thread):
    kw = dict(cases=[CASE], ratios=[4], noises=[0.0], members=2, **FAST)
    assert_same_table(ex.run_ensemble_size(**kw).table, ex.run_ensemble_size(scheduler=client, **kw).table)
    serial = ex.run_uncertainty(latent_samples=3, out=tmp_path / "s", **kw)
    par = ex.run_uncertainty(latent_samples=3, out=tmp_path / "c", scheduler=client, **kw)
    assert_same_table(serial.table, par.table)
    # the maps come back from the worker: this process writes the same figures and NetCDF
    assert [p.name for p in par.files[3:]] == [p.name for p in serial.files[3:]]
    assert any(p.suffix == ".nc" for p in par.files)
    with pytest.raises(SSHDipError, match="all land"):  # no note column here: it stops, as serially
        ex.run_ensemble_size(**{**kw, "cases": [LAND]}, scheduler=client)


def test_should_stop_cancels_the_cluster_run(client):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    with pytest.raises(ex.ExperimentCancelled):
        ex.run_ratios([CASE], [2, 4], [0.0, 0.05], scheduler=client, should_stop=stop, **FAST)


def test_cli_on_a_running_scheduler_prints_the_cluster_and_writes_the_same_files(capsys, tmp_path, client):
    args = ["experiment", "ratios", "--quick", "--iters", "2", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "c"), "--scheduler", client.scheduler.address]) == 0
    out, err = capsys.readouterr()
    assert "Dask: 2 worker(s) at tcp://" in err and "[2/2]" in err and "2/2" in err.split("[2/2]")[-1]
    assert "ratios: 6 rows" in out
    assert_same_table(pd.read_csv(tmp_path / "s" / "ratios.csv"), pd.read_csv(tmp_path / "c" / "ratios.csv"))
