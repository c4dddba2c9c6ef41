"""``ssh-dip samples`` (the embedded sample fields) and ``ssh-dip inspect`` (the SSH variable of a file)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES


def add_parsers(sub) -> None:
    """Add the ``samples`` and ``inspect`` subcommands to the ``ssh-dip`` subparsers ``sub``."""
    s = sub.add_parser("samples", help="list the embedded sample fields")
    s.set_defaults(func=cmd_samples)

    i = sub.add_parser("inspect", help="describe the SSH variable of a NetCDF file or sample")
    i.add_argument("file", help="NetCDF path or sample name")
    i.add_argument("--var", help="variable name (default: detected)")
    i.add_argument("--json", action="store_true", help="print JSON instead of text")
    i.set_defaults(func=cmd_inspect)


def cmd_samples(args: argparse.Namespace) -> int:
    for s in SAMPLES.values():
        print(f"{s.name:14s} {s.title}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from dipcore.io import inspect_file
    from dipcore.samples import get_sample

    path = args.file if Path(args.file).exists() or args.file not in SAMPLES else get_sample(args.file).path
    if not Path(path).exists():
        raise SSHDipError(f"{args.file!r} is neither an existing file nor a sample "
                          f"(samples: {', '.join(SAMPLES)})")
    info = inspect_file(path, var=args.var)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    sp = info["spacing_km"]
    print(f"file:          {info['file']}")
    print(f"variable:      {info['variable']}" + (f"  ({info['standard_name']})" if info["standard_name"] else ""))
    print(f"dims:          {' × '.join(f'{d}={n}' for d, n in zip(info['dims'], info['shape']))}")
    print(f"grid:          {info['grid'][0]} × {info['grid'][1]}")
    print("resolution:    " + (f"dy {sp[0]:.2f} km, dx {sp[1]:.2f} km" if sp else "unknown (no lat/lon)"))
    print(f"units:         {info['units']} (loaded as metres)")
    print(f"land fraction: {info['land_fraction']:.1%}")
    print(f"time steps:    {info['time_steps']}")
    if len(info["candidates"]) > 1:
        print(f"other grids:   {', '.join(c for c in info['candidates'] if c != info['variable'])}")
    return 0


__all__ = ["add_parsers", "cmd_inspect", "cmd_samples"]
