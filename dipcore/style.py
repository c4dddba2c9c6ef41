"""One figure style for every picture ssh-dip makes (the app's maps, its PNG, the experiments' figures).

cmocean's ``balance`` (diverging) for SSH and signed errors, ``amp`` (sequential, from white) for stds and error
magnitudes; values in centimetres; land in neutral grey. Plain names so matplotlib and Bokeh views can share them.
"""

from __future__ import annotations

CM = 100.0          # metres → centimetres: every figure shows cm
SSH_CMAP = "balance"    # cmocean names (cmocean.cm.<name>)
ERROR_CMAP = "balance"
STD_CMAP = "amp"
LAND = "0.75"       # matplotlib grey for land (NaN)


def cmap(name: str):
    """The cmocean colour map ``name`` as a matplotlib colour map, land (NaN) in :data:`LAND`."""
    import cmocean

    return getattr(cmocean.cm, name).with_extremes(bad=LAND)


__all__ = ["CM", "ERROR_CMAP", "LAND", "SSH_CMAP", "STD_CMAP", "cmap"]
