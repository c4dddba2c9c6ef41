"""Every input of the bad-input corpus (tests/bad_inputs.py) gets, from the CLI, exit code 2 and one clear line, or
a run with a one-line warning saying what was done, or simply works when it is usable."""

from __future__ import annotations

import pytest

from bad_inputs import CASES, build
from dipcore.cli import main


def run_cli(capsys, argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    _, err = capsys.readouterr()
    return code, err


def test_the_corpus_is_big_and_varied():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
    assert {c.expect for c in CASES} == {"error", "warn", "ok"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_answers_bad_input_clearly(case, tmp_path, capsys):
    code, err = run_cli(capsys, build(case, tmp_path))
    lines = [line for line in err.splitlines() if line.strip()]
    if case.expect == "error":
        assert code == 2, (code, err)
        last = lines[-1]
        assert last.startswith("ssh-dip") and case.words.lower() in last.lower(), err
        assert "Traceback" not in err and len(last) < 400
    else:
        assert code == 0, err
        warned = [line for line in lines if line.startswith("ssh-dip: warning:")]
        if case.expect == "warn":
            assert len(warned) == 1 and case.words.lower() in warned[0].lower(), err
        else:
            assert not warned, err
        assert (tmp_path / "out.nc").exists()
