"""Generators: the paper's parameter count, the size rule for any grid, and the grouped ensemble."""

from __future__ import annotations

import pytest
import torch

from dipcore.generators import LATENT_CHANNELS, Ensemble, PaperGenerator, count_parameters, first_kernel


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
    ens = Ensemble((48, 80), seeds=[3, 4, 5])
    z = torch.randn(2, 3 * LATENT_CHANNELS, 1, 1)
    out = ens(z)
    assert out.shape == (2, 3, 48, 80)
    for k, m in enumerate(ens.members):
        alone = m(z[:, k * LATENT_CHANNELS:(k + 1) * LATENT_CHANNELS])[:, 0]
        torch.testing.assert_close(out[:, k], alone, rtol=1e-4, atol=1e-5)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        Ensemble((32, 32), [0], arch="unet")
