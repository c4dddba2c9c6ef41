"""A time series on Dask (``dipcore.downscale.batch``, ``ssh-dip downscale --times``): results equal to serial runs, parts
written as snapshots finish, resumption, bad snapshots skipped, a killed worker does not lose the batch.

Small and short: 4 Mediterranean days of 16×24 cells (taken as the coarse field) ×4, K=2, a few iterations;
workers use one thread each."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import numpy as np
import pytest
import torch
import xarray as xr

pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from dipcore.downscale.batch import PART, SKIP, downscale_batch, parts_folder  # noqa: E402
from dipcore.cli import main  # noqa: E402
from dipcore.downscale import downscale, open_coarse  # noqa: E402
from dipcore.errors import SSHDipError  # noqa: E402
from dipcore.samples import get_sample  # noqa: E402

FAST = dict(members=2, iters=3, device="cpu", seed=0)
QUIET = dict(progress=False, dashboard=None, log=lambda *a: None)


@pytest.fixture(scope="module")
def days():
    """4 Mediterranean days, a 16×24 crop (1/8°) with coast, read as a coarse time series."""
    return open_coarse(get_sample("mediterranean").path, times="0:4", index_crop=(40, 56, 100, 124))


@pytest.fixture(scope="module")
def cluster():
    """One 2-worker local cluster shared by the tests that pass its address (``scheduler=``)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers: the serial reference is then bit for bit the same computation
    yield
    torch.set_num_threads(n)


def test_local_cluster_equals_serial(days, tmp_path, one_thread):
    da, prov = days
    out = tmp_path / "med.nc"
    res = downscale_batch(da, 4, out, workers=2, provenance=prov, **FAST, **QUIET)
    assert sorted(res.computed) == [0, 1, 2, 3] and not res.reused and not res.skipped and not res.failed
    assert sorted(p.name for p in parts_folder(out).glob("t*.nc")) == [PART.format(i) for i in range(4)]
    with xr.open_dataset(out) as ds:
        assert ds.estimate.dims == ("time", "latitude", "longitude") and ds.estimate.shape == (4, 64, 96)
        assert list(ds.time_index.values) == [0, 1, 2, 3] and ds.attrs["snapshots_done"] == 4
        assert json.loads(ds.attrs["skipped"]) == {}
        for k in range(4):  # the same seeds give the same answer as a serial run of that day alone
            one = downscale(da.isel(time=k), 4, **FAST)
            for v in ("estimate", "std", "ibp"):
                np.testing.assert_array_equal(ds[v][k].values, one[v].values)
            np.testing.assert_array_equal(ds.observation[k].values, da[k].values)


def test_rerun_computes_only_missing_and_refuses_other_settings(days, tmp_path, cluster):
    da, prov = days
    out = tmp_path / "med.nc"
    addr = cluster.scheduler_address
    first = downscale_batch(da, 4, out, scheduler=addr, provenance=prov, **FAST, **QUIET)
    assert sorted(first.computed) == [0, 1, 2, 3]
    before = xr.load_dataset(out)
    (parts_folder(out) / PART.format(2)).unlink()                # an interruption lost day 2
    again = downscale_batch(da, 4, out, scheduler=addr, provenance=prov, **FAST, **QUIET)
    assert again.computed == [2] and sorted(again.reused) == [0, 1, 3]
    after = xr.load_dataset(out)
    np.testing.assert_array_equal(after.estimate.values, before.estimate.values)
    with pytest.raises(SSHDipError, match="other settings"):
        downscale_batch(da, 4, out, scheduler=addr, provenance=prov, **{**FAST, "iters": 4}, **QUIET)


def test_bad_snapshot_listed_not_fatal(days, tmp_path, cluster):
    da, prov = days
    da = da.copy()
    da[1] = np.nan                                              # an all-missing day
    out = tmp_path / "bad.nc"
    lines = []
    res = downscale_batch(da, 4, out, scheduler=cluster.scheduler_address, provenance=prov, **FAST,
                          progress=False, log=lines.append)
    assert sorted(res.computed) == [0, 2, 3] and list(res.skipped) == [1] and "no ocean value" in res.skipped[1]
    assert any(line.startswith("skipped snapshot 1:") for line in lines)
    assert (parts_folder(out) / SKIP.format(1)).exists()
    with xr.open_dataset(out) as ds:
        assert json.loads(ds.attrs["skipped"]) == {"1": res.skipped[1]} and "1 skipped" in ds.attrs["summary"]
        assert np.isnan(ds.estimate[1]).all() and np.isfinite(ds.estimate[2]).any()
    again = downscale_batch(da, 4, out, scheduler=cluster.scheduler_address, provenance=prov, **FAST, **QUIET)
    assert not again.computed and list(again.skipped) == [1]   # a bad day is not retried


def test_all_bad_is_an_error(days, tmp_path, cluster):
    da = days[0].isel(time=slice(0, 2)) * np.nan
    with pytest.raises(SSHDipError, match="no snapshot could be downscaled"):
        downscale_batch(da, 4, tmp_path / "x.nc", scheduler=cluster.scheduler_address, **FAST, **QUIET)


def test_killed_worker_does_not_lose_the_batch(days, tmp_path, cluster):
    """SIGKILL the worker running a snapshot: its nanny restarts it and the scheduler reruns the task."""
    da, prov = days
    da = da.isel(time=slice(0, 2))
    killed = {}
    with Client(cluster) as client:
        def killer():
            deadline = time.time() + 60
            while time.time() < deadline and not killed:
                busy = {w: ts for w, ts in client.processing().items() if ts}
                if busy:
                    time.sleep(0.5)                            # well inside the task (torch import, the fit)
                    busy = {w: ts for w, ts in client.processing().items() if ts}
                    if busy:
                        worker, tasks = next(iter(busy.items()))
                        pid = client.run(os.getpid, workers=[worker])[worker]
                        os.kill(pid, signal.SIGKILL)
                        killed.update(worker=worker, tasks=list(tasks))
                time.sleep(0.05)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        res = downscale_batch(da, 4, tmp_path / "k.nc", scheduler=cluster.scheduler_address, provenance=prov,
                              **{**FAST, "iters": 40}, **QUIET)
        thread.join(5)
    assert killed, "no task was seen running: nothing was killed"
    assert sorted(res.computed) == [0, 1] and not res.failed
    with xr.open_dataset(tmp_path / "k.nc") as ds:
        assert np.isfinite(ds.estimate.values).any(axis=(1, 2)).all()


def test_cli_time_series_on_a_running_scheduler(tmp_path, cluster, capsys):
    src = tmp_path / "days.nc"
    with xr.open_dataset(get_sample("mediterranean").path) as ds:
        ds.isel(time=slice(0, 3), latitude=slice(40, 56), longitude=slice(100, 124)).to_netcdf(src)
    out = tmp_path / "series.nc"
    argv = ["downscale", str(src), "--factor", "4", "--times", "all", "--members", "2", "--iters", "3",
            "--device", "cpu", "--scheduler", cluster.scheduler_address, "--out", str(out), "--quiet"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "3 snapshots, 3 computed, 0 reused" in stdout and f"wrote {out}" in stdout
    assert main(argv) == 0                                      # nothing left to do: only the combination
    assert "0 computed, 3 reused" in capsys.readouterr().out
    with xr.open_dataset(out) as ds:
        assert ds.estimate.shape == (3, 64, 96) and ds.attrs["input_file"] == str(src)
    try:
        from test_cf import assert_compliant
    except BaseException:  # compliance-checker missing: test_cf skips itself at import
        return
    assert_compliant(out)
