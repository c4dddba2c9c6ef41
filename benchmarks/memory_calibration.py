"""Measuring fits' peak memory, to calibrate and check :mod:`dipcore.fitting.memory`'s estimate (CPU RSS, CUDA allocator).

    python benchmarks/memory_calibration.py [--recipes paper dip decoder] [--members 1 4] [--sizes 64 128]

Kept out of ``dipcore``: it runs fits, and the estimate it checks is what the fit itself calls.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import torch

from dipcore.fitting.memory import ACTIVATION_FACTOR, check_fit

HERE = str(Path(__file__).resolve().parent)

# ---- measuring -------------------------------------------------------------------------------------------------
def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import psutil

        return int(psutil.Process().memory_info().rss)


def trim() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim``), so that RSS growth measures new use."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Context manager measuring the peak memory of the code it wraps, in bytes, as ``.peak``.

    CPU: resident memory sampled every ``interval`` seconds by a thread, minus the RSS on entry (after
    :func:`trim`). CUDA: ``torch.cuda.max_memory_allocated`` minus the allocated memory on entry.
    """

    def __init__(self, device: str | torch.device = "cpu", interval: float = 0.002):
        self.device = torch.device(device)
        self.interval = interval
        self.peak = 0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            return self
        trim()
        self._base = self._max = _rss()
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.is_set():
                self._max = max(self._max, _rss())
                time.sleep(self.interval)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = int(torch.cuda.max_memory_allocated(self.device) - self._base)
            return
        self._max = max(self._max, _rss())
        self._stop.set()
        self._thread.join()
        self.peak = int(self._max - self._base)


def measure_fit(recipe: str, members: int, size: int, device: str = "cpu", iters: int = 6) -> tuple[int, int]:
    """(measured peak, estimate) in bytes of a short fit of ``recipe`` on a ``size²`` crop of a real field at ×8."""
    import numpy as np

    from dipcore.degrade import Degradation
    from dipcore.solver import fit, get_recipe

    field = real_field(size)
    deg = Degradation(8, mask=np.isfinite(field))
    obs = deg.forward(field)
    rec = get_recipe(recipe)
    need = check_fit(rec, members, field.shape, 8, device, available=2 ** 62)
    with PeakMemory(device) as pm:
        for _ in fit(obs, deg, rec, members=members, iters=iters, every=iters, device=device):
            pass
    return pm.peak, need


def real_field(size: int):
    """A size² field in metres from the Gulf Stream sample (zoomed when bigger than the sample), land NaN."""
    import numpy as np
    from scipy import ndimage

    from dipcore.samples import load_sample

    v = load_sample("gulfstream").values
    zoom = max(1, math.ceil(size / min(v.shape)))
    if zoom > 1:
        ok = np.isfinite(v)
        filled = np.where(ok, v, np.nanmean(v))
        v = np.where(ndimage.zoom(ok, zoom, order=0), ndimage.zoom(filled, zoom, order=1), np.nan)
    return np.ascontiguousarray(v[:size, :size], dtype=np.float32)


def calibrate(configs: list[tuple[str, int, int]], iters: int) -> list[tuple[str, int, int, int, int]]:
    """Each config in a fresh process (a process's heap keeps what earlier fits freed)."""
    import json
    import subprocess
    import sys

    rows = []
    for recipe, k, n in configs:
        code = (f"import json; import sys; sys.path.insert(0, {HERE!r}); from memory_calibration import measure_fit; "
                f"print(json.dumps(measure_fit({recipe!r}, {k}, {n}, iters={iters})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        peak, need = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((recipe, k, n, peak, need))
    return rows


if __name__ == "__main__":  # python benchmarks/memory_calibration.py: the calibration table
    import argparse

    p = argparse.ArgumentParser(description="measure real fits' peak memory against the estimate (CPU)")
    p.add_argument("--recipes", nargs="+", default=["paper", "dip", "decoder"])
    p.add_argument("--members", type=int, nargs="+", default=[1, 4])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--iters", type=int, default=6)
    a = p.parse_args()
    print(f"ACTIVATION_FACTOR {ACTIVATION_FACTOR}, torch {torch.__version__}")
    print(f"{'recipe':>8} {'K':>3} {'grid':>5} {'measured MiB':>13} {'estimate MiB':>13} {'measured/est':>13}")
    for recipe, k, n, peak, need in calibrate([(r, k, n) for r in a.recipes for k in a.members for n in a.sizes],
                                               a.iters):
        print(f"{recipe:>8} {k:>3} {n:>5} {peak / 2**20:>13.1f} {need / 2**20:>13.1f} {peak / need:>13.2f}")
