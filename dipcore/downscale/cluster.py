"""One way to reach a ``dask.distributed`` cluster, shared by the snapshot batches (:mod:`dipcore.downscale.batch`) and the
twin-experiment sweeps (:mod:`dipcore.experiments.parallel`).

:func:`open_client` gives a :class:`distributed.Client` on one of

- a ``LocalCluster`` of ``workers`` processes with one thread each, started here and stopped at the end (the
  workers' nanny sets ``OMP_NUM_THREADS=1``; the tasks also set PyTorch's intra-op threads, so N workers use N
  cores and do not oversubscribe them);
- an existing cluster, reached by its scheduler's address (``tcp://host:8786``);
- a ``Client`` the caller already holds (a notebook, a test): used as it is and left open.

Starting a cluster by hand, on one machine or several (each needs ssh-dip installed, ``pip install -e .``, in the
same environment, and the sample files or NetCDF inputs at the same paths)::

    dask scheduler                         # prints  Scheduler at: tcp://10.0.0.1:8786  and the dashboard (:8787)
    dask worker tcp://10.0.0.1:8786 --nworkers 8 --nthreads 1     # on every machine, as many times as wanted
    ssh-dip experiment ratios --scheduler tcp://10.0.0.1:8786 --out results/ratios

On GPUs, ``dask-cuda``'s ``dask cuda worker tcp://10.0.0.1:8786`` (or ``LocalCUDACluster``) starts one worker per
GPU; pass ``--device cuda``.

``distributed`` is imported inside the functions: importing this module costs nothing at CLI start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dipcore.errors import SSHDipError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

#: The local cluster's dashboard; a port in use makes Dask pick a free one (the address printed says which).
DASHBOARD = ":8787"


def start_client(workers: int, scheduler: str | None = None,
                 dashboard: str | None = DASHBOARD) -> tuple[Client, LocalCluster | None]:
    """A client on a new ``LocalCluster`` of ``workers`` single-threaded processes, or on ``scheduler``.

    Parameters
    ----------
    workers : int
        Worker processes of the local cluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    dashboard : str, optional
        The local cluster's dashboard address (``":0"``: a free port; None: no dashboard).

    Returns
    -------
    (Client, LocalCluster or None)
        The cluster is None for a remote scheduler; the caller closes both (or uses :func:`open_client`).

    Raises
    ------
    SSHDipError
        When the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise SSHDipError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc})") \
                from exc
    if int(workers) < 1:
        raise SSHDipError(f"a local cluster needs at least 1 worker; got {workers}")
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                           dashboard_address=dashboard)
    return Client(cluster), cluster


def dashboard_link(client: Client) -> str | None:
    """The dashboard's URL, or None when there is none (turned off, bokeh missing)."""
    try:
        return client.dashboard_link or None
    except Exception:  # distributed raises various errors when no dashboard runs
        return None


def describe(client: Client) -> str:
    """``Dask: N worker(s) at ADDRESS; dashboard URL``: the line a run prints when it starts."""
    n = len(client.scheduler_info().get("workers", {}))
    link = dashboard_link(client)
    return f"Dask: {n} worker(s) at {client.scheduler.address}" + (f"; dashboard {link}" if link else "")


@contextmanager
def open_client(workers: int | None = None, scheduler: str | Client | None = None,
                dashboard: str | None = DASHBOARD, log: Callable[[str], Any] | None = None) -> Iterator[Client]:
    """A client for the ``with`` block: on a local cluster of ``workers``, on ``scheduler`` (an address), or
    ``scheduler`` itself when it is a ``Client`` (not closed at the end). ``log`` gets :func:`describe`'s line."""
    if scheduler is not None and not isinstance(scheduler, str):  # a Client the caller owns
        client, cluster, own = scheduler, None, False
    else:
        client, cluster = start_client(workers or 1, scheduler, dashboard)
        own = True
    try:
        if log is not None:
            log(describe(client))
        yield client
    finally:
        if own:
            client.close()
            if cluster is not None:
                _close_quietly(cluster)


def _close_quietly(cluster: LocalCluster) -> None:
    """Close a local cluster without the nannies' "still alive after 4.0 seconds, killing" warnings: a worker
    that imported PyTorch often takes longer than that to exit on a busy machine, its work long done."""
    import logging

    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    nanny.setLevel(logging.ERROR)
    try:
        cluster.close()
    finally:
        nanny.setLevel(level)


__all__ = ["DASHBOARD", "dashboard_link", "describe", "open_client", "start_client"]
