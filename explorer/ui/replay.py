"""The fit played back on the page: after a run, a player over the run's estimate snapshots (step and RMSE in the
title) and a download of the same frames as a GIF for slides (truth, observation and estimate side by side). The
frames and the GIF: :mod:`explorer.ui.animation`.

The player's buttons say what they do ("▶ Play", "⏸ Pause", "◀ Back"…): bare icons meant nothing to a class. Play
moves one frame every ``PLAY_MS`` with a periodic callback of the browser session (started by Play, stopped by
Pause, the last frame or a new run), so the frames come from the server one at a time, as the slider's do.
"""

from __future__ import annotations

import asyncio
import io

import panel as pn
from bokeh.models import Range1d

from explorer.ui.animation import Replay, frame_title, gif_bytes
from explorer.ui.figures import LiveMap, frame_size
from explorer.ui.views import BALANCE

SOURCE_NAME = "ssh-replay"  # the map's data source, by name (the browser tests find it)
PLAY_MS = 250
FRAME_MAX = (370, 300)      # the map's largest frame (px): beside the comparison map, both fit 1440 px
# words with arrows every font has (⏮ ⏸ ⏭ drew as empty boxes in Debian's Chromium)
BUTTONS = {"first": "|◀ First", "back": "◀ Back", "play": "▶ Play", "pause": "‖ Pause", "next": "Next ▶",
           "last": "Last ▶|"}


class ReplayView(pn.viewable.Viewer):
    """Player, map and GIF download of one session's last run.

    Parameters
    ----------
    app : explorer.app.ExplorerApp
        The session's app (read only: ``result``, ``job``, ``geom``, ``ssh_clim``; ``report`` shows a failure).
    """

    def __init__(self, app, **params):
        super().__init__(**params)
        self.app = app
        self.replay = Replay()
        self.map = LiveMap("The fit, replayed: press Run first", BALANCE, "SSH", Range1d(0, 1), Range1d(0, 1))
        self.map.source.name = SOURCE_NAME
        self.player = pn.widgets.IntSlider(label="Snapshot", start=0, end=1, value=0, disabled=True,
                                           sizing_mode="stretch_width", css_classes=["w-replay"])
        self.buttons = {k: pn.widgets.Button(label=v, width=82, disabled=True, css_classes=[f"replay-{k}"],
                                             margin=(4, 2)) for k, v in BUTTONS.items()}
        for key, button in self.buttons.items():
            button.on_click(lambda _e, key=key: self.press(key))
        self.gif = pn.widgets.FileDownload(callback=self.gif_download, filename="ssh-dip-fit.gif", embed=False,
                                           label="Download the fit as a GIF (for slides)", color="success",
                                           visible=False, sizing_mode="stretch_width", css_classes=["w-gif"])
        self.hint = pn.pane.Markdown("After a run, its estimate snapshots play back here.", margin=(0, 10),
                                     css_classes=["replay-hint"], styles={"font-size": "15px"})
        self._playing = None  # the periodic callback while playing
        self.player.param.watch(lambda e: setattr(self.replay, "frame", int(e.new)), "value")
        self.replay.param.watch(self._show, "frame")
        app.param.watch(self._result, "result")
        self._result()

    # ---- the player -----------------------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """What a player button does: first, back, play, pause, next, last."""
        n = self.replay.count
        if n == 0:
            return
        if key == "play":
            self.play()
            return
        self.pause()
        if key == "pause":
            return
        at = {"first": 0, "back": self.player.value - 1, "next": self.player.value + 1, "last": n - 1}[key]
        self.player.value = min(max(at, 0), n - 1)

    def play(self) -> None:
        """Play from the shown frame (from the first when at the last) to the last, one frame every ``PLAY_MS``."""
        if self._playing is not None or self.replay.count < 2:
            return
        if self.player.value >= self.replay.count - 1:
            self.player.value = 0
        if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            return  # no browser session to tick in (scripts and tests call tick())
        self._playing = pn.state.add_periodic_callback(self.tick, period=PLAY_MS)

    def tick(self) -> None:
        """One frame on; the end of the frames pauses."""
        if self.player.value >= self.replay.count - 1:
            self.pause()
            return
        self.player.value += 1

    def pause(self) -> None:
        if self._playing is not None:
            try:
                self._playing.stop()
            except Exception:  # already stopped with the session: the state we want
                pass
            self._playing = None

    # ---- the run's frames -----------------------------------------------------------------------------------
    def _result(self, event=None) -> None:
        app = self.app
        job, p = app.job, app.result
        self.pause()
        if p is None or job is None or app.geom is None:
            self.replay.clear()
        else:  # a fit that stopped itself: its last step is the count the titles say, not its cap
            self.replay.load(job, app.geom, iters=p.step if p.done else p.iters)
        n = self.replay.count
        self.player.param.update(end=max(1, n - 1), disabled=n < 2)
        self.player.value = self.replay.frame
        for b in self.buttons.values():
            b.disabled = n < 2
        self.gif.visible = n > 0
        self.hint.object = (f"{n} snapshots of the last run: press **▶ Play** to watch the estimate form."
                            if n else "After a run, its estimate snapshots play back here.")
        self._show()

    def _show(self, event=None) -> None:
        r, m = self.replay, self.map
        f = r.current
        if f is None or r.geom is None:
            m.fig.title.text = "The fit, replayed: press Run first"
            return
        left, bottom, right, top = r.geom.bounds
        if (m.fig.x_range.start, m.fig.x_range.end) != (left, right):
            m.fig.x_range.update(start=left, end=right)
        if (m.fig.y_range.start, m.fig.y_range.end) != (bottom, top):
            m.fig.y_range.update(start=bottom, end=top)
        field = self.app.field
        if field is not None:
            m.frame(*frame_size(field.shape, field.spacing_km, *FRAME_MAX))
        m.axes(r.geom)
        m.clim(*self.app.ssh_clim)
        m.show(f.estimate, r.geom)
        m.fig.title.text = f"DIP estimate, {frame_title(f, r.iters)}"

    async def gif_download(self) -> io.BytesIO | None:
        """The GIF button's callback: the GIF of the frames shown, built in a worker thread so the session's
        event loop (Stop, the other maps) stays free for the seconds it takes; a failure is reported."""
        r = self.replay
        frames, geom, iters, clim, scene = r.frames, r.geom, r.iters, self.app.ssh_clim, r.scene  # on the loop
        try:  # no frames: gif_bytes raises its SSHDipError, reported below
            data = await asyncio.to_thread(gif_bytes, frames, geom, clim, iters, scene=scene)
        except Exception as exc:  # shown on the page (from the loop, not the thread), never a broken session
            self.app.report(exc)
            return None
        return io.BytesIO(data)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### The fit, replayed", margin=(0, 10), styles={"font-size": "15px"}), self.hint,
            pn.Row(*self.buttons.values(), margin=0), self.player,
            pn.Column(pn.pane.Bokeh(self.map.fig), css_classes=["map-replay"]), self.gif,
            width=540, css_classes=["replay"])


__all__ = ["BUTTONS", "PLAY_MS", "SOURCE_NAME", "ReplayView"]
