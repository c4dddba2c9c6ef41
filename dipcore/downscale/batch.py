"""Downscale a time series on a Dask cluster: one task per snapshot, nothing lost.

:func:`downscale_batch` runs :func:`dipcore.downscale.downscale` on every snapshot of a (time, y, x) input as one
``dask.distributed`` task each, on a ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)`` it
starts (and stops) or on an existing cluster whose scheduler address is given (:mod:`dipcore.downscale.cluster`, which
also says how to start one by hand). The client writes each finished snapshot at once to its own NetCDF file in
``<out>.parts/`` (``t000012.nc``, by the input file's time index; written to a temporary name then renamed, so a
part is complete or absent) and combines the parts into ``out`` at the end. So:

- re-running the same call computes only the snapshots without a part (``config.json`` in the folder refuses
  parts made with other settings);
- a bad snapshot (all land, all NaN: a :class:`~dipcore.errors.SSHDipError` in the task) is recorded as skipped
  with its reason (``t000012.skipped.json``; the combined file's ``skipped`` attribute) and the batch goes on;
- a task that raised anything else is retried (``retries``) and then reported as failed, without a part, so the
  next run tries it again;
- a worker that dies mid-task (killed, out of memory) is restarted by its nanny and the scheduler runs its task
  again elsewhere (up to ``distributed.scheduler.allowed-failures`` times, 3 by default).

Each task sets PyTorch's intra-op threads to ``threads`` (1 by default: one core per worker, so N workers use N
cores). The workers need ssh-dip installed (``pip install -e .`` of this repository) in the same environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from dipcore.downscale.cluster import dashboard_link, open_client
from dipcore.downscale.cf import combine, time_indices
from dipcore.downscale.fit import check_request, downscale
from dipcore.errors import SSHDipError
from dipcore.export import write_netcdf

PART = "t{:06d}.nc"
SKIP = "t{:06d}.skipped.json"
CONFIG = "config.json"


@dataclass
class BatchResult:
    """What a batch did: the combined file, and per snapshot (input time index) what happened this run."""

    path: Path | None
    parts: Path
    computed: list[int] = field(default_factory=list)   # downscaled in this run
    reused: list[int] = field(default_factory=list)     # parts found from an earlier run
    skipped: dict[int, str] = field(default_factory=dict)  # bad snapshots and why
    failed: dict[int, str] = field(default_factory=dict)   # errors after the retries (rerun to try again)
    seconds: float = 0.0
    dashboard: str | None = None
    expected_rmse_m: float | None = None  # the RMS over the series of each snapshot's truth-free expected RMSE


def parts_folder(out: str | os.PathLike) -> Path:
    """``<out>.parts/`` beside the combined file."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _task(snapshot: xr.DataArray, factor: int, options: dict, threads: int) -> dict:
    """One snapshot on a worker: ``{"dataset": ds}`` or ``{"skipped": reason}`` for a bad snapshot."""
    import torch

    torch.set_num_threads(threads)
    try:  # a configuration this worker cannot run (no GPU) fails the task; it is no bad snapshot
        check_request(factor, members=options["members"], recipe=options["recipe"], device=options["device"],
                      iters=options["iters"], noise_sigma=options["noise_sigma"])
    except SSHDipError as exc:
        raise RuntimeError(f"this worker cannot run the configuration: {exc}") from None
    try:
        return {"dataset": downscale(snapshot, factor, **options)}
    except SSHDipError as exc:
        return {"skipped": str(exc)}


def _write_atomic(ds: xr.Dataset, path: Path) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    write_netcdf(ds, tmp)
    os.replace(tmp, path)


def _settings(da: xr.DataArray, factor: int, options: dict, provenance: dict | None) -> dict:
    """What makes a part reusable: the input, its grid and the fit's settings (not the device or workers)."""
    mask = options.get("mask")
    p = provenance or {}
    return {"factor": int(factor), "members": int(options["members"]), "recipe": str(options["recipe"]),
            "seed": int(options["seed"]), "iters": options["iters"], "noise_sigma": float(options["noise_sigma"]),
            "keep_members": bool(options["keep_members"]), "input": str(p.get("input", "")),
            "uncertainty_prior": str(options.get("uncertainty_prior", "auto")),
            "variable": str(p.get("variable", da.name)), "crop": p.get("crop"), "index_crop": p.get("index_crop"),
            "grid": [int(s) for s in da.shape[-2:]],
            "mask": hashlib.sha1(np.ascontiguousarray(np.asarray(mask, dtype=bool)).tobytes()).hexdigest()
            if mask is not None else None}


def _check_parts(folder: Path, settings: dict) -> None:
    path = folder / CONFIG
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old != settings:
            diff = ", ".join(f"{k} {old.get(k)!r} → {v!r}" for k, v in settings.items()
                             if isinstance(old, dict) and old.get(k) != v) or "unreadable config.json"
            raise SSHDipError(f"{folder} holds parts of a run with other settings ({diff}); delete that folder or "
                              "write to another --out")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1))


def downscale_batch(da: xr.DataArray, factor: int, out: str | os.PathLike, *, members: int = 4,
                    recipe: str = "default", seed: int = 0, device: str = "auto", iters: int | None = None,
                    mask=None, keep_members: bool = False, noise_sigma: float = 0.0, workers: int = 2,
                    scheduler: str | None = None, retries: int = 2, threads: int = 1, progress: bool = True,
                    dashboard: str | None = ":8787", provenance: dict | None = None, history: str | None = None,
                    log=print, uncertainty_prior: str = "auto") -> BatchResult:
    """Downscale every snapshot of the (time, y, x) ``da`` on Dask, one task each; write ``out`` at the end.

    Parameters
    ----------
    da : xarray.DataArray
        Coarse SSH (time, y, x), metres, land NaN; its ``time_index`` coordinate (if any) names the parts.
    factor, members, recipe, seed, device, iters, mask, keep_members, noise_sigma, uncertainty_prior
        As for :func:`dipcore.downscale.downscale` (every snapshot uses the same seed).
    out : path
        The combined NetCDF file; the parts go to ``<out>.parts/``.
    workers : int
        Worker processes of the local cluster (1 thread each); ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``) to use instead of a local cluster.
    retries : int
        How many times a task that raised is run again before it counts as failed.
    threads : int
        PyTorch intra-op threads in each task.
    progress : bool
        A tqdm bar (done/total, ETA) on stderr.
    dashboard : str, optional
        The local cluster's dashboard address (``":0"`` picks a free port, None turns it off).
    log : callable
        Where the run's lines go (the dashboard address, skipped and failed snapshots).

    Returns
    -------
    BatchResult
        ``path`` is None when no snapshot could be downscaled yet (all failed); a run where every snapshot is
        a bad one raises.
    """
    t0 = time.perf_counter()
    # the device is checked here for a local cluster only: a remote one may have GPUs this machine lacks
    check_request(factor, members=members, recipe=recipe, device=device if scheduler is None else "auto",
                  iters=iters, noise_sigma=noise_sigma)
    if da.ndim != 3:
        raise SSHDipError(f"a batch needs a (time, y, x) input; got dims {da.dims}")
    out = Path(out)
    folder = parts_folder(out)
    options = dict(members=int(members), recipe=recipe, seed=int(seed), device=device, iters=iters, mask=mask,
                   keep_members=keep_members, noise_sigma=float(noise_sigma), provenance=provenance,
                   history=history, uncertainty_prior=uncertainty_prior)
    _check_parts(folder, _settings(da, factor, options, provenance))
    res = BatchResult(path=None, parts=folder)
    todo = _todo(da, folder, res, log)
    if todo:
        _run(da, factor, options, todo, folder, res, workers, scheduler, retries, threads, progress, dashboard, log)
    for i, why in sorted(res.skipped.items()):
        log(f"skipped snapshot {i}: {why}")
    for i, why in sorted(res.failed.items()):
        log(f"FAILED snapshot {i}: {why}")
    res.path = _combine_parts(da, folder, res, out, history)
    res.seconds = time.perf_counter() - t0
    return res


def _todo(da: xr.DataArray, folder: Path, res: BatchResult, log) -> list[tuple[int, int]]:
    """The snapshots left to compute, as (position in ``da``, time index); those an earlier run finished (a part)
    or found bad (a skip record) go to ``res`` instead."""
    idx = time_indices(da)
    todo = []
    for k, i in enumerate(idx):
        if (folder / PART.format(i)).exists():
            res.reused.append(i)
        elif (folder / SKIP.format(i)).exists():
            res.skipped[i] = json.loads((folder / SKIP.format(i)).read_text())["reason"]
        else:
            todo.append((k, i))
    if res.reused or res.skipped:
        log(f"{len(res.reused) + len(res.skipped)} of {len(idx)} snapshots already in {folder}; "
            f"{len(todo)} to compute")
    return todo


def _combine_parts(da: xr.DataArray, folder: Path, res: BatchResult, out: Path, history: str | None
                   ) -> Path | None:
    """Combine the parts in ``folder`` into ``out``; None when there is none yet (all failed).

    Raises
    ------
    SSHDipError
        When every snapshot is a bad one, or ``out`` cannot be written.
    """
    results = {}
    for i in time_indices(da):
        p = folder / PART.format(i)
        if p.exists():
            with xr.open_dataset(p) as part:
                results[i] = part.load()
    if not results and not res.failed:
        raise SSHDipError("no snapshot could be downscaled: " +
                          "; ".join(f"{i}: {r}" for i, r in sorted(res.skipped.items())))
    if not results:
        return None
    ds = combine(da, results, res.skipped, failed=res.failed, history=history)
    res.expected_rmse_m = ds.attrs.get("expected_rmse_m")
    try:
        _write_atomic(ds, out)
    except OSError as exc:
        raise SSHDipError(f"cannot write {out}: {exc}") from exc
    return out


def _run(da, factor, options, todo, folder, res, workers, scheduler, retries, threads, progress, dashboard, log):
    from distributed import as_completed
    from tqdm import tqdm

    tdim = da.dims[0]
    run_id = uuid.uuid4().hex[:8]
    with open_client(workers, scheduler, dashboard, log) as client:
        res.dashboard = dashboard_link(client)
        futures = {}
        for k, i in todo:
            snap = da.isel({tdim: k})
            fut = client.submit(_task, snap, factor, options, threads, key=f"ssh-dip-t{i:06d}-{run_id}",
                                retries=retries, pure=False)
            futures[fut] = i
        with tqdm(total=len(futures), disable=not progress, unit="snapshot", file=sys.stderr,
                  desc=f"downscale ×{factor}") as bar:
            for fut in as_completed(futures, raise_errors=False):
                i = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # after the retries; KilledWorker when workers kept dying
                    res.failed[i] = f"{type(exc).__name__}: {exc}"
                else:
                    if "skipped" in outcome:
                        res.skipped[i] = outcome["skipped"]
                        (folder / SKIP.format(i)).write_text(json.dumps({"time_index": i,
                                                                         "reason": outcome["skipped"]}))
                    else:
                        _write_atomic(outcome["dataset"], folder / PART.format(i))
                        res.computed.append(i)
                fut.release()
                bar.update(1)
                bar.set_postfix(skipped=len(res.skipped), failed=len(res.failed))


__all__ = ["BatchResult", "downscale_batch", "parts_folder"]
