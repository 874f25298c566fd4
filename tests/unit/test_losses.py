"""Losses checked against independent computations on the same inputs."""

from __future__ import annotations

import math

import pytest
import torch
import torch.serialization
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl

from labutils import (
    discriminator_loss,
    generator_loss,
    kl_divergence,
    vae_loss,
)


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(16, 20), torch.randn(16, 20)
    reference = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(kl_divergence(mu, logvar), reference, atol=1e-5, rtol=1e-5)


def test_kl_is_zero_for_the_prior_itself():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).abs().max() == 0


def test_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must match"):
        kl_divergence(torch.zeros(3, 4), torch.zeros(3, 5))


def test_vae_loss_matches_an_independent_computation():
    torch.manual_seed(1)
    logits = torch.randn(8, 1, 28, 28)
    images = torch.rand(8, 1, 28, 28)
    mu, logvar = torch.randn(8, 5), torch.randn(8, 5)
    loss = vae_loss(logits, images, mu, logvar)

    p = torch.sigmoid(logits).double()
    x = images.double()
    bce = -(x * p.log() + (1 - x) * (1 - p).log()).sum(dim=(1, 2, 3))  # per image
    var = logvar.double().exp()
    kl = 0.5 * (var + mu.double() ** 2 - 1 - var.log()).sum(dim=1)
    assert loss.reconstruction.item() == pytest.approx(bce.mean().item(), rel=1e-5)
    assert loss.kl.item() == pytest.approx(kl.mean().item(), rel=1e-5)
    assert loss.total.item() == pytest.approx((bce + kl).mean().item(), rel=1e-5)


def test_vae_loss_beta_weights_only_the_kl():
    torch.manual_seed(2)
    args = torch.randn(4, 1, 28, 28), torch.rand(4, 1, 28, 28), torch.randn(4, 3), torch.randn(4, 3)
    plain, weighted = vae_loss(*args), vae_loss(*args, beta=4.0)
    assert weighted.total.item() == pytest.approx(
        plain.reconstruction.item() + 4 * plain.kl.item(), rel=1e-6
    )


def test_gan_losses_match_their_formulas():
    real_logits, fake_logits = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    expected_d = -(d_real.log().mean() + (1 - d_fake).log().mean())
    expected_g = -d_fake.log().mean()
    assert discriminator_loss(real_logits, fake_logits).item() == pytest.approx(
        expected_d.item(), rel=1e-6
    )
    assert generator_loss(fake_logits).item() == pytest.approx(expected_g.item(), rel=1e-6)


def test_generator_loss_is_non_saturating():
    """When D confidently rejects fakes, -log D(G(z)) still has a large gradient."""
    confident_reject = torch.tensor([-8.0], requires_grad=True)
    generator_loss(confident_reject).backward()
    assert abs(confident_reject.grad.item()) > 0.99  # the saturating log(1 - D) gives ~3e-4
    assert math.isfinite(confident_reject.grad.item())


def test_a_loss_rejects_flat_images_and_says_the_expected_shape():
    flat = torch.rand(5, 784)
    mu = logvar = torch.zeros(5, 2)
    with pytest.raises(
        ValueError, match=r"reconstruction_bce \(images\) expects images of shape \(N, 1, 28, 28\)"
    ):
        vae_loss(flat, flat, mu, logvar)


def test_a_loss_rejects_uint8_images_with_the_fix():
    pixels = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(TypeError, match=r"got dtype torch.uint8. .*images.float\(\) / 255"):
        vae_loss(torch.zeros(2, 1, 28, 28), pixels, torch.zeros(2, 2), torch.zeros(2, 2))


def test_a_loss_rejects_logits_that_do_not_match_the_images():
    with pytest.raises(ValueError, match=r"logits \(2, 1, 28, 28\) must have the images' shape"):
        vae_loss(
            torch.zeros(2, 1, 28, 28),
            torch.rand(3, 1, 28, 28),
            torch.zeros(3, 2),
            torch.zeros(3, 2),
        )
