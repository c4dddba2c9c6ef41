"""dipcore.recipes: names resolve to recipes, and ``with_arch`` swaps a recipe's architecture (CLI ``--arch`` and the
explorer's architecture box both go through it)."""

from __future__ import annotations

import pytest

from dipcore.constants import ARCHITECTURES
from dipcore.errors import SSHDipError
from dipcore.recipes import DEFAULT_RECIPE, RECIPES, get_recipe, with_arch


def test_default_and_names_resolve():
    assert get_recipe("default") is RECIPES[DEFAULT_RECIPE] and get_recipe(None) is RECIPES[DEFAULT_RECIPE]
    with pytest.raises(SSHDipError, match="unknown recipe 'nope'; choose one of: .*paper"):
        get_recipe("nope")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_with_arch_keeps_the_recipe_or_changes_only_its_architecture(name):
    rec = RECIPES[name]
    assert with_arch(name) is rec and with_arch(rec, rec.arch) is rec
    for arch in ARCHITECTURES:
        if arch == rec.arch:
            continue
        other = with_arch(name, arch)
        assert other.arch == arch and other.arch_opts == ()          # the own architecture's options do not apply
        assert other.name == rec.name and other.lr == rec.lr and other.residual == rec.residual
        assert rec.arch != arch                                       # the registered recipe is left as it was


def test_with_arch_names_the_choices_of_an_unknown_architecture():
    with pytest.raises(SSHDipError, match="unknown architecture 'unet'; choose one of: paper, skip, decoder"):
        with_arch(DEFAULT_RECIPE, "unet")
