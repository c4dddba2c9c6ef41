"""The fit played back: the estimate snapshots a run kept (:meth:`explorer.run.fit_job.FitJob.snapshots`, decimated for
large fields) as frames with their step and RMSE, and as an animated GIF for slides.

Plain NumPy, matplotlib and Pillow (no UI library): :class:`Replay` is the playback's state (a
``param.Parameterized``), :func:`gif_bytes` renders the frames with the app's colour style (cmocean *balance*,
:mod:`dipcore.style`) on the truth's colour scale. The page's player is :mod:`explorer.ui.replay`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import param

from dipcore import style
from dipcore.errors import SSHDipError
from dipcore.style import CM
from explorer.data.geometry import Geometry

MAX_GIF_FRAMES = 30    # a GIF for slides: at most this many frames (evenly spaced, the last always kept)
GIF_FPS = 5
GIF_HOLD_MS = 2000     # the last frame stays this long before the loop starts again


@dataclass(frozen=True)
class Frame:
    """One snapshot of a fit: its step, the estimate (metres, possibly decimated) and its RMSE (metres, NaN when
    unknown)."""

    step: int
    estimate: np.ndarray
    rmse: float = float("nan")


def fit_frames(job) -> list[Frame]:
    """The frames of a :class:`explorer.run.fit_job.FitJob`: each kept snapshot with the RMSE the fit reported at that
    step (exact, on the full grid)."""
    curve = job.scores()
    rmse_at = {int(s): float(e) for s, e, _ in curve}
    return [Frame(int(st), est, rmse_at.get(int(st), float("nan"))) for st, est in job.snapshots()]


def frame_geometry(geom: Geometry, stride: int) -> Geometry:
    """The coordinates of snapshots taken every ``stride`` cells of a field with geometry ``geom``."""
    if stride <= 1:
        return geom
    return Geometry(geom.xs[::stride], geom.ys[::stride], geom.xlabel, geom.ylabel,
                    geom.dx_km * stride if geom.dx_km else None)


def pick(n: int, k: int) -> list[int]:
    """At most ``k`` indices of ``n`` frames, evenly spaced, the first and the last included."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, k)})


def frame_title(frame: Frame, iters: int | None = None) -> str:
    """'step 120/300 · RMSE 1.23 cm' (the RMSE only when known)."""
    text = f"step {frame.step}" + (f"/{iters}" if iters else "")
    if np.isfinite(frame.rmse):
        text += f" · RMSE {frame.rmse * CM:.2f} cm"
    return text


def gif_bytes(frames: list[Frame], geom: Geometry, clim: tuple[float, float], iters: int | None = None,
              title: str = "DIP estimate", max_frames: int = MAX_GIF_FRAMES, fps: int = GIF_FPS,
              dpi: int = 80) -> bytes:
    """The frames as an animated GIF (looping; the last frame held :data:`GIF_HOLD_MS`).

    Parameters
    ----------
    frames : list of Frame
        The snapshots in order (at most ``max_frames`` of them are drawn, evenly spaced).
    geom : Geometry
        The snapshots' coordinates (:func:`frame_geometry`).
    clim : (float, float)
        The colour range in cm (the app's: the truth's, shared by every SSH map).
    iters : int, optional
        The run's iterations, shown as 'step k/iters'.
    title : str
        What the frames show; each frame's title adds its step and RMSE.
    max_frames, fps, dpi : int
        At most this many frames, shown at ``fps`` frames per second, rendered at ``dpi``.

    Returns
    -------
    bytes
        The GIF file.
    """
    # a Figure of its own, not pyplot: pyplot's figure registry is global, and the page builds GIFs in a worker
    # thread (two sessions may build at once)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    if not frames:
        raise SSHDipError("no frames to animate: run a fit first")
    chosen = [frames[i] for i in pick(len(frames), max_frames)]
    flip = len(geom.ys) > 1 and geom.ys[0] > geom.ys[-1]  # imshow(origin="lower") wants rows south → north

    def image(f: Frame) -> np.ndarray:
        a = np.asarray(f.estimate, dtype=float) * CM
        return np.ma.masked_invalid(a[::-1] if flip else a)

    ny, nx = chosen[0].estimate.shape
    fig = Figure(figsize=(5.6, max(2.5, 4.4 * ny / nx) + 0.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    try:
        extent = [geom.xs.min(), geom.xs.max(), geom.ys.min(), geom.ys.max()]
        im = ax.imshow(image(chosen[0]), origin="lower", extent=extent, cmap=style.cmap(style.SSH_CMAP),
                       vmin=clim[0], vmax=clim[1], aspect="auto", interpolation="nearest")
        fig.colorbar(im, ax=ax, label="SSH (cm)", shrink=0.85)
        ax.set_xlabel(geom.xlabel, fontsize=9)
        ax.set_ylabel(geom.ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_title(f"{title}: {frame_title(chosen[-1], iters)}", fontsize=10)
        fig.canvas.draw()
        fig.set_layout_engine("none")  # laid out once (the longest title): the frames only redraw
        pictures = []
        for f in chosen:
            im.set_data(image(f))
            ax.set_title(f"{title}: {frame_title(f, iters)}", fontsize=10)
            fig.canvas.draw()
            rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
            pictures.append(Image.fromarray(np.ascontiguousarray(rgb)).convert("P", palette=Image.ADAPTIVE))
    finally:
        fig.clear()
    durations = [int(1000 / fps)] * len(pictures)
    durations[-1] = GIF_HOLD_MS
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=durations, loop=0,
                     optimize=False)
    return buf.getvalue()


class Replay(param.Parameterized):
    """The playback of the last run: its frames and the one shown.

    Call :meth:`load` with a finished (or stopped) job; :attr:`frame` is the index the player moves.
    """

    frame = param.Integer(default=0, bounds=(0, None), doc="Index of the frame shown.")
    count = param.Integer(default=0, doc="Number of frames loaded (0: nothing to play).")

    def __init__(self, **params):
        super().__init__(**params)
        self.frames: list[Frame] = []
        self.geom: Geometry | None = None
        self.iters: int | None = None

    def load(self, job, geom: Geometry) -> None:
        """Take the frames of ``job`` (a :class:`explorer.run.fit_job.FitJob`) on the field of geometry ``geom``;
        show the last one."""
        self.frames = fit_frames(job)
        self.geom = frame_geometry(geom, job.stride)
        self.iters = int(job.cfg.get("iters", 0)) or None
        self.count = len(self.frames)
        self.frame = max(0, self.count - 1)

    def clear(self) -> None:
        self.frames, self.geom, self.iters = [], None, None
        self.count, self.frame = 0, 0

    @property
    def current(self) -> Frame | None:
        return self.frames[min(self.frame, len(self.frames) - 1)] if self.frames else None

    def gif(self, clim: tuple[float, float]) -> bytes:
        """The loaded frames as a GIF (:func:`gif_bytes`) on colour range ``clim`` (cm)."""
        if not self.frames or self.geom is None:
            raise SSHDipError("no frames to animate: run a fit first")
        return gif_bytes(self.frames, self.geom, clim, self.iters)


__all__ = ["GIF_FPS", "GIF_HOLD_MS", "MAX_GIF_FRAMES", "Frame", "Replay", "fit_frames", "frame_geometry",
           "frame_title", "gif_bytes", "pick"]
