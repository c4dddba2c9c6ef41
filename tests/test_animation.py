"""The fit played back (explorer/ui/animation.py): frames with their step and RMSE, and a GIF for slides."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dipcore.errors import SSHDipError
from dipcore.twin import make_twin
from explorer.data.geometry import Geometry
from explorer.run.fit_job import FitJob
from explorer.ui.animation import Frame, Replay, fit_frames, frame_geometry, frame_title, gif_bytes, pick
from explorer_fakes import paced_fit


@pytest.fixture
def job(gulf_small):
    twin = make_twin(gulf_small, 4, 0.0, 0)
    cfg = {"recipe": "default", "members": 1, "latent_samples": 0, "iters": 6, "seed": 0, "device": "cpu"}
    j = FitJob(paced_fit(500.0), twin, cfg).start()
    assert j.join(30)
    return j


def test_pick_keeps_the_first_and_last_frames():
    assert pick(5, 10) == [0, 1, 2, 3, 4]
    got = pick(200, 30)
    assert got[0] == 0 and got[-1] == 199 and len(got) <= 30 and got == sorted(set(got))


def test_frames_carry_the_fits_step_and_rmse(job):
    frames = fit_frames(job)
    assert [f.step for f in frames] == [1, 2, 3, 4, 5, 6]
    curve = job.scores()
    assert [f.rmse for f in frames] == pytest.approx(list(curve[:, 1]))
    assert frame_title(frames[-1], 6) == f"step 6/6 · RMSE {frames[-1].rmse * 100:.2f} cm"
    assert frame_title(Frame(3, frames[0].estimate)) == "step 3"            # no RMSE known: none shown


def test_the_gif_holds_one_frame_per_snapshot(job):
    geom = Geometry.of(job.twin.field)
    frames = fit_frames(job)
    data = gif_bytes(frames, geom, (0.0, 100.0), iters=6)
    assert data[:4] == b"GIF8"
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == len(frames) > 1
    firsts = []
    for i in (0, gif.n_frames - 1):
        gif.seek(i)
        firsts.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(*firsts)                                       # the title (and map) move on
    few = Image.open(io.BytesIO(gif_bytes(frames, geom, (0.0, 100.0), max_frames=3)))
    assert few.n_frames == 3


def test_replay_loads_a_job_and_refuses_a_gif_without_frames(job):
    r = Replay()
    with pytest.raises(SSHDipError):
        r.gif((0.0, 1.0))
    r.load(job, Geometry.of(job.twin.field))
    assert r.count == 6 and r.frame == 5 and r.current.step == 6 and r.iters == 6
    r.frame = 0
    assert r.current.step == 1
    assert Image.open(io.BytesIO(r.gif((0.0, 100.0)))).n_frames == 6
    r.clear()
    assert r.count == 0 and r.current is None


def test_decimated_snapshots_get_decimated_coordinates():
    g = Geometry(np.arange(10.0), np.arange(8.0), "x", "y", dx_km=5.0)
    d = frame_geometry(g, 2)
    assert list(d.xs) == [0, 2, 4, 6, 8] and list(d.ys) == [0, 2, 4, 6] and d.dx_km == 10.0 and d.cell == (2, 2)
    assert frame_geometry(g, 1) is g
