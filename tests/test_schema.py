"""Behaviour unchanged by a refactor: a small CLI fit writes the same JSON keys, NetCDF schema and numbers as the
golden file ``tests/data/fit_fingerprint.json`` (made by :mod:`tests.fingerprint`; last regenerated on purpose when
the default recipe and the outputs' uncertainty changed, 2026-12-06), to tolerances that hold on any CPU.

What the code determines is compared exactly: keys, names, dims, shapes, dtypes, attributes, NaN counts. Fitted
numbers are compared to a tolerance set by what moves them across instruction sets (PyTorch and oneDNN pick other
kernels on AVX-512, AVX2 or plain SSE, so float32 sums come out in another order, and 12 Adam steps amplify it).
Measured across those three on one machine (2026-12-06): scores of the estimates moved by ≤ 1.2e-5 relative, the
members' spread by ≤ 3.3e-4, the latent spread (two draws) by ≤ 6.8 %; correlations of |error| with a spread that is
noise moved from −0.0003 to +0.0172 and changed sign. Hence:

- scores of estimates (RMSE, SSIM, nRMSE, CRPS, effective resolution, field statistics): 1e-3 relative;
- the members' spread (``std``, spread/skill): 1e-2 relative;
- the latent spread (``latent_std``, M = 2 draws): within a factor 1.5 (its order of magnitude);
- a correlation with a noise-like spread: a finite number in [−1, 1], never its value or sign.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from fingerprint import fingerprint

GOLDEN = Path(__file__).parent / "data" / "fit_fingerprint.json"

SCORE, SPREAD, LATENT, NOISE_CORR = 1e-3, 1e-2, 0.5, None


# correlations of |error| with the members' or the latent spread, which on these 12-step fits are noise
NOISE_CORRELATIONS = ("/summary//corr_abs_error_std", "/summary//latent_corr_abs_error_std",
                      "/summary//uncertainty/ensemble/corr", "/summary//uncertainty/latent/corr")
MEMBER_SPREADS = ("/summary//spread_skill", "/summary//uncertainty/ensemble/spread_skill", "/variables/std/")


def tolerance(path: str) -> float | None:
    """The relative tolerance of the number at ``path`` (``NOISE_CORR``: only its range is checked)."""
    if path in NOISE_CORRELATIONS:
        return NOISE_CORR
    if "latent_std" in path or path.startswith("/summary//uncertainty/latent/"):
        return LATENT
    if path.startswith(MEMBER_SPREADS):
        return SPREAD
    return SCORE


def _number(a, b, path: str) -> list[str]:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return [f"{path}: {a!r} before, {b!r} now"]
    if math.isnan(x) and math.isnan(y):
        return []
    tol = tolerance(path)
    if tol is NOISE_CORR:
        return [] if math.isfinite(y) and -1 <= y <= 1 else [f"{path}: {b!r} is not a correlation"]
    if tol == LATENT:
        ok = x > 0 and y > 0 and 1 / (1 + tol) <= y / x <= 1 + tol
    else:
        ok = math.isclose(x, y, rel_tol=tol, abs_tol=1e-9)
    return [] if ok else [f"{path}: {a!r} before, {b!r} now (tolerance {tol:g})"]


def _close(a, b, path: str) -> list[str]:
    """Differences between two JSON values (numbers to :func:`tolerance`, JSON text attributes parsed)."""
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
        return _number(a, b, path)
    return [] if a == b else [f"{path}: {a!r} before, {b!r} now"]


def test_small_fit_outputs_match_the_fingerprint():
    before = json.loads(GOLDEN.read_text())
    now = json.loads(json.dumps(fingerprint(), sort_keys=True, default=str))
    diffs = _close(before, now, "")
    assert not diffs, "\n".join(diffs[:30])


def test_the_comparison_can_fail():
    """The comparison sees a changed score, a renamed key, a changed attribute, a NaN count and a spread off by 5 %."""
    base = {"summary": {"/rmse/estimate": 0.08}, "variables": {"estimate": {"attrs": {"units": "m"},
                                                                           "stats": [0.2, 0.3, 10]}}}
    assert _close(base, base, "") == []
    assert _close(base, {**base, "summary": {"/rmse/estimate": 0.0801}}, "")
    assert _close(base, {**base, "summary": {"/rmse/est": 0.08}}, "")
    assert _close(base, {**base, "variables": {"estimate": {"attrs": {"units": "cm"}, "stats": [0.2, 0.3, 10]}}}, "")
    assert _close(base, {**base, "variables": {"estimate": {"attrs": {"units": "m"}, "stats": [0.2, 0.3, 11]}}}, "")
    assert _close({"s": '{"rmse": 0.08}'}, {"s": '{"rmse": 0.0801}'}, "")
    assert not _close({"s": '{"rmse": 0.08}'}, {"s": '{"rmse":  0.08}'}, "")
    assert _close({"summary": {"/spread_skill": 0.067}}, {"summary": {"/spread_skill": 0.0704}}, "")
    assert _close({"variables": {"latent_std": {"stats": [1e-3]}}}, {"variables": {"latent_std": {"stats": [2e-3]}}},
                  "")


def test_the_comparison_allows_what_another_cpu_changes():
    """Measured across AVX-512, AVX2 and SSE kernels: a noise correlation's sign, 3e-4 of the members' spread,
    7 % of a two-draw latent spread, 1e-5 of a score."""
    before = {"summary": {"/corr_abs_error_std": -0.000256, "/spread_skill": 0.067372, "/rmse/estimate": 0.084470,
                          "/latent_corr_abs_error_std": 0.0172},
              "variables": {"std": {"stats": [0.0045272]}, "latent_std": {"stats": [0.0010991]}}}
    now = {"summary": {"/corr_abs_error_std": 0.0000211, "/spread_skill": 0.067391, "/rmse/estimate": 0.084471,
                       "/latent_corr_abs_error_std": -0.0138},
           "variables": {"std": {"stats": [0.0045287]}, "latent_std": {"stats": [0.0010727]}}}
    assert _close(before, now, "") == []
    assert _close(before, {**now, "summary": {**now["summary"], "/corr_abs_error_std": float("nan")}}, "")
