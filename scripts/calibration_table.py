"""The default against bicubic and IBP, and its calibration table and reliability diagram (docs/results.md), from
the CSVs of ``scripts/standing.py``.

    python scripts/calibration_table.py docs/results/calibration > docs/results/calibration/table.md

First the default's RMSE / SSIM beside bicubic's, IBP's and the previous default's (read from
docs/results/standing/matrix.md). Then, per point (field, ratio, noise) of every CSV in the folder: for each per-pixel
std it offers — the members' spread (``std``), the earlier gradient-based total std (``total_std``) and the
calibrated ``uncertainty`` — spread/skill, ±2σ coverage and the Gaussian CRPS, beside the CRPS of a flat σ equal to
the true RMSE (an oracle); corr(|error|, σ) and the truth-free expected RMSE of ``uncertainty``. A headline counts
the points that meet issue 23's targets. The figure (``reliability.png`` in the folder) plots, for each point, the
RMS error per decile of the predicted σ against σ, with the 1:1 line. Nothing is computed here but the counts.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

TARGETS = "spread/skill 0.8–1.25, ±2σ coverage 0.90–0.98, CRPS below the flat oracle's, corr ≥ 0.4 (real fields)"


def rows(folder: Path) -> list[dict]:
    """The fit rows (those with a calibrated uncertainty) of every CSV in ``folder``, with their file's stem."""
    out = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("unc_spread_skill"):
                    out.append({**r, "file": path.stem})
    return out


def _f(r: dict, key: str) -> float:
    try:
        return float(r[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")


def ibp_rmse(folder: Path) -> dict[tuple, float]:
    """IBP's RMSE (cm) per (case, ratio, noise), from the same CSVs."""
    out = {}
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                if r["method"] == "ibp":
                    out[(r["case"], r["ratio"], r["noise"])] = float(r["rmse_cm"])
    return out


def table(folder: Path) -> list[str]:
    ibp = ibp_rmse(folder)
    lines = ["| field | × | noise | prior | steps | RMSE cm (IBP) | `std` s/s · ±2σ · CRPS | `total_std` s/s · ±2σ · "
             "CRPS | `uncertainty` s/s · ±2σ · CRPS · corr | flat-oracle CRPS | expected / real RMSE |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows(folder):
        case = label(r["case"])
        lines.append(
            f"| {case} | {r['ratio']} | {float(r['noise']):g} | {r['prior']} | {r['iters']} | "
            f"{_f(r, 'rmse_cm'):.3f} ({ibp.get((r['case'], r['ratio'], r['noise']), float('nan')):.3f}) | "
            + " | ".join(f"{_f(r, t + '_spread_skill'):.2f} · {100 * _f(r, t + '_cov2'):.0f} % · "
                         f"{_f(r, t + '_crps_cm'):.3f}" for t in ("std", "tot"))
            + f" | {_f(r, 'unc_spread_skill'):.2f} · {100 * _f(r, 'unc_cov2'):.0f} % · {_f(r, 'unc_crps_cm'):.3f} · "
              f"{_f(r, 'unc_corr'):.2f} | {_f(r, 'flat_crps_cm'):.3f} | "
              f"{_f(r, 'expected_rmse_cm') / _f(r, 'rmse_cm'):.2f} |")
    return lines


def headline(folder: Path) -> list[str]:
    """Per CSV file: how many points meet each target, for each std."""
    out = [f"Targets (issue 23): {TARGETS}.", ""]
    by_file: dict[str, list[dict]] = {}
    for r in rows(folder):
        by_file.setdefault(r["file"], []).append(r)
    for name, rs in by_file.items():
        n = len(rs)
        parts = []
        for tag, label in (("unc", "`uncertainty`"), ("tot", "`total_std`"), ("std", "`std`")):
            ss = sum(0.8 <= _f(r, tag + "_spread_skill") <= 1.25 for r in rs)
            cov = sum(0.90 <= _f(r, tag + "_cov2") <= 0.98 for r in rs)
            crps = sum(_f(r, tag + "_crps_cm") < _f(r, "flat_crps_cm") for r in rs)
            parts.append(f"{label}: spread/skill {ss}/{n}, coverage {cov}/{n}, CRPS < flat {crps}/{n}")
        out.append(f"- **{name}** ({n} points): " + "; ".join(parts) + ".")
    return out


def previous_default(matrix: Path) -> dict[tuple[str, str, str], str]:
    """The previous default's 'RMSE / SSIM' per (field, ratio, noise) from docs/results/standing/matrix.md."""
    out = {}
    if not matrix.exists():
        return out
    lines = matrix.read_text().splitlines()
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    col = head.index("default K=4")
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(head):
            break
        field = cells[0].split(" ")[0]
        out[(field, cells[1], f"{float(cells[2]):g}")] = cells[col]
    return out


def standing(folder: Path, matrix: Path) -> list[str]:
    """The default against bicubic and IBP at every point of a CSV with them, the previous default beside it."""
    old = previous_default(matrix)
    by_point: dict[tuple, dict[str, dict]] = {}
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                key = (r["case"], r["ratio"], f"{float(r['noise']):g}")
                by_point.setdefault(key, {})["default" if r["method"].startswith("default") else r["method"]] = r
    lines = ["| field | × | noise | bicubic | IBP | previous default K=4 (1500 steps) | default K=4 | steps | "
             "default vs IBP |", "|---|---|---|---|---|---|---|---|---|"]
    for (case, ratio, noise), m in by_point.items():
        if not {"bicubic", "ibp", "default"} <= set(m):
            continue
        rs = {k: (_f(v, "rmse_cm"), _f(v, "ssim")) for k, v in m.items()}
        name = "turbulence" if case == "turbulence:1@0:128,0:128" else case  # the matrix's own cases only
        prev = old.get((name, ratio, noise), "–")
        gain = 100 * (rs["default"][0] / rs["ibp"][0] - 1)
        lines.append(f"| {label(case)} | {ratio} | {noise} | "
                     + " | ".join(f"{rs[k][0]:.3f} / {rs[k][1]:.3f}" for k in ("bicubic", "ibp"))
                     + f" | {prev} | {rs['default'][0]:.3f} / {rs['default'][1]:.3f} | {m['default']['iters']} | "
                       f"{gain:+.1f} % |")
    return lines


def label(case: str) -> str:
    """A short name for a case: the sample's, or ``crop@y0,x0`` for an index crop of a file."""
    name, _, box = case.partition("@")
    if "/" in name or name.endswith(".nc"):
        return "crop@" + ",".join(part.split(":")[0] for part in box.split(",")) if box else Path(name).stem[:12]
    return case if len(case) <= 16 else case[:16]


def figure(folder: Path) -> Path:
    """The reliability diagram: RMS error against predicted σ per decile of σ, one line per point, log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5), constrained_layout=True)
    for ax, prior in zip(axes, ("mapped", "dynamic")):
        lo, hi = float("inf"), 0.0
        for r in rows(folder):
            if r["prior"] != prior:
                continue
            s, e = json.loads(r["unc_bins_sigma_cm"]), json.loads(r["unc_bins_rmse_cm"])
            n = sum(1 for line in ax.get_lines())
            ax.plot(s, e, "o-", ms=3, lw=1, alpha=0.85, color=plt.cm.tab20(n % 20), ls="-" if n < 20 else "--",
                    label=f"{label(r['case'])} ×{r['ratio']} n{float(r['noise']):g}")
            lo, hi = min(lo, *s, *e), max(hi, *s, *e)
        if hi > 0:
            ax.plot([lo, hi], [lo, hi], "k--", lw=1.5, label="1:1 (calibrated)")
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel("predicted σ, decile mean (cm)")
        ax.set_ylabel("RMS error in that decile (cm)")
        ax.set_title(f"prior '{prior}'")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("Reliability of the default's 'uncertainty' (scripts/standing.py; scripts/calibration_table.py)")
    path = folder / "reliability.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or ["docs/results/calibration"])[0])
    print("\n".join(standing(folder, folder.parent / "standing" / "matrix.md") + [""] + headline(folder) + [""]
                    + table(folder)))
    print(f"\n![reliability diagram]({figure(folder).name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
