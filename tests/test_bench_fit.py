"""Smoke test of benchmarks/bench_fit.py at the tiniest settings: the table has its columns, a reference row and
a ratio for every dipcore row."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_fit.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_fit", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_fit"] = mod  # dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop("bench_fit", None)


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ") and "---" not in line]


def test_tiny_table(bench, tmp_path):
    out = tmp_path / "table.md"
    text = bench.main(["--devices", "cpu", "--sizes", "32", "--members", "1", "2", "--archs", "paper", "decoder",
                       "--steps", "2", "--repeats", "1", "--peak-n", "256", "--out", str(out)])
    assert out.read_text().strip() == text.strip()
    header, *rows = _rows(text)
    assert header == bench.COLUMNS
    for col in ("s/step/member", "× ref", "GFLOP/s", "% fp32 peak", "peak MiB", "RMSE vs ref, final (m)"):
        assert col in header
    by = {(r[0], r[1]): dict(zip(header, r)) for r in rows}
    ref = by[("reference (plain PyTorch, paper)", "1")]
    assert float(ref["× ref"]) == 1.0 and float(ref["s/step/member"]) > 0
    for (name, k), r in by.items():
        if name.startswith("dipcore"):
            assert float(r["× ref"]) > 0 and float(r["GFLOP/s"]) > 0, r
    # the paper rows are compared with the fp32 reference: member 0 of K=1 is the reference's own computation
    one = by[("dipcore paper (recipe paper)", "1")]
    assert float(one["RMSE vs ref, steps 1 / 2 (m)"].split("/")[0]) < 1e-5
    assert by[("dipcore decoder (recipe decoder)", "2")]["RMSE vs ref, final (m)"] == "—"
    for line in ("torch ", "intra-op thread", "load average", "fp32 matmul peak", "command:"):
        assert line in text
