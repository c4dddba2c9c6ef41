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
GIF_WIDTH_IN = 13.5    # inches: 1080 px at 80 dpi, wide enough for a slide (three maps side by side)


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


@dataclass(frozen=True)
class Scene:
    """What stays still in a GIF beside the frames: the truth and the observation (metres, on the frames' grid and
    on their own coarse grid), the field's shape on the ground (height / width, from its km spacing) and a line that
    says what is shown (e.g. the baselines' RMSE)."""

    truth: np.ndarray | None = None
    observation: np.ndarray | None = None
    obs_geom: Geometry | None = None
    box_aspect: float | None = None
    caption: str = ""


def _panel(ax, a: np.ndarray, geom: Geometry, clim, box_aspect: float | None, title: str):
    """One map of the GIF: ``a`` (metres) in cm, rows south → north, at the field's shape on the ground."""
    z = np.asarray(a, dtype=float) * CM
    if len(geom.ys) > 1 and geom.ys[0] > geom.ys[-1]:  # imshow(origin="lower") wants rows south → north
        z = z[::-1]
    left, bottom, right, top = geom.bounds  # cell edges: the coarse observation covers the same ground
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", extent=[left, right, bottom, top], cmap=style.cmap(style.SSH_CMAP),
                   vmin=clim[0], vmax=clim[1], aspect="auto", interpolation="nearest")
    if box_aspect:
        ax.set_box_aspect(box_aspect)
    ax.set_title(title, fontsize=13)
    ax.set_xlabel(geom.xlabel, fontsize=11)
    ax.tick_params(labelsize=10)
    return im


def gif_bytes(frames: list[Frame], geom: Geometry, clim: tuple[float, float], iters: int | None = None,
              title: str = "DIP estimate", max_frames: int = MAX_GIF_FRAMES, fps: int = GIF_FPS,
              dpi: int = 80, scene: Scene | None = None) -> bytes:
    """The frames as an animated GIF for slides (looping; the last frame held :data:`GIF_HOLD_MS`): the truth, the
    observation and the estimate side by side (given a ``scene``; the estimate alone without), on one colour scale,
    :data:`GIF_WIDTH_IN` × ``dpi`` px wide (1080 px at 80 dpi), each map at the field's shape on the ground as on the
    page, with the step and RMSE of each frame in its caption.

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
        What the frames show; each frame's caption adds its step and RMSE.
    max_frames, fps, dpi : int
        At most this many frames, shown at ``fps`` frames per second, rendered at ``dpi``.
    scene : Scene, optional
        The truth and observation shown beside the estimate, the maps' shape and a caption line.

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
    sc = scene or Scene()
    three = sc.truth is not None and sc.observation is not None and sc.obs_geom is not None
    ny, nx = chosen[0].estimate.shape
    shape = sc.box_aspect or ny / nx
    cols = 3 if three else 1
    width = GIF_WIDTH_IN if three else GIF_WIDTH_IN / 2
    fig = Figure(figsize=(width, min(8.0, max(2.5, (width / cols - 0.6) * shape) + 1.4)), dpi=dpi,
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, cols, squeeze=False)[0]
    try:
        if three:
            _panel(axes[0], sc.truth, geom, clim, sc.box_aspect, "Truth (hidden from the networks)")
            _panel(axes[1], sc.observation, sc.obs_geom, clim, sc.box_aspect, "Observation (all they are given)")
        im = _panel(axes[-1], chosen[0].estimate, geom, clim, sc.box_aspect, title)
        axes[0].set_ylabel(geom.ylabel, fontsize=11)
        fig.colorbar(im, ax=list(axes), label="SSH (cm)", shrink=0.9)

        def caption(f: Frame) -> str:
            return f"{title}: {frame_title(f, iters)}" + (f"   ({sc.caption})" if sc.caption else "")

        fig.suptitle(caption(chosen[-1]), fontsize=14)
        fig.canvas.draw()
        fig.set_layout_engine("none")  # laid out once (the longest caption): the frames only redraw
        pictures = []
        for f in chosen:
            im.set_data(np.ma.masked_invalid(_rows(f.estimate, geom) * CM))
            fig.suptitle(caption(f), fontsize=14)
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


def _rows(a: np.ndarray, geom: Geometry) -> np.ndarray:
    """``a`` with its rows south → north (as :func:`_panel` draws them)."""
    a = np.asarray(a, dtype=float)
    return a[::-1] if len(geom.ys) > 1 and geom.ys[0] > geom.ys[-1] else a


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
        self.scene: Scene | None = None

    def load(self, job, geom: Geometry, iters: int | None = None) -> None:
        """Take the frames of ``job`` (a :class:`explorer.run.fit_job.FitJob`) on the field of geometry ``geom``,
        and what the GIF shows beside them (its twin's truth and observation); show the last one. ``iters``: the
        count the titles say ('step k/iters'; default the run's setting: a fit that stopped itself passes its last
        step)."""
        from dipcore.metrics import rmse

        self.frames = fit_frames(job)
        self.geom = frame_geometry(geom, job.stride)
        self.iters = iters or int(job.cfg.get("iters", 0)) or None
        t, s = job.twin, job.stride
        spacing = t.field.spacing_km
        ny, nx = t.truth.shape
        self.scene = Scene(t.truth[::s, ::s], t.observation, geom.coarse(t.degradation.ratio),
                           ny * spacing[0] / (nx * spacing[1]) if spacing else None,
                           f"×{t.degradation.ratio}: IBP {rmse(t.ibp, t.truth) * CM:.2f} cm, bicubic "
                           f"{rmse(t.bicubic, t.truth) * CM:.2f} cm")
        self.count = len(self.frames)
        self.frame = max(0, self.count - 1)

    def clear(self) -> None:
        self.frames, self.geom, self.iters, self.scene = [], None, None, None
        self.count, self.frame = 0, 0

    @property
    def current(self) -> Frame | None:
        return self.frames[min(self.frame, len(self.frames) - 1)] if self.frames else None

    def gif(self, clim: tuple[float, float]) -> bytes:
        """The loaded frames as a GIF (:func:`gif_bytes`) on colour range ``clim`` (cm)."""
        if not self.frames or self.geom is None:
            raise SSHDipError("no frames to animate: run a fit first")
        return gif_bytes(self.frames, self.geom, clim, self.iters, scene=self.scene)


__all__ = ["GIF_FPS", "GIF_HOLD_MS", "GIF_WIDTH_IN", "MAX_GIF_FRAMES", "Frame", "Replay", "Scene", "fit_frames",
           "frame_geometry", "frame_title", "gif_bytes", "pick"]
