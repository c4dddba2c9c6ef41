"""Behaviour unchanged by the restructure: a small CLI fit writes the same JSON keys, NetCDF schema and numbers as
the commit before it (``tests/data/fit_fingerprint.json``, made by :mod:`tests.fingerprint` on 3950773)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from fingerprint import fingerprint

GOLDEN = Path(__file__).parent / "data" / "fit_fingerprint.json"


def _close(a, b, path: str) -> list[str]:
    """Differences between two JSON values, floats to 1e-4 relative (1e-6 absolute), JSON text attributes parsed."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}: key {k!r} only {'before' if k in a else 'now'}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += _close(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} before, {len(b)} now"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, str) and isinstance(b, str) and a.startswith("{") and b.startswith("{"):
        try:  # a JSON attribute (e.g. the scores): compare its numbers to tolerance, not its text
            return _close(json.loads(a), json.loads(b), path)
        except ValueError:
            pass
    if isinstance(a, float) or isinstance(b, float):
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            return [f"{path}: {a!r} before, {b!r} now"]
        if (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-6):
            return []
        return [f"{path}: {a!r} before, {b!r} now"]
    return [] if a == b else [f"{path}: {a!r} before, {b!r} now"]


def test_small_fit_outputs_match_the_pre_restructure_fingerprint():
    before = json.loads(GOLDEN.read_text())
    now = json.loads(json.dumps(fingerprint(), sort_keys=True, default=str))
    diffs = _close(before, now, "")
    assert not diffs, "\n".join(diffs[:30])


def test_the_comparison_can_fail():
    """The comparison itself sees a changed number, a renamed key and a changed attribute."""
    base = {"summary": {"/rmse/estimate": 0.08}, "variables": {"estimate": {"attrs": {"units": "m"}}}}
    assert _close(base, base, "") == []
    assert _close(base, {**base, "summary": {"/rmse/estimate": 0.0801}}, "")
    assert _close(base, {**base, "summary": {"/rmse/est": 0.08}}, "")
    assert _close(base, {**base, "variables": {"estimate": {"attrs": {"units": "cm"}}}}, "")
    assert _close({"s": '{"rmse": 0.08}'}, {"s": '{"rmse": 0.0801}'}, "")
    assert not _close({"s": '{"rmse": 0.08}'}, {"s": '{"rmse":  0.08}'}, "")
