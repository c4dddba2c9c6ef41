"""The memory estimate of a fit (dipcore.fitting.memory) and the refusal of what would not fit."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dipcore.fitting import memory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import memory_calibration  # noqa: E402  (the measuring side lives with the benchmarks)
from dipcore.degrade import Degradation
from dipcore.errors import SSHDipError
from dipcore.generators import ARCHITECTURES, build_ensemble, count_parameters
from dipcore.solver import fit, get_recipe

GiB = 2 ** 30


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_parameter_count_is_exact(arch):
    for shape in [(64, 64), (256, 256), (96, 160)]:
        real = count_parameters(build_ensemble(shape, [0], arch).members[0])
        assert memory.parameters(arch, *shape) == real


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_estimate_grows_with_members_and_grid(arch):
    e = lambda k, n: memory.estimate_bytes(arch, k, n, n, "cpu")  # noqa: E731
    assert e(1, 256) < e(4, 256) < e(8, 256)
    assert e(4, 128) < e(4, 256) < e(4, 512) < e(4, 1024)
    # everything but the fixed overhead scales with K
    assert e(8, 256) - memory.OVERHEAD == pytest.approx(8 * (e(1, 256) - memory.OVERHEAD), rel=1e-6)


def test_paper_estimate_is_the_sum_of_its_parts():
    # 2,393,185 parameters at 256², six float32 copies (param, grad, Adam's two moments, concatenated weights
    # and their gradient) — about 55 MiB per member, a lower bound of the estimate
    per_member = memory.estimate_bytes("paper", 2, 256, 256) - memory.estimate_bytes("paper", 1, 256, 256)
    assert per_member > 6 * 4 * 2_393_185
    assert per_member < 4 * 6 * 4 * 2_393_185


def test_recipe_grid_is_used():
    dip = get_recipe("dip")  # at ×8 the skip network works on a grid twice as fine as the observation: 4× coarser
    coarse = memory.check_fit(dip, 4, (256, 256), 8, "cpu", available=2 ** 62)
    assert coarse == memory.estimate_bytes("skip", 4, 256, 256, "cpu", upsample=4)
    assert memory.check_fit(get_recipe("dip1500"), 4, (256, 256), 8, "cpu", available=2 ** 62) == \
        memory.estimate_bytes("skip", 4, 256, 256, "cpu", upsample=2)
    assert coarse < memory.estimate_bytes("skip", 4, 256, 256, "cpu")


def test_estimate_within_a_factor_two_of_a_measured_fit():
    # one fresh process (a process's heap keeps what earlier fits freed); measured: peak RSS above the start
    [(_, _, _, peak, need)] = memory_calibration.calibrate([("decoder", 4, 128)], iters=4)
    assert peak > 0
    assert 0.5 < need / peak < 2.0, (peak / 2**20, need / 2**20)


def test_in_process_peak_meter_sees_an_allocation():
    with memory_calibration.PeakMemory("cpu") as pm:
        x = torch.ones(64 * 2 ** 20 // 4)  # 64 MiB, touched
        time.sleep(0.02)
        del x
    assert pm.peak > 48 * 2 ** 20


def test_check_refuses_with_a_one_line_message():
    with pytest.raises(SSHDipError) as err:
        memory.check("paper", 8, 1024, 1024, "cpu", available=GiB)
    msg = str(err.value)
    assert "\n" not in msg and "GiB" in msg and "fewer members or a smaller crop" in msg
    assert memory.check("paper", 1, 64, 64, "cpu", available=64 * GiB) > 0
    with pytest.raises(SSHDipError, match="GPU memory"):  # an estimate only: no CUDA call with ``available``
        memory.check("skip", 50, 1024, 1024, "cuda", available=GiB)


def test_check_can_be_skipped(monkeypatch):
    monkeypatch.setenv(memory.SKIP_ENV, "1")
    assert memory.check("paper", 10 ** 6, 256, 256, "cpu", available=1) > GiB


def test_available_memory_is_positive():
    assert memory.available_bytes("cpu") > 0


def _obs(n: int = 256, ratio: int = 8):
    field = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    deg = Degradation(ratio)
    return deg.forward(field), deg


def test_fit_refuses_a_million_members_before_allocating():
    obs, deg = _obs()
    t = time.perf_counter()
    with pytest.raises(SSHDipError, match="members or a smaller crop"):
        next(fit(obs, deg, "dip", members=1_000_000, iters=1, device="cpu"))
    with pytest.raises(SSHDipError, match="needs about"):
        next(fit(obs, deg, "paper", members=1_000_000, iters=1, device="cpu"))
    assert time.perf_counter() - t < 5


def test_fit_refuses_when_little_memory_is_left(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 16 * 2 ** 20)
    obs, deg = _obs(64)
    with pytest.raises(SSHDipError, match="only 0.0156 GiB"):
        next(fit(obs, deg, "decoder", members=2, iters=1, device="cpu"))
