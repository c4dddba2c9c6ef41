"""The markdown tables of docs/results.md's guided section from the CSVs of ``scripts/guided.py``.

    python scripts/guided_tables.py docs/results/guided > docs/results/guided/tables.md

One table per twin (RMSE cm / SSIM of bicubic, IBP, eSQG from SST alone, the gate's guided IBP, the unguided
default and the guided fit, with the guided fit's change against IBP and against the default, the gate's skill, and
the calibrated uncertainty's spread/skill and CRPS against a flat σ); one table of the uninformative guides (the
guided fit against the unguided default); one of the guided architectures; one of the coupling strengths.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

CASES = {"sqg": "synthetic SQG twin (128², seed 1)", "roms": "ROMS TXLA twin (zeta + surface temp)",
         "blacksea": "Black Sea twin (DUACS ADT 1/8° + L4 SST 1/24°, a weak twin)"}


def _get(d: pd.DataFrame, method: str, col: str) -> float:
    row = d[d["method"] == method]
    return float(row[col].iloc[0]) if len(row) else float("nan")


def _run(d: pd.DataFrame, method: str) -> str:
    """The recipe a method's row ran ('' when the row is missing)."""
    row = d[d["method"] == method]
    return str(row["recipe_run"].iloc[0]) if len(row) and "recipe_run" in row else ""


def _pct(a: float, b: float) -> str:
    return f"{100 * (a / b - 1):+.1f} %" if b == b and a == a else "–"


def twin_table(df: pd.DataFrame, case: str) -> list[str]:
    """Matched guide: every method at every ratio and noise."""
    out = [f"**{CASES.get(case, case)}**, matched guide, K = 4 (RMSE cm / SSIM):", "",
           "| ratio | noise | bicubic | IBP | eSQG alone | guided IBP | default | **guided** | guided vs IBP | "
           "guided vs default | gate skill | oracle corr | spread/skill default → guided | CRPS guided / flat σ |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    d0 = df[(df["case"] == case) & (df["guide"] == "matched")]
    for (r, n), d in d0.groupby(["ratio", "noise"]):
        cell = {m: f"{_get(d, m, 'rmse_cm'):.3f} / {_get(d, m, 'ssim'):.4f}" for m in
                ("bicubic", "ibp", "esqg", "regression", "default:4", "guided:4")}
        g, i, k = _get(d, "guided:4", "rmse_cm"), _get(d, "ibp", "rmse_cm"), _get(d, "default:4", "rmse_cm")
        used = _run(d, "guided:4")
        skill = _get(d, "guided:4", "skill_cv")
        gate = f"{skill:.2f}" + ("" if used == "guided" else " (refused)")
        out.append(f"| ×{r} | {100 * n:.0f} % | {cell['bicubic']} | {cell['ibp']} | {cell['esqg']} | "
                   f"{cell['regression']} | {cell['default:4']} | **{cell['guided:4']}** | {_pct(g, i)} | "
                   f"{_pct(g, k)} | {gate} | {_get(d, 'oracle', 'oracle_corr'):.2f} | "
                   f"{_get(d, 'default:4', 'unc_spread_skill'):.2f} → "
                   f"{_get(d, 'guided:4', 'unc_spread_skill'):.2f} | "
                   f"{_get(d, 'guided:4', 'unc_crps_cm'):.3f} / {_get(d, 'guided:4', 'unc_crps_flat_cm'):.3f} |")
    return out + [""]


def uninformative_table(df: pd.DataFrame) -> list[str]:
    """Guides that carry nothing (or less): the guided fit against the unguided default."""
    out = ["**Uninformative guides** (the guided fit against the unguided default, K = 4, RMSE cm; "
           "'refused': the gate gave the unguided default itself):", "",
           "| twin | guide | ratio | noise | default | guided | change | gate skill | oracle corr |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (case, guide, r, n), d in df[df["guide"] != "matched"].groupby(["case", "guide", "ratio", "noise"],
                                                                         sort=False):
        k = _get(df[(df["case"] == case) & (df["guide"] == "matched") & (df["ratio"] == r) & (df["noise"] == n)],
                 "default:4", "rmse_cm")
        g = _get(d, "guided:4", "rmse_cm")
        run = _run(d, "guided:4")
        skill = _get(d, "guided:4", "skill_cv")
        out.append(f"| {case} | {guide} | ×{r} | {100 * n:.0f} % | {k:.3f} | {g:.3f} | {_pct(g, k)} | "
                   f"{skill:.2f}{'' if run == 'guided' else ' (refused)'} | {_get(d, 'oracle', 'oracle_corr'):.2f} |")
    return out + [""]


def archs_table(df: pd.DataFrame, archs: pd.DataFrame) -> list[str]:
    out = ["**Guided architectures** (synthetic twin, K = 4, RMSE cm / SSIM; all on the same gated guide):", "",
           "| ratio | noise | IBP | guided IBP (no network) | `guided` (eSQG-initialised residual) | "
           "`guided_skip` (guide beside the noise) | `guided_pix` (per-pixel map) |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    m = df[(df["case"] == "sqg") & (df["guide"] == "matched")]
    for (r, n), d in m.groupby(["ratio", "noise"]):
        a = archs[(archs["ratio"] == r) & (archs["noise"] == n)]
        cells = [f"{_get(x, k, 'rmse_cm'):.3f} / {_get(x, k, 'ssim'):.4f}" for x, k in
                 ((d, "ibp"), (d, "regression"), (d, "guided:4"), (a, "guided_skip:4"), (a, "guided_pix:4"))]
        out.append(f"| ×{r} | {100 * n:.0f} % | " + " | ".join(cells) + " |")
    return out + [""]


def coupling_table(c: pd.DataFrame) -> list[str]:
    out = ["**How strong must the link be?** (synthetic twin at ×8, noise 0, K = 4; coupling noise c: the SST's "
           "eddy part is SQG plus c times an independent field of the same spectrum)", "",
           "| coupling noise | coherence² | IBP | guided IBP | default | guided | guided vs IBP | gate skill | "
           "oracle corr |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for case, d in c.groupby("case", sort=False):
        cn = float(case.split(":")[2])
        i, g = _get(d, "ibp", "rmse_cm"), _get(d, "guided:4", "rmse_cm")
        out.append(f"| {cn:g} | {1 / (1 + cn ** 2):.2f} | {i:.3f} | {_get(d, 'regression', 'rmse_cm'):.3f} | "
                   f"{_get(d, 'default:4', 'rmse_cm'):.3f} | {g:.3f} | {_pct(g, i)} | "
                   f"{_get(d, 'guided:4', 'skill_cv'):.2f} | {_get(d, 'oracle', 'oracle_corr'):.2f} |")
    return out + [""]


def main(folder: str) -> int:
    f = Path(folder)
    frames = [pd.read_csv(f / f"{c}.csv") for c in CASES if (f / f"{c}.csv").exists()]
    df = pd.concat(frames, ignore_index=True)
    lines = []
    for case in CASES:
        if (df["case"] == case).any():
            lines += twin_table(df, case)
    lines += uninformative_table(df)
    if (f / "archs.csv").exists():
        lines += archs_table(df, pd.read_csv(f / "archs.csv"))
    if (f / "coupling.csv").exists():
        lines += coupling_table(pd.read_csv(f / "coupling.csv"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/guided"))
