"""The explore tab's live views (explorer/ui/live.py) without a browser: the image a map is sent, a curve that
streams only its new points, the maps following the state's feed, and, with a stand-in document, the batching onto
the session's next tick and the back-pressure on the browser's paint acknowledgements."""

from __future__ import annotations

import time
import numpy as np
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsStreamedEvent
from bokeh.models import GlyphRenderer, Range1d

from dipcore.style import CM
from explorer.data.geometry import Geometry
from explorer.data.state import ExplorerState
from explorer.ui.figures import MAX_DISPLAY, LiveCurve, LiveMap, display_array
from explorer.ui.live import ACK_TIMEOUT, IN_FLIGHT, LiveMaps
from explorer.ui.views import BALANCE
from explorer_fakes import FakeDoc


def geometry(ny: int, nx: int, north_first: bool = False) -> Geometry:
    ys = 30 + np.arange(ny) * 0.25
    return Geometry(-70 + np.arange(nx) * 0.25, ys[::-1] if north_first else ys, "Longitude (°E)", "Latitude (°N)")


def test_display_array_is_centimetres_south_to_north_and_rasterised_when_large():
    a = np.arange(12, dtype=np.float64).reshape(3, 4) / 100       # metres
    z = display_array(a, geometry(3, 4))
    assert z.dtype == np.float32 and z[0, 1] == pytest.approx(1.0)  # 0.01 m = 1 cm, rows as given
    np.testing.assert_allclose(display_array(a, geometry(3, 4, north_first=True)), z[::-1])  # Bokeh: south first
    big = display_array(np.zeros((1024, 700)), geometry(1024, 700))
    assert max(big.shape) <= MAX_DISPLAY and big.shape[0] > big.shape[1]


def test_a_map_shows_an_array_on_its_bounds_and_marks_taps():
    m = LiveMap("t", BALANCE, "SSH", Range1d(0, 1), Range1d(0, 1))
    g = geometry(6, 8)
    m.show(None, g)                                                 # nothing yet: NaN (grey) of the field's shape
    assert m.source.data["image"][0].shape == (6, 8) and np.isnan(m.source.data["image"][0]).all()
    left, bottom, right, top = g.bounds
    assert m.source.data["x"] == [left] and m.source.data["y"] == [bottom]
    assert m.source.data["dw"] == [right - left] and m.source.data["dh"] == [top - bottom]
    m.clim(-3, 5)
    assert (m.mapper.low, m.mapper.high) == (-3, 5)
    m.axes(g)
    assert ("lon", "$x{0.00} °E") in m.hover.tooltips and m.fig.xaxis.axis_label == "Longitude (°E)"
    marks = [r for r in m.fig.renderers if isinstance(r, GlyphRenderer) and r.data_source is m.marks]
    assert marks and not any(r.visible for r in marks)
    m.mark([(1.0, 2.0), (3.0, 4.0)])
    assert all(r.visible for r in marks) and list(m.marks.data["x"]) == [1.0, 3.0]
    m.mark([])
    assert not any(r.visible for r in marks)


def test_a_curve_streams_only_its_new_points_and_sets_its_references_once():
    c = LiveCurve("RMSE", "cm")
    doc = Document()
    doc.add_root(c.fig)
    events = []
    doc.on_change(lambda e: events.append(e))
    refs = {"bicubic": 2.0, "ibp": 1.5}
    c.show((np.array([1, 2, 3]), np.array([3.0, 2.5, 2.0]), refs))
    assert list(c.dip.data["y"]) == [3.0, 2.5, 2.0] and list(c.refs["ibp"].data["y"]) == [1.5, 1.5]
    events.clear()
    c.show((np.array([1, 2, 3, 4, 5]), np.array([3.0, 2.5, 2.0, 1.8, 1.7]), refs))   # the same run, further on
    streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
    assert len(streamed) == 1 and list(streamed[0].data["x"]) == [4, 5]  # only the new points travel
    assert not [e for e in events if isinstance(e, ColumnDataChangedEvent)]   # the references did not change
    assert c.fig.x_range.end == 5 and list(c.dip.data["x"]) == [1, 2, 3, 4, 5]
    events.clear()
    c.show((np.array([1]), np.array([9.0]), {"bicubic": 2.0, "ibp": 1.0}))        # a new run: replaced
    assert list(c.dip.data["y"]) == [9.0] and list(c.refs["ibp"].data["y"]) == [1.0, 1.0]
    assert not [e for e in events if isinstance(e, ColumnsStreamedEvent)]


@pytest.fixture(scope="module")
def state():
    s = ExplorerState()
    s.index_crop = "0 32 0 64"
    assert s.field.shape == (32, 64)
    return s


def test_the_maps_follow_the_feed_and_the_field(state):
    live = LiveMaps(state)                                         # no served document: changes apply at once
    left, bottom, right, top = state.geom.bounds
    assert (live.x_range.start, live.x_range.end, live.y_range.start) == (left, right, bottom)
    assert live.maps["error"].fig.title.text == "Error: bicubic − truth (until a run)"
    est = state.twin.truth + 0.01
    state.feed.send("estimate", est)
    np.testing.assert_allclose(live.maps["estimate"].source.data["image"][0], display_array(est, state.geom))
    assert live.maps["estimate"].fig.title.text == "DIP estimate (ensemble mean)"
    state.feed.send("estimate", np.zeros((3, 3)))                  # another field's data (a change in flight)
    np.testing.assert_allclose(live.maps["estimate"].source.data["image"][0], display_array(est, state.geom))
    std = np.abs(state.twin.truth - np.nanmean(state.twin.truth))
    state.feed.send("std", std)                                    # the spread: its own scale from 0
    assert live.maps["std"].mapper.low == 0
    assert live.maps["std"].mapper.high == pytest.approx(float(np.nanpercentile(std[::2, ::2], 99)) * CM)
    state.feed.send("estimate", None)
    assert live.maps["estimate"].fig.title.text == "DIP estimate: press Run"
    state.feed.send("marks", [state.geom.point_of(3, 4)])
    assert list(live.maps["error"].marks.data["x"]) == [state.geom.point_of(3, 4)[0]]
    state.ratio = 4                                                # a new twin: titles and ranges follow
    assert live.maps["obs"].fig.title.text.startswith("Observation (×4")
    state.ratio = 8


def test_the_sigma_map_says_what_it_shows_while_running_and_after_a_stop(state):
    """While a run goes, the σ map shows the members' spread and says σ comes at the end; a run that ends without
    a σ was stopped, and the title says none will come (no new map needs to arrive for it to change)."""
    from explorer.ui.live import SIGMA_TITLES

    live = LiveMaps(state)
    spread = np.abs(state.twin.truth - np.nanmean(state.twin.truth))
    state.running = True
    state.feed.send("std", spread)
    assert live.maps["std"].fig.title.text == SIGMA_TITLES["spread"]
    state.running = False                                          # stopped: no σ in the feed
    assert live.maps["std"].fig.title.text == SIGMA_TITLES["stopped"]
    state.feed.send("std", None)


def test_in_a_session_changes_wait_for_the_next_tick_and_the_newest_wins(state):
    doc = FakeDoc()
    live = LiveMaps(state, doc=doc)
    before = live.maps["estimate"].source.data["image"][0].copy()
    a, b = state.twin.truth + 0.01, state.twin.truth + 0.02
    state.feed.send("estimate", a)                                 # from the session's flush, say
    state.feed.send("estimate", b)
    np.testing.assert_array_equal(live.maps["estimate"].source.data["image"][0], before)  # not yet
    assert len(doc.ticks) == 1                                     # one batch scheduled
    doc.tick()
    np.testing.assert_allclose(live.maps["estimate"].source.data["image"][0], display_array(b, state.geom))


def test_image_updates_wait_for_the_browser_to_paint_them(state):
    doc = FakeDoc()
    live = LiveMaps(state, doc=doc)
    painted = []
    live.on_painted(lambda: painted.append(live.acked))
    now = time.perf_counter()
    assert not live.busy(now)
    for _ in range(IN_FLIGHT):
        live.mark_sent()                                           # image updates sent, none painted yet
    doc.tick()
    assert live.maps["estimate"].source.tags == [IN_FLIGHT]        # the sequence number travels with the image
    assert live.busy(time.perf_counter())                          # the session holds the next one back …
    assert not live.busy(live.sent_at + ACK_TIMEOUT + 0.01)        # … for at most ACK_TIMEOUT
    live.ack.tags = [live.sent]                                    # what the browser's CustomJS echoes
    assert live.acked == IN_FLIGHT and not live.busy(time.perf_counter())
    assert len(live.rtts) == 1 and live.rtts[0] >= 0
    doc.tick()
    assert painted == [IN_FLIGHT]                                  # the session's flush is called on the loop


def test_without_a_session_nothing_waits_for_a_browser(state):
    live = LiveMaps(state)
    live.mark_sent()
    assert live.sent == 0 and not live.busy()
