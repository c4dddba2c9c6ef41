"""The ``ssh-dip`` parser and entry point: one module per subcommand adds its parser and its command.

Building the parser imports nothing heavy (no torch, xarray, pandas, matplotlib, scipy): ``ssh-dip --help`` is
instant; each command imports what it needs when it runs. Bad input exits with code 2 and one line on stderr
(``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence

from dipcore.cli import downscale, experiment, fit, info
from dipcore.errors import SSHDipError, SSHDipWarning

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line (exit 2) instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"ssh-dip: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``ssh-dip`` argument parser (subcommands ``samples``, ``inspect``, ``fit``, ``downscale``,
    ``experiment``)."""
    p = _Parser(prog="ssh-dip", description="Downscale sea surface height with a deep image prior.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    info.add_parsers(sub)
    fit.add_parser(sub)
    downscale.add_parser(sub)
    experiment.add_parser(sub)
    return p


_default_show = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """dipcore's warnings about the input on one plain line; other warnings as Python prints them."""
    if issubclass(category, SSHDipWarning):
        print(f"ssh-dip: warning: {message}", file=sys.stderr)
    else:
        _default_show(message, category, filename, lineno, file, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ssh-dip`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = "ssh-dip " + " ".join(sys.argv[1:] if argv is None else argv)  # the files' history
    try:
        with warnings.catch_warnings():  # restores the warning machinery after the command
            warnings.simplefilter("always", SSHDipWarning)
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except SSHDipError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ssh-dip: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("ssh-dip: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so briefly, traceback on request
        if args.debug:
            traceback.print_exc()
        print(f"ssh-dip: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 1


__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]
