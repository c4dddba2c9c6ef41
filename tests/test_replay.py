"""The replay on the page (explorer/ui/replay.py): after a run, a player over its snapshots and a GIF download."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
from PIL import Image

from explorer_fakes import small_paced_app


@pytest.fixture
def app():
    yield from small_paced_app(iters=8)


async def while_ticking(coro):
    """(what ``coro`` returns, how many 10 ms ticks another task of the same loop got in meanwhile)."""
    ticks, done = 0, False

    async def ticker():
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.01)
    task = asyncio.create_task(ticker())
    out = await coro
    done = True
    await task
    return out, ticks


def test_after_a_run_the_player_moves_the_map_and_the_gif_downloads(app):
    from explorer.ui.replay import ReplayView

    view = ReplayView(app)
    assert not view.gif.visible and view.player.disabled
    assert app.run() and app.wait(30)
    assert view.gif.visible and not view.player.disabled
    assert view.player.end == 7 and view.player.value == 7
    last = np.array(view.map.source.data["image"][0])
    assert "step 8/8" in view.map.fig.title.text
    view.player.value = 0                                         # what the Player's slider sends
    assert "step 1/8" in view.map.fig.title.text
    assert not np.array_equal(np.array(view.map.source.data["image"][0]), last, equal_nan=True)
    out, ticks = asyncio.run(while_ticking(view.gif_download()))  # the FileDownload's callback
    data = out.getvalue()
    assert ticks >= 3, "the GIF was built on the event loop: the session could do nothing else meanwhile"
    assert data[:4] == b"GIF8" and Image.open(io.BytesIO(data)).n_frames == 8
    app.ratio = 4                                                 # a new field: nothing to replay
    assert not view.gif.visible and view.replay.count == 0


def test_a_gif_without_frames_is_a_message_not_a_crash(app):
    from explorer.ui.replay import ReplayView

    view = ReplayView(app)
    assert asyncio.run(view.gif_download()) is None
    assert "no frames to animate" in app.error


def test_the_player_buttons_say_what_they_do_and_move_the_frames(app):
    from explorer.ui.replay import BUTTONS, ReplayView

    view = ReplayView(app)
    assert all(any(c.isalpha() for c in label) for label in BUTTONS.values())  # words, not bare icons
    assert all(b.disabled for b in view.buttons.values())
    assert app.run() and app.wait(30)
    view.press("first")
    assert view.player.value == 0 and "step 1/8" in view.map.fig.title.text
    view.press("next")
    view.press("next")
    view.press("back")
    assert view.player.value == 1
    view.press("play")                     # no browser session here: play starts from the frame shown …
    for _ in range(10):                    # … and each tick (the session's periodic callback) moves one frame on
        view.tick()
    assert view.player.value == 7 and "step 8/8" in view.map.fig.title.text
    view.press("last")
    assert view.player.value == 7


def test_the_gif_is_for_slides_truth_observation_and_estimate_side_by_side(app):
    from explorer.ui.replay import ReplayView

    view = ReplayView(app)
    assert app.run() and app.wait(30)
    gif = Image.open(asyncio.run(view.gif_download()))
    assert gif.width >= 1000, gif.size                       # wide enough for a slide
    assert gif.width / gif.height > 2.5                      # three maps side by side, not stacked
