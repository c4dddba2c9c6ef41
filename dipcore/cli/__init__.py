"""``ssh-dip``: inspect SSH files, run deep-image-prior fits and the paper's experiments from the shell.

==============  ==================================================================================
``main``        the parser and the entry point (``ssh-dip = "dipcore.cli:main"`` in pyproject.toml)
``info``        ``ssh-dip samples`` and ``ssh-dip inspect``
``fit``         ``ssh-dip fit``: a twin experiment, NetCDF and JSON out
``downscale``   ``ssh-dip downscale``: real coarse SSH, one snapshot here or a time series on Dask
``experiment``  ``ssh-dip experiment``: the paper's sweeps (:mod:`dipcore.experiments`)
``validators``  the argparse checks they share
==============  ==================================================================================

Importing this package and building the parser load no torch, xarray, pandas, matplotlib or scipy
(tests/test_startup.py checks it): the commands import them when they run.
"""

from __future__ import annotations

from dipcore.cli.main import EXIT_BAD_INPUT, build_parser, main

__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]
