"""ssh-dip core: downscale sea surface height with a deep image prior (no UI imports here).

The public names below are imported lazily (PEP 562): ``import dipcore`` alone loads neither torch nor xarray, so
the CLI's ``--help`` and argument checks start instantly; the first use of a name imports its module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dipcore.constants import VERSION as __version__  # noqa: E402, F401

_WHERE = {  # public name -> the module that defines it
    "Degradation": "dipcore.degrade", "ladder": "dipcore.degrade", "pool": "dipcore.degrade",
    "SSHDipError": "dipcore.errors",
    "RECIPES": "dipcore.recipes", "Recipe": "dipcore.recipes", "get_recipe": "dipcore.recipes",
    "Progress": "dipcore.solver", "fit": "dipcore.solver",
    "Field": "dipcore.io", "inspect_file": "dipcore.io", "load_field": "dipcore.io",
    "SAMPLES": "dipcore.samples", "load_sample": "dipcore.samples",
    "downscale": "dipcore.downscale",
}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:  # for type checkers and IDEs only
    from dipcore.degrade import Degradation, ladder, pool  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.downscale import downscale  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.errors import SSHDipError  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.io import Field, inspect_file, load_field  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.recipes import RECIPES, Recipe, get_recipe  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.samples import SAMPLES, load_sample  # noqa: F401 (re-exported lazily by __getattr__)
    from dipcore.solver import Progress, fit  # noqa: F401 (re-exported lazily by __getattr__)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dipcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
