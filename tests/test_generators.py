"""Generators: the paper's parameter count, the size rule for any grid, and the grouped ensemble."""

from __future__ import annotations

import pytest
import torch

import torch.nn.functional as F

from dipcore.generators import (ARCHITECTURES, LATENT_CHANNELS, DecoderGenerator, GeneratorEnsemble, PaperGenerator,
                               SkipGenerator, build_ensemble, count_parameters, first_kernel, grouped_forward)
from dipcore.generators.paper import PHASE_MIN_CELLS, up_conv


def test_paper_generator_has_the_appendix_parameter_count():
    assert count_parameters(PaperGenerator((256, 256))) == 2_393_185


def test_paper_generator_layer_shapes_at_256():
    g = PaperGenerator((256, 256))
    assert g.head.weight.shape == (100, 512, 4, 4)
    assert [c.out_channels for c in g.convs] == [256, 128, 64, 32, 16]
    assert g.tail.weight.shape == (1, 16, 3, 3)


@pytest.mark.parametrize("shape", [(256, 256), (128, 256), (56, 120), (191, 300), (8, 8), (100, 37)])
def test_any_grid_gives_an_output_of_that_size(shape):
    out = PaperGenerator(shape)(torch.randn(2, LATENT_CHANNELS, 1, 1))
    assert out.shape == (2, 1, *shape) and torch.isfinite(out).all()


def test_size_rule_only_changes_the_first_layer():
    a, b = PaperGenerator((256, 256)), PaperGenerator((128, 512))
    assert first_kernel((128, 512)) == (2, 8)
    # 4×4 and 2×8 kernels hold the same number of weights: same count as the paper
    assert count_parameters(a) == count_parameters(b)
    assert count_parameters(PaperGenerator((64, 64))) == 2_393_185 - 100 * 512 * (16 - 4)


def test_same_seed_same_weights_whatever_the_global_rng():
    torch.manual_seed(0)
    a = PaperGenerator((64, 64), torch.Generator().manual_seed(7))
    torch.manual_seed(99)  # another session's thread may have moved the global generator meanwhile
    b = PaperGenerator((64, 64), torch.Generator().manual_seed(7))
    c = PaperGenerator((64, 64), torch.Generator().manual_seed(8))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.head.weight, c.head.weight)


def test_grouped_ensemble_equals_its_members_run_alone():
    ens = build_ensemble((48, 80), seeds=[3, 4, 5])
    z = torch.randn(2, 3 * LATENT_CHANNELS, 1, 1)
    out = ens(z)
    assert out.shape == (2, 3, 48, 80)
    for k, m in enumerate(ens.members):
        alone = m(z[:, k * LATENT_CHANNELS:(k + 1) * LATENT_CHANNELS])[:, 0]
        torch.testing.assert_close(out[:, k], alone, rtol=1e-4, atol=1e-5)


def _plain_up_conv(x, w, b, groups):
    x = F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect")
    return F.conv2d(x, w, b, groups=groups)


@pytest.mark.parametrize("groups, shape", [(1, (5, 7)), (3, (4, 4)), (2, (1, 6))])
def test_up_conv_is_the_plain_block_computed_at_low_resolution(groups, shape):
    # float64: the sub-pixel form must be the same function, not an approximation; edges included
    g = torch.Generator().manual_seed(groups)
    x = torch.randn(2, 4 * groups, *shape, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3 * groups, 4, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3 * groups, generator=g, dtype=torch.float64)
    fast, plain = up_conv(x, w, b, groups), _plain_up_conv(x, w, b, groups)
    assert fast.shape == plain.shape == (2, 3 * groups, 2 * shape[0], 2 * shape[1])
    torch.testing.assert_close(fast, plain, rtol=1e-12, atol=1e-12)
    # and its gradients (the fit trains through it)
    gx, gw = torch.autograd.grad((fast * plain.detach()).sum(), (x, w))
    px, pw = torch.autograd.grad((plain * plain.detach()).sum(), (x, w))
    torch.testing.assert_close(gx, px, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gw, pw, rtol=1e-10, atol=1e-10)


def test_fast_paper_path_gives_the_plain_network_output_in_fp32():
    # a grid large enough that the last block takes the sub-pixel path (PHASE_MIN_CELLS)
    shape = (256, 256)
    assert (shape[0] // 2) * (shape[1] // 2) >= PHASE_MIN_CELLS  # the last block's input
    ens = build_ensemble(shape, seeds=[0, 1])
    z = torch.randn(1, 2 * LATENT_CHANNELS, 1, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        loop, grouped = grouped_forward(list(ens.members), z, grouped=False), grouped_forward(
            list(ens.members), z, grouped=True)
        x = z
        plain = []
        for k, m in enumerate(ens.members):  # the network written out plainly, as in the paper's appendix
            x = F.relu(F.instance_norm(F.conv_transpose2d(z[:, k * 100:(k + 1) * 100], m.head.weight),
                                       weight=m.head_bn.weight, bias=m.head_bn.bias))
            for conv, bn in zip(m.convs, m.bns):
                x = F.relu(F.instance_norm(_plain_up_conv(x, conv.weight, conv.bias, 1), weight=bn.weight,
                                           bias=bn.bias))
            x = _plain_up_conv(x, m.tail.weight, m.tail.bias, 1)
            top, left = (x.shape[-2] - shape[0]) // 2, (x.shape[-1] - shape[1]) // 2
            plain.append(x[:, 0, top:top + shape[0], left:left + shape[1]])
    plain = torch.stack(plain, dim=1)
    torch.testing.assert_close(loop, plain, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(grouped, plain, rtol=1e-4, atol=1e-4)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_ensemble((32, 32), [0], arch="unet")


# --- the fixed-input architectures -----------------------------------------------------------------------------

def _skip_count(c: int, s: int, cin: int, levels: int) -> int:
    """Parameters of the hourglass, counted layer by layer from its description (dipcore/generators/skip.py)."""
    total = 0
    for i in range(levels):
        ci = cin if i == 0 else c
        total += (ci * c * 9 + c) + 2 * c + (c * c * 9 + c) + 2 * c        # down: two 3×3 convs and norms
        total += (ci * s + s) + 2 * s                                       # skip: 1×1 conv and norm
        total += 2 * (s + c) + ((s + c) * c * 9 + c) + 2 * c + (c * c + c) + 2 * c  # up
    return total + c + 1                                                    # last 1×1 conv


@pytest.mark.parametrize("opts,expected", [({}, 152_133), ({"channels": 128}, 2_217_573)])
def test_skip_parameter_count(opts, expected):
    g = SkipGenerator((256, 256), **opts)
    c = opts.get("channels", 32)
    assert count_parameters(g) == _skip_count(c, 4, 32, 5) == expected


def test_decoder_parameter_count_is_under_the_pixel_count():
    g = DecoderGenerator((256, 256))
    assert count_parameters(g) == 6 * 64 * 64 + 6 * 2 * 64 + 64 == 25_408 < 256 * 256


@pytest.mark.parametrize("arch", ["skip", "decoder"])
@pytest.mark.parametrize("shape", [(256, 256), (128, 344), (56, 120), (191, 300), (16, 16), (100, 37)])
def test_fixed_input_architectures_fit_any_grid(arch, shape):
    ens = build_ensemble(shape, seeds=[0, 1], arch=arch)
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    out = ens(ens.draw(3, gens, 0.0, 0.05))
    assert out.shape == (3, 2, *shape) and torch.isfinite(out).all()
    # the members differ (their own seeds), the three perturbed inputs give three different outputs
    assert not torch.allclose(out[0, 0], out[0, 1])
    assert not torch.allclose(out[0, 0], out[1, 0])


def test_skip_levels_follow_the_size_rule():
    assert SkipGenerator((256, 256)).levels == 5
    g = SkipGenerator((56, 120))                # 2**3 · 4 = 32 ≤ 56 < 64
    assert g.levels == 3 and g.input_shape == (32, 56, 120)
    assert SkipGenerator((100, 37)).input_shape == (32, 104, 40)


def test_fixed_inputs_are_seeded_and_unperturbed_without_noise():
    a = build_ensemble((32, 32), [5], arch="skip")
    b = build_ensemble((32, 32), [5], arch="skip")
    gens = [torch.Generator().manual_seed(0)]
    torch.testing.assert_close(a.draw(1, gens, 0.0, 0.0), b.draw(1, gens, 0.0, 0.0))
    assert torch.equal(a.draw(2, gens, 0.0, 0.0)[0], a.z0)


@pytest.mark.parametrize("arch", ["paper", "skip", "decoder"])
def test_a_short_fit_lowers_the_loss(arch):
    torch.manual_seed(0)
    ens = build_ensemble((32, 48), [0], arch=arch)
    target = torch.linspace(-1, 1, 48).expand(32, 48)
    opt = torch.optim.Adam(ens.parameters(), lr=1e-3 if arch == "paper" else 0.01)  # the recipes' rates
    gens = [torch.Generator().manual_seed(0)]
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = (ens(ens.draw(1, gens, 0.0, 0.0 if arch != "paper" else 1.0))[0, 0] - target).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_is_a_generator_ensemble(arch):
    """The fit talks to every architecture through one protocol: its members, inputs, fields and last layers."""
    ens = build_ensemble((32, 48), [0, 1], arch=arch)
    assert isinstance(ens, GeneratorEnsemble)
    assert len(ens.members) == 2 and all(type(m) is type(ens).member_cls for m in ens.members)
    z = ens.draw(3, [torch.Generator().manual_seed(s) for s in (0, 1)], 0.0, 0.1)
    assert ens(z).shape == (3, 2, 32, 48)
    assert [layer.out_channels for layer in ens.last_layers()] == [1, 1]

