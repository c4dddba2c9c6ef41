"""The fit played back on the page: after a run, a player over the run's estimate snapshots (step and RMSE in the
title) and a download of the same frames as a GIF for slides. The frames and the GIF: :mod:`explorer.ui.animation`.
"""

from __future__ import annotations

import asyncio
import io

import panel as pn
from bokeh.models import Range1d

from explorer.ui.animation import Replay, frame_title, gif_bytes
from explorer.ui.live import LiveMap
from explorer.ui.views import BALANCE

SOURCE_NAME = "ssh-replay"  # the map's data source, by name (the browser tests find it)


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
        self.map = LiveMap("The fit, replayed: press Run first", BALANCE, "SSH", Range1d(0, 1), Range1d(0, 1),
                           width=520, height=360)
        self.map.source.name = SOURCE_NAME
        self.player = pn.widgets.Player(start=0, end=1, value=0, interval=200, loop_policy="once", disabled=True,
                                        show_loop_controls=False, width=420, css_classes=["w-replay"])
        self.gif = pn.widgets.FileDownload(callback=self.gif_download, filename="ssh-dip-fit.gif", embed=False,
                                           label="Download the fit as a GIF (for slides)", color="success",
                                           visible=False, width=300, css_classes=["w-gif"])
        self.hint = pn.pane.Markdown("After a run, its estimate snapshots play back here.", margin=(0, 10),
                                     css_classes=["replay-hint"])
        self.player.param.watch(lambda e: setattr(self.replay, "frame", int(e.new)), "value")
        self.replay.param.watch(self._show, "frame")
        app.param.watch(self._result, "result")
        self._result()

    def _result(self, event=None) -> None:
        app = self.app
        job = app.job
        if app.result is None or job is None or app.geom is None:
            self.replay.clear()
        else:
            self.replay.load(job, app.geom)
        n = self.replay.count
        self.player.param.update(end=max(1, n - 1), disabled=n < 2)
        self.player.value = self.replay.frame
        self.gif.visible = n > 0
        self.hint.object = (f"{n} snapshots of the last run: press ▶ to watch the estimate form."
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
        m.axes(r.geom)
        m.clim(*self.app.ssh_clim)
        m.show(f.estimate, r.geom)
        m.fig.title.text = f"DIP estimate, {frame_title(f, r.iters)}"

    async def gif_download(self) -> io.BytesIO | None:
        """The GIF button's callback: the GIF of the frames shown, built in a worker thread so the session's
        event loop (Stop, the other maps) stays free for the second or so it takes; a failure is reported."""
        r = self.replay
        frames, geom, iters, clim = r.frames, r.geom, r.iters, self.app.ssh_clim  # read here, on the loop
        try:  # no frames: gif_bytes raises its SSHDipError, reported below
            data = await asyncio.to_thread(gif_bytes, frames, geom, clim, iters)
        except Exception as exc:  # shown on the page (from the loop, not the thread), never a broken session
            self.app.report(exc)
            return None
        return io.BytesIO(data)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### The fit, replayed", margin=(0, 10)), self.hint,
            pn.Row(self.player, self.gif), pn.Column(pn.pane.Bokeh(self.map.fig), css_classes=["map-replay"]))


__all__ = ["SOURCE_NAME", "ReplayView"]
