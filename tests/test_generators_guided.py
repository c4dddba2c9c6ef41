"""The guided architectures (dipcore.generators.guided): shapes on any grid, the guide as a buffer beside the
members' own input, seeded like the others, and counted by the memory check."""

from __future__ import annotations

import pytest
import torch

from dipcore.fitting import memory
from dipcore.generators import GUIDED_REGISTRY, build_ensemble, count_parameters
from dipcore.generators.guided import GUIDE_CHANNELS


@pytest.mark.parametrize("arch", sorted(GUIDED_REGISTRY))
@pytest.mark.parametrize("shape", [(16, 16), (24, 40), (13, 21)])
def test_a_guided_ensemble_maps_its_input_and_the_guide_to_k_fields(arch, shape):
    net = build_ensemble(shape, [0, 1, 2], arch)
    net.set_guide(torch.randn(GUIDE_CHANNELS, *shape))
    gens = [torch.Generator().manual_seed(s) for s in (0, 1, 2)]
    out = net(net.draw(2, gens, 0.0, 0.03))
    assert out.shape == (2, 3, *shape) and torch.isfinite(out).all()


@pytest.mark.parametrize("arch", sorted(GUIDED_REGISTRY))
def test_the_output_follows_the_guide_and_only_the_networks_learn(arch):
    torch.manual_seed(0)
    net = build_ensemble((16, 16), [0], arch)
    z = net.draw(1, [torch.Generator().manual_seed(0)], 0.0, 0.0)
    net.set_guide(torch.zeros(GUIDE_CHANNELS, 16, 16))
    a = net(z)
    net.set_guide(torch.randn(GUIDE_CHANNELS, 16, 16))
    b = net(z)
    assert not torch.allclose(a, b)
    assert all(p is not net.guide for p in net.parameters())
    assert "guide" in dict(net.named_buffers())


def test_members_are_seeded_as_single_fits_are():
    a = build_ensemble((16, 16), [5, 6], "guided_skip")
    b = build_ensemble((16, 16), [6], "guided_skip")
    for p, q in zip(a.members[1].parameters(), b.members[0].parameters()):
        torch.testing.assert_close(p, q)
    torch.testing.assert_close(a.z0[1], b.z0[0])


def test_a_guide_of_the_wrong_channel_count_is_refused():
    net = build_ensemble((16, 16), [0], "pix")
    with pytest.raises(ValueError, match="channels"):
        net.set_guide(torch.zeros(3, 16, 16))


def test_the_guided_hourglass_is_the_hourglass_with_wider_first_layers():
    skip = count_parameters(build_ensemble((32, 32), [0], "skip").members[0])
    guided = count_parameters(build_ensemble((32, 32), [0], "guided_skip").members[0])
    # the first down conv (3×3×32 per extra channel) and the first skip conv (1×1×4 per extra channel) widen
    assert guided - skip == GUIDE_CHANNELS * (3 * 3 * 32 + 4)


@pytest.mark.parametrize("arch", sorted(GUIDED_REGISTRY))
def test_the_memory_check_knows_the_guided_architectures(arch):
    est = memory.estimate_bytes(arch, 4, 64, 64)
    one = memory.estimate_bytes(arch, 1, 64, 64)
    assert est > one > memory.OVERHEAD
    assert memory.parameters(arch, 64, 64) == count_parameters(build_ensemble((64, 64), [0], arch).members[0])
