"""Collect the tables of ``scripts/standing.py`` (its markdown output, one file per run) into issue 8's matrix:
one row per field, ratio and noise, one column per method (RMSE cm / SSIM), "–" where nothing was run; then the
ensemble-std calibration table (every K > 1 row: spread/skill and corr(|error|, std)). The `paper` recipe's
rows of the ratio ladder and the ensemble-size sweep (``docs/results/ladder-paper-1500``,
``docs/results/ensemble-size-paper``) fill its `paper` cells where no standing table has them.

    python scripts/standing_matrix.py [docs/results/standing] > docs/results/standing/matrix.md

Nothing is computed here: every number is a row some run printed (the file is named in the last column).
"""

from __future__ import annotations

import sys
from pathlib import Path

COLUMNS = ["bicubic", "IBP", "paper", "paper K=4", "skip", "decoder", "default K=1", "default K=4"]
CASES = ["turbulence:1@0:128,0:128", "gulfstream", "kuroshio", "mediterranean", "agulhas", "roms_txla"]


def _label(method: str, k: str) -> str | None:
    """The matrix column of a table row (None: not a column, e.g. ``paper_redraw``)."""
    if method == "ibp":
        return "IBP"
    if method == "bicubic":
        return "bicubic"
    # 'dip1500' is the default these tables were made with (its name since 2026-12-06)
    name = "default" if method.startswith(("default", "dip1500")) else method
    k = int(k or 1)
    label = f"{name} K={k}" if name == "default" or k > 1 else name
    return label if label in COLUMNS else None


def _standing_rows(folder: Path):
    """(case, ratio, noise, method, K, rmse, ssim, spread/skill, corr, file) of every ``standing.py`` table: its CSV
    where it wrote one, else the markdown it printed (3-4 decimals)."""
    import csv

    csvs = {p.stem for p in folder.glob("*.csv")}
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                yield (r["case"], r["ratio"], r["noise"], r["method"], r["members"], r["rmse_cm"], r["ssim"],
                       r["spread_skill"], r["corr"], path.name)
    for path in sorted(folder.glob("*.md")):
        if path.name == "matrix.md" or path.stem in csvs:
            continue
        for line in path.read_text().splitlines():
            parts = [p.strip() for p in line.strip().strip("|").split("|")]
            if len(parts) != 11 or parts[0] in ("case", "") or parts[0].startswith("---"):
                continue
            case, ratio, noise, method, k, rmse, _nrmse, ssim, ss, corr, _s = parts
            yield case, ratio, noise, method, k, rmse, ssim, ss, corr, path.name


def _experiment_rows(folders: list[Path]):
    """The `paper` recipe's rows of ``ssh-dip experiment`` outputs (the ratio ladder: one member; the ensemble-size
    sweep: its K-member mean)."""
    import csv

    for folder in folders:
        for name in ("ratios.csv", "ensemble-size.csv"):
            path = folder / name
            if not path.exists():
                continue
            with open(path, newline="") as fh:
                for r in csv.DictReader(fh):
                    if r.get("recipe") != "paper":
                        continue
                    if name == "ratios.csv" and r["method"] == "dip":
                        k = r["members"]
                    elif name == "ensemble-size.csv" and r["method"] == "ensemble_mean":
                        k = r["k"]
                    else:
                        continue
                    yield (r["case"], r["ratio"], r["noise"], "paper", k, r["rmse_cm"], r["ssim"], "nan", "nan",
                           f"{folder.name}/{name}")


def read(folder: Path, experiments: list[Path]) -> tuple[dict, list]:
    """{(case, ratio, noise): {column: (rmse, ssim, file)}} and the K > 1 rows. A later standing table wins a cell;
    the experiments' rows only fill empty cells of the points the standing tables have."""
    cells: dict = {}
    calib = []
    rows = [("standing", r) for r in _standing_rows(folder)] + [("experiment", r) for r in _experiment_rows(experiments)]
    for source, (case, ratio, noise, method, k, rmse, ssim, ss, corr, name) in rows:
        col = _label(method, k)
        key = (case, int(ratio), float(noise))
        if col is None or source == "experiment" and (key not in cells or col in cells[key]):
            continue
        cells.setdefault(key, {})[col] = (float(rmse), float(ssim), name)
        if k and int(k) > 1 and ss != "nan":
            calib.append((key, col, float(rmse), float(ss), float(corr), name))
    return cells, calib


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "docs/results/standing")
    experiments = [folder.parent / "ladder-paper-1500", folder.parent / "ensemble-size-paper"]
    cells, calib = read(folder, experiments)
    order = {c: i for i, c in enumerate(CASES)}
    keys = sorted(cells, key=lambda k: (order.get(k[0], len(CASES)), k[0], k[1], k[2]))
    print("| field | × | noise | " + " | ".join(COLUMNS) + " | best network vs IBP |")
    print("|---|---|---|" + "---|" * len(COLUMNS) + "---|")
    for key in keys:
        row = cells[key]
        vals = [f"{row[c][0]:.3f} / {row[c][1]:.3f}" if c in row else "–" for c in COLUMNS]
        nets = {c: v for c, v in row.items() if c not in ("bicubic", "IBP")}
        best = ""
        if nets and "IBP" in row:
            c, v = min(nets.items(), key=lambda kv: kv[1][0])
            best = f"{c}: {100 * (v[0] / row['IBP'][0] - 1):+.1f} %"
        case = key[0].replace("turbulence:1@0:128,0:128", "turbulence (128²)")
        print(f"| {case} | {key[1]} | {key[2]:g} | " + " | ".join(vals) + f" | {best} |")
    print()
    print("| field | × | noise | ensemble | RMSE cm | spread/skill | corr(\\|error\\|, std) | table |")
    print("|---|---|---|---|---|---|---|---|")
    for key, col, rmse, ss, corr, name in sorted(calib, key=lambda r: (order.get(r[0][0], 9), r[0], r[1])):
        case = key[0].replace("turbulence:1@0:128,0:128", "turbulence (128²)")
        print(f"| {case} | {key[1]} | {key[2]:g} | {col} | {rmse:.3f} | {ss:.2f} | {corr:.2f} | {name} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
