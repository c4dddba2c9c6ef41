"""explorer.data.cropping: a crop by index or by a box drawn on a map, and where a crop sits in its field (on a
lon/lat grid and on a grid of plain cells, where only the typed index box can say)."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.errors import SSHDipError
from dipcore.samples import load_sample
from explorer.data.cropping import cropped, position
from explorer.data.geometry import Geometry


def test_an_index_crop_is_located_back_on_a_lon_lat_grid():
    full = load_sample("gulfstream")
    part = cropped(full, full, Geometry.of(full), index=(10, 50, 20, 90))
    assert part.shape == (40, 70)
    assert position(full, part) == (10, 50, 20, 90)
    assert position(full, full) is None and position(None, part) is None


def test_a_box_on_a_grid_of_cells_crops_the_cells_inside_it():
    from dipcore.io import Field

    full = Field.from_array(np.arange(30 * 40, dtype=np.float32).reshape(30, 40) / 1000)
    g = Geometry.of(full)
    assert g.xlabel.startswith("x (cell")
    part = cropped(full, full, g, box=(g.xs[5], g.ys[3], g.xs[14], g.ys[12]))
    assert part.shape == (10, 10)
    np.testing.assert_array_equal(part.values, full.values[3:13, 5:15])
    # without coordinates only the typed index box locates a crop; a box that is not four integers locates nothing
    assert position(full, part, "3 13 5 15") == (3, 13, 5, 15)
    assert position(full, part, "") is None
    with pytest.raises(SSHDipError, match="no grid cell"):
        cropped(full, full, g, box=(g.xs[-1] + 10, g.ys[-1] + 10, g.xs[-1] + 20, g.ys[-1] + 20))
