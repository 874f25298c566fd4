"""Shapes of the four models, and the errors they give for bad input."""

from __future__ import annotations

import pytest
import torch
import torch.serialization
from torch.nn.utils import parameters_to_vector

from labutils import (
    VAE,
    Autoencoder,
    Discriminator,
    Generator,
    reparameterize,
)
from labutils.recipes import channels_last


def test_autoencoder_shapes():
    model = Autoencoder(latent_dim=7, hidden=(64, 32))
    images = torch.rand(5, 1, 28, 28)
    assert model.encode(images).shape == (5, 7)
    assert model(images).shape == (5, 1, 28, 28)
    out = model(images)
    assert 0 <= out.min() and out.max() <= 1  # sigmoid output, like the pixels


def test_vae_shapes_and_heads():
    model = VAE(latent_dim=3, hidden=(64, 32))
    logits, mu, logvar = model(torch.rand(4, 1, 28, 28))
    assert logits.shape == (4, 1, 28, 28)
    assert mu.shape == logvar.shape == (4, 3)
    assert model.decode(torch.randn(6, 3)).shape == (6, 1, 28, 28)
    # decoder mirrors the encoder: 3 -> 32 -> 64 -> 784
    sizes = [layer.out_features for layer in model.decoder if isinstance(layer, torch.nn.Linear)]
    assert sizes == [32, 64, 784]


def test_generator_and_discriminator_shapes():
    generator, discriminator = Generator(nz=10, width=8), Discriminator(width=8)
    fake = generator(torch.randn(3, 10))
    assert fake.shape == (3, 1, 28, 28)
    assert -1 <= fake.min() and fake.max() <= 1  # Tanh range
    assert discriminator(fake).shape == (3,)


def conv_weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [
        m.weight
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
    ]


def test_channels_last_changes_the_layout_not_the_outputs_and_restores_it():
    generator, discriminator = Generator(nz=10, width=8), Discriminator(width=8)
    noise = torch.randn(5, 10)
    fake, logits = generator(noise), discriminator(generator(noise))
    with channels_last(generator, discriminator):
        weights = conv_weights(generator) + conv_weights(discriminator)
        assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
        assert sum(not w.is_contiguous() for w in weights) >= 4  # one channel: both layouts
        torch.testing.assert_close(generator(noise), fake, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(discriminator(fake), logits, rtol=1e-5, atol=1e-6)
    assert all(w.is_contiguous() for w in conv_weights(generator) + conv_weights(discriminator))
    parameters_to_vector(generator.parameters())  # needs the default layout (it views each)


def test_dcgan_initialisation_follows_radford():
    generator = Generator(nz=100, width=32)
    weights = torch.cat(
        [m.weight.flatten() for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    )
    assert abs(weights.mean().item()) < 0.002
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)


def test_reparameterize_matches_mean_and_variance():
    torch.manual_seed(0)
    mu = torch.full((200_000, 1), 1.5)
    logvar = torch.full((200_000, 1), torch.log(torch.tensor(0.25)).item())  # sigma = 0.5
    z = reparameterize(mu, logvar)
    assert z.mean().item() == pytest.approx(1.5, abs=0.01)
    assert z.std().item() == pytest.approx(0.5, abs=0.01)


def test_reparameterize_lets_gradients_reach_mu_and_logvar():
    mu = torch.zeros(4, 2, requires_grad=True)
    logvar = torch.zeros(4, 2, requires_grad=True)
    reparameterize(mu, logvar).sum().backward()
    assert mu.grad is not None and torch.all(mu.grad == 1)
    assert logvar.grad is not None and logvar.grad.abs().sum() > 0


@pytest.mark.parametrize("model", [Autoencoder(2), VAE(2), Discriminator(8)])
def test_flat_images_are_rejected_with_expected_shape(model):
    with pytest.raises(
        ValueError, match=r"expects images of shape \(N, 1, 28, 28\), got \(5, 784\)"
    ):
        model(torch.rand(5, 784))


def test_uint8_images_are_rejected_with_a_fix():
    with pytest.raises(TypeError, match=r"images.float\(\) / 255"):
        Autoencoder(2)(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


def test_generator_rejects_wrong_noise_size():
    with pytest.raises(ValueError, match=r"shape \(N, 100\), got \(2, 64\)"):
        Generator(nz=100, width=8)(torch.randn(2, 64))


@pytest.mark.parametrize("bad", [0, -3, 2.5, "20", True])
def test_latent_dim_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        VAE(latent_dim=bad)


def test_width_must_be_positive_int():
    with pytest.raises(ValueError, match="width must be a positive integer, got 0"):
        Discriminator(width=0)


def test_hidden_must_not_be_empty():
    with pytest.raises(ValueError, match="at least one hidden layer"):
        Autoencoder(2, hidden=())


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: Autoencoder(latent_dim=-2), "latent_dim"),
        (lambda: Generator(width=1.5), "width"),
        (lambda: Generator(nz=0), "nz"),
    ],
)
def test_model_settings_must_be_positive_integers(build, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        build()
