"""The fingerprint of a small CLI fit: its JSON summary's keys and scores, its NetCDF schema and field statistics.

``tests/test_schema.py`` compares it with ``tests/data/fit_fingerprint.json``, made by this same code (last when the
default recipe and the uncertainty changed), so a refactor that changes an output's schema or its numbers shows.
Regenerate (only when a change of outputs is intended, and say so in the commit):
``python tests/fingerprint.py tests/data/fit_fingerprint.json``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ARGS = ["fit", "gulfstream", "--ratio", "8", "--members", "2", "--iters", "12", "--latent-samples", "2",
        "--noise", "0.05", "--device", "cpu", "--seed", "3", "--quiet"]
VOLATILE = {"seconds", "date_created", "date_modified", "date_issued", "history", "time_coverage_start",
            "time_coverage_end", "elapsed", "it_per_s", "created", "software_version", "version", "uuid", "id"}


def _tree(obj, prefix: str = "") -> dict:
    """Flatten a JSON-able object to {path: value}, lists of dicts by index."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_tree(v, f"{prefix}/{k}"))
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for i, v in enumerate(obj):
            out.update(_tree(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = obj
    return out


def _plain(v):
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def fingerprint() -> dict:
    """Run the small fit through the CLI and describe what it wrote."""
    import torch

    from dipcore.cli import main

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same float summation order wherever it runs (Adam amplifies it)
    try:
        return _fingerprint(main)
    finally:
        torch.set_num_threads(threads)


def _fingerprint(main) -> dict:
    import xarray as xr

    with tempfile.TemporaryDirectory() as tmp:
        nc, js = Path(tmp) / "r.nc", Path(tmp) / "s.json"
        code = main([*ARGS, "--out", str(nc), "--summary", str(js)])
        assert code == 0, code
        summary = {k: v for k, v in _tree(json.loads(js.read_text())).items()
                   if k.rsplit("/", 1)[-1] not in VOLATILE}
        with xr.open_dataset(nc) as ds:
            variables = {}
            for name, var in ds.variables.items():
                vals = np.asarray(var.values)
                entry = {"dims": list(var.dims), "shape": list(vals.shape), "dtype": str(vals.dtype),
                         "attrs": {k: _plain(v) for k, v in var.attrs.items() if k not in VOLATILE}}
                if np.issubdtype(vals.dtype, np.number) and vals.size:
                    entry["stats"] = [float(np.nanmean(vals)), float(np.nanstd(vals)), int(np.isnan(vals).sum())
                                      if np.issubdtype(vals.dtype, np.floating) else 0]
                variables[str(name)] = entry
            attrs = {k: _plain(v) for k, v in ds.attrs.items() if k not in VOLATILE}
    from dipcore.samples import ASSETS

    out = {"summary": summary, "variables": variables, "attrs": attrs}
    # the checkout's location is not part of the output's schema
    return json.loads(json.dumps(out, sort_keys=True, default=str).replace(str(ASSETS), "<assets>"))


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(fingerprint(), indent=1, sort_keys=True, default=str) + "\n")
