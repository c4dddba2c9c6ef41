"""Downscale real coarse SSH with no truth: the observation *is* the input, and the answer is a CF dataset on a
grid ``factor`` times finer. :func:`downscale` fits one map, or a (time, y, x) series snapshot by snapshot, in this
process (:mod:`.fit`); :func:`downscale_batch` runs a series on a Dask cluster, one resumable task per snapshot
(:mod:`.batch`); :func:`open_coarse` reads the time steps, level and crop of a NetCDF file as such an input
(:mod:`.source`). The fine grid's coordinates and land mask are in :mod:`.finegrid`, the CF/ACDD metadata and the
stacking of a series in :mod:`.cf`. Submodules import each other, never this package, so importing one of them
costs what it needs; the names below are the public API.
"""

from __future__ import annotations

from dipcore.downscale.batch import BatchResult, downscale_batch, parts_folder
from dipcore.downscale.finegrid import MASK_RULE
from dipcore.downscale.fit import downscale
from dipcore.downscale.source import open_coarse, parse_times

__all__ = ["BatchResult", "MASK_RULE", "downscale", "downscale_batch", "open_coarse", "parse_times", "parts_folder"]
