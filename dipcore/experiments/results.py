"""What a sweep produced (:class:`ExperimentResult`), and its files: the output folder, the CSV tables, the
configuration with the recipe's fields and the git commit, and :func:`load_results` to read a folder back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from dipcore import recipes
from dipcore.errors import SSHDipError
from dipcore.experiments.settings import EXPERIMENTS


@dataclass
class ExperimentResult:
    """What a sweep produced.

    Attributes
    ----------
    name : str
        Experiment name.
    table : pandas.DataFrame
        The tidy table (also written as ``<name>.csv``).
    summary : pandas.DataFrame
        A compact view (means over cases) printed as text.
    out : Path or None
        The output folder.
    figures : list of Path
        PNG files written.
    files : list of Path
        All files written (CSV, PNG, NetCDF, JSON).
    """

    name: str
    table: pd.DataFrame
    summary: pd.DataFrame
    out: Path | None = None
    figures: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """The summary as a plain text table."""
        return self.summary.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def prepare_out(out: str | Path | None) -> Path | None:
    """The output folder, created; None for no output."""
    if out is None:
        return None
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise SSHDipError(f"--out {p} exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SSHDipError(f"cannot create the output folder {p}: {exc}") from exc
    return p


def git_head() -> str | None:
    """The repository's commit (and ``+dirty`` with uncommitted changes), when git is at hand."""
    import subprocess

    root = Path(__file__).resolve().parents[2]  # dipcore/experiments/results.py -> the repository
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "dipcore"], cwd=root, capture_output=True,
                               text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def write_result(result: ExperimentResult, config: dict) -> None:
    """Write the CSV tables and the configuration next to the figures."""
    if result.out is None:
        return
    csv = result.out / f"{result.name}.csv"
    result.table.to_csv(csv, index=False, float_format="%.6g")
    summ = result.out / f"{result.name}_summary.csv"
    result.summary.to_csv(summ, index=False, float_format="%.6g")
    cfg = result.out / "config.json"
    config = dict(config)
    try:  # recipes change under development: keep every field of the one used, not only its name
        config["recipe_fields"] = asdict(recipes.get_recipe(config.get("recipe") or recipes.DEFAULT_RECIPE))
    except Exception:  # a recipe that cannot be resolved any more must not lose the results
        pass
    config["dipcore_git"] = git_head()
    cfg.write_text(json.dumps(config, indent=2, default=str))
    result.files[:0] = [csv, summ, cfg]


def checkpoint(outdir: Path | None, name: str, rows: list[dict], columns: list[str]) -> None:
    """Write the rows so far, so a long sweep that is killed still leaves its finished fits on disk."""
    if outdir is not None:
        pd.DataFrame(rows, columns=columns).to_csv(outdir / f"{name}.csv", index=False, float_format="%.6g")


def load_results(folder: str | Path) -> ExperimentResult:
    """Read an output folder written by an experiment (its CSV and PNGs), e.g. ``docs/results/ratios``.

    Raises
    ------
    SSHDipError
        When the folder holds no experiment CSV.
    """
    p = Path(folder)
    if not p.is_dir():
        raise SSHDipError(f"{p} is not a folder")
    for name in EXPERIMENTS:
        csv = p / f"{name}.csv"
        if csv.exists():
            table = pd.read_csv(csv)
            summ_path = p / f"{name}_summary.csv"
            summary = pd.read_csv(summ_path) if summ_path.exists() else table
            figures = sorted(p.glob("*.png"))
            return ExperimentResult(name, table, summary, p, figures, sorted(p.iterdir()))
    raise SSHDipError(f"{p} holds no experiment table ({', '.join(f'{n}.csv' for n in EXPERIMENTS)})")


__all__ = ["ExperimentResult", "checkpoint", "git_head", "load_results", "prepare_out", "write_result"]
