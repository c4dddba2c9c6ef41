"""Run a sweep's fits on a Dask cluster: one task per case × ratio × noise combination.

Each task is :func:`dipcore.experiments.fits.fit_task` with plain arguments (the case specification, the ratio,
the noise, the recipe name, K, iterations, seed, device): the worker loads the case, builds the twin, fits and
scores it with one PyTorch thread, and sends back the sweep's rows (and the few arrays its figures need). The
client takes the outcomes as they finish (``distributed.as_completed``), checkpoints the table in the serial order
and, at the end, the sweep writes the same files as a serial run: same seeds, same numbers.

The cluster is a ``LocalCluster`` of ``workers`` single-threaded processes, or a running one reached by its
scheduler's address, or a ``distributed.Client`` the caller holds (:mod:`dipcore.downscale.cluster`). By hand, on one
machine or many (ssh-dip installed on each, the case files at the same paths)::

    dask scheduler                                   # Scheduler at: tcp://10.0.0.1:8786, dashboard on :8787
    dask worker tcp://10.0.0.1:8786 --nworkers 4 --nthreads 1     # on every machine
    ssh-dip experiment ratios --scheduler tcp://10.0.0.1:8786 --cases ssh_2019.nc:0:122 --out results/ratios

or from Python: ``run_ratios(cases, scheduler="tcp://10.0.0.1:8786")`` (or ``workers=8``, or ``scheduler=client``).

A combination that cannot run (an :class:`~dipcore.errors.SSHDipError` in its task: the case does not load, the
grid is too small) is handed to the sweep, which records it (``ratios``: NaN scores and a note) or stops on it
as its serial run would; any other error is retried ``retries`` times (a worker killed mid-task is replaced and
its task rerun by the scheduler) before it stops the sweep, whose finished fits stay in its CSV checkpoint.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from dipcore.downscale.cluster import DASHBOARD, open_client
from dipcore.errors import SSHDipError
from dipcore.experiments.fits import Combination, FitOutcome, each_field, fit_task
from dipcore.experiments.runner import Tracker

#: How often the client looks at the stop flag while no fit finishes (seconds).
POLL_S = 0.2


def wants_cluster(workers: int | None, scheduler: Any) -> bool:
    """True when a cluster is asked for; both at once is an error (they name two different clusters)."""
    if workers is not None and scheduler is not None:
        raise SSHDipError("give either workers (a local cluster) or scheduler (a running one), not both")
    if workers is not None and int(workers) < 1:
        raise SSHDipError(f"workers must be at least 1; got {workers}")
    return workers is not None or scheduler is not None


def check_local_device(device: str, scheduler: Any) -> None:
    """Refuse at once a device this machine lacks when the workers run here (a remote cluster may have GPUs)."""
    if scheduler is None and device not in ("auto", "cpu"):
        from dipcore.solver import resolve_device

        resolve_device(device)


def run_on_cluster(kind: str, combos: Sequence[Combination], params: dict, tracker: Tracker,
                   on_outcome: Callable[[Combination, FitOutcome | SSHDipError], None], *,
                   workers: int | None = None, scheduler: Any = None, progress_bar: bool = False,
                   retries: int = 2, threads: int = 1, dashboard: str | None = DASHBOARD) -> None:
    """Submit one :func:`fit_task` per combination and pass each outcome to ``on_outcome`` as it finishes.

    Parameters
    ----------
    kind : str
        The experiment (``ratios``, ``ensemble-size``, ``uncertainty``).
    combos : sequence of Combination
        The fits, in the serial order (``index``).
    params : dict
        ``recipe``, ``members``, ``iters``, ``seed``, ``device`` (and ``latent_samples``) of every fit.
    tracker : Tracker
        Counts finished fits (``done`` is increased before ``on_outcome``), says the dashboard line, checks
        the stop flag between outcomes (then the pending tasks are cancelled).
    on_outcome : callable
        ``(combination, outcome or the SSHDipError its task raised)``; what it raises stops the sweep.
    workers, scheduler
        A local cluster of ``workers`` processes, or a scheduler address or ``distributed.Client``.
    progress_bar : bool
        A tqdm bar on stderr (done/total, ETA).
    retries : int
        Reruns of a task that raised something other than an SSHDipError.
    threads : int
        PyTorch intra-op threads per task.
    dashboard : str, optional
        The local cluster's dashboard address.
    """
    from distributed import as_completed
    from tqdm import tqdm

    run_id = uuid.uuid4().hex[:8]  # task keys unique per run: a shared cluster may hold an earlier run's
    with open_client(workers, scheduler, dashboard, log=tracker.say) as client:
        futures = {client.submit(fit_task, kind, c.spec, c.ratio, c.noise, want_maps=c.want_maps, threads=threads,
                                 **params, key=f"ssh-dip-{kind}-{c.index:05d}-{run_id}", retries=retries,
                                 pure=False): c for c in combos}
        pending = as_completed(futures, raise_errors=False)
        try:
            with tqdm(total=len(futures), disable=not progress_bar, unit="fit", file=sys.stderr, desc=kind,
                      dynamic_ncols=True) as bar:
                while not pending.is_empty():
                    tracker.check()  # the stop flag, also while the fits run
                    if not pending.has_ready():
                        time.sleep(POLL_S)
                        continue
                    for fut in pending.next_batch(block=False):
                        combo = futures[fut]
                        try:  # an SSHDipError (returned or raised) means the combination cannot run
                            outcome: FitOutcome | SSHDipError = fut.result()
                        except SSHDipError as exc:
                            outcome = exc
                        fut.release()  # the outcome is ours now: free the worker's copy
                        tracker.done += 1
                        on_outcome(combo, outcome)
                        bar.update(1)
        except BaseException:
            client.cancel(list(futures))  # stop the cluster's work too (a shared cluster goes on serving)
            raise


def dispatch(kind: str, parsed: Sequence, combos: Sequence[Combination], params: dict, tracker: Tracker,
             keep: Callable[[Combination, FitOutcome | SSHDipError], None],
             local_fit: Callable[[Any, Combination], FitOutcome], *, on_cluster: bool, workers: int | None = None,
             scheduler: Any = None, progress_bar: bool = False) -> None:
    """Run a sweep's fits and hand each outcome to ``keep``: on a cluster (:func:`run_on_cluster`, same
    ``params``) when ``on_cluster``, else here, one after the other, as ``local_fit(field, combination)``.

    The one place where the three sweeps choose between the cluster and the serial loop.
    """
    if on_cluster:
        check_local_device(params["device"], scheduler)
        run_on_cluster(kind, combos, params, tracker, keep, workers=workers, scheduler=scheduler,
                       progress_bar=progress_bar)
    else:
        for combo, fld in each_field(parsed, combos):
            keep(combo, local_fit(fld, combo))


__all__ = ["POLL_S", "check_local_device", "dispatch", "run_on_cluster", "wants_cluster"]
