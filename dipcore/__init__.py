"""ssh-dip core: downscale sea surface height with a deep image prior (no UI imports here)."""

from dipcore.degrade import Degradation, ladder, pool
from dipcore.errors import SSHDipError
from dipcore.fit import RECIPES, Progress, Recipe, fit, get_recipe
from dipcore.io import Field, inspect_file, load_field
from dipcore.samples import SAMPLES, load_sample

__all__ = [
    "Degradation", "Field", "Progress", "RECIPES", "Recipe", "SAMPLES", "SSHDipError",
    "fit", "get_recipe", "inspect_file", "ladder", "load_field", "load_sample", "pool",
]
__version__ = "0.1.0"
