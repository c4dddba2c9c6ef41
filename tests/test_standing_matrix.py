"""scripts/standing_matrix.py: the matrix is made of the runs' own rows (CSV first, markdown where no CSV), "–" where
nothing ran, the best network against IBP in per cent, and every K > 1 row in the calibration table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "standing_matrix.py"
HEAD = "| case | × | noise | method | K | RMSE cm | nRMSE | SSIM | spread/skill | corr | s |\n|---|---|---|---|---|---|---|---|---|---|---|\n"


def _module():
    spec = importlib.util.spec_from_file_location("standing_matrix", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_matrix_and_calibration_from_csv_and_markdown(tmp_path, capsys):
    (tmp_path / "a.csv").write_text(
        "case,ratio,noise,method,members,rmse_cm,nrmse,ssim,spread_skill,corr,seconds\n"
        "gulfstream,8,0.0,bicubic,0,8.6,0.2,0.70,nan,nan,0\n"
        "gulfstream,8,0.0,ibp,0,8.0,0.2,0.72,nan,nan,0\n"
        '"gulfstream",8,0.0,"default (dip, skip)",4,7.6,0.2,0.73,0.25,0.5,10\n')
    (tmp_path / "a.md").write_text(HEAD + "| ignored: a CSV of the same name exists |\n")
    (tmp_path / "b.md").write_text(HEAD + "| gulfstream | 8 | 0 | paper | 1 | 9.200 | 0.2 | 0.6400 | nan | nan | 5 |\n"
                                   "| gulfstream | 8 | 0 | paper_redraw | 1 | 30.0 | 0.9 | 0.1 | nan | nan | 5 |\n")
    assert _module().main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| gulfstream | 8 | 0 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:5] == ["8.600 / 0.700", "8.000 / 0.720"] and cells[5] == "9.200 / 0.640"
    assert cells[6] == "–" and cells[10] == "7.600 / 0.730"            # no paper K=4 run; the default K=4
    assert cells[-1] == "default K=4: -5.0 %"
    assert "paper_redraw" not in out and "30.0" not in out
    assert "| gulfstream | 8 | 0 | default K=4 | 7.600 | 0.25 | 0.50 | a.csv |" in out
