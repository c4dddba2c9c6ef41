"""One check of a fit's options (``dipcore.fitting.options``), the same for the fit, the downscaling, the operator
and the command line."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from dipcore.cli.validators import option
from dipcore.constants import MAX_NOISE_FRACTION, RATIOS
from dipcore.degrade import Degradation
from dipcore.downscale import downscale
from dipcore.errors import SSHDipError
from dipcore.fitting.options import BOUNDS, check_options
from dipcore.solver import fit


@pytest.mark.parametrize("kwargs, message", [
    (dict(members=0), "members must be ≥ 1; got 0"),
    (dict(latent_samples=-1), "latent samples must be ≥ 0; got -1"),
    (dict(iters=0), "iterations must be ≥ 1; got 0"),
    (dict(noise_sigma=-0.1), "noise sigma must be a finite number ≥ 0 (metres); got -0.1"),
    (dict(noise_sigma=float("nan")), "noise sigma must be a finite number ≥ 0 (metres); got nan"),
    (dict(noise_fraction=2.0), f"noise fraction must be between 0 and {MAX_NOISE_FRACTION:g} (of the field's std)"),
    (dict(ratio=3), "ratio must be one of 1, 2, 4, 8, 16, 32; got 3"),
    (dict(factor=64), "factor must be one of 1, 2, 4, 8, 16, 32; got 64"),
    (dict(members="4"), "members must be ≥ 1; got 4"),               # a number is needed, not its text
    (dict(recipe="nope"), "unknown recipe 'nope'"),
])
def test_a_bad_option_is_named_with_its_rule(kwargs, message):
    with pytest.raises(SSHDipError) as err:
        check_options(**kwargs)
    assert str(err.value).startswith(message)


def test_good_options_and_unset_ones_pass():
    check_options(ratio=RATIOS[-1], factor=1, members=np.int64(3), latent_samples=0, iters=1, noise_sigma=0.0,
                  noise_fraction=MAX_NOISE_FRACTION, recipe="paper")
    check_options(members=None, iters=None)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_the_cli_parses_every_option_with_the_library_bounds(name):
    bound, parse = BOUNDS[name], option(name)
    assert parse(str(bound.minimum if bound.kind is float else int(bound.minimum))) == bound.minimum
    below = bound.minimum - (1 if bound.kind is int else 0.5)
    with pytest.raises(argparse.ArgumentTypeError):
        parse(str(below))
    with pytest.raises(SSHDipError):                                  # the library refuses the same value
        check_options(**{name: bound.kind(below)})
    if bound.maximum is not None:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(str(bound.maximum * 2))


def test_fit_downscale_and_the_operator_share_the_check():
    obs = np.ones((4, 4), np.float32)
    with pytest.raises(SSHDipError, match="latent samples must be ≥ 0"):
        next(fit(obs, Degradation(2), latent_samples=-2, device="cpu"))
    with pytest.raises(SSHDipError, match=r"members must be ≥ 1; got 0"):
        downscale(obs, 2, members=0, device="cpu")
    with pytest.raises(SSHDipError, match=r"noise sigma must be a finite number ≥ 0 \(metres\)"):
        Degradation(2, sigma=-1.0)
    with pytest.raises(SSHDipError, match="noise fraction must be between 0 and"):
        Degradation.relative(2, 5.0, obs)
