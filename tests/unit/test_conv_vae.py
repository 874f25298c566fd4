"""The convolutional VAE: DCGAN's architecture with the VAE's heads, trained by the VAE's step."""

from __future__ import annotations

import pytest
import torch

from labutils import Discriminator, Generator, seed_everything, vae_step
from labutils.models import ConvVAE, mean_code


def shapes(layers: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """Each parameter's kind of layer and shape, in order."""
    return [
        (type(module).__name__, tuple(parameter.shape))
        for module in layers.modules()
        for parameter in module.parameters(recurse=False)
    ]


def test_the_encoder_is_the_discriminators_trunk_and_the_decoder_the_generators():
    model = ConvVAE(latent_dim=20, width=24)
    assert shapes(model.encoder) == shapes(Discriminator(width=24).net[:-1])
    assert shapes(model.decoder) == shapes(Generator(nz=20, width=24).net[:-1])  # no Tanh
    assert model.config == {"latent_dim": 20, "width": 24}


def test_shapes_of_the_codes_logits_and_samples(one_batch):
    model = ConvVAE(latent_dim=5, width=4)
    mu, logvar = model.encode(one_batch)
    logits, mu_again, _ = model(one_batch)
    assert mu.shape == logvar.shape == (64, 5)
    assert logits.shape == (64, 1, 28, 28)
    assert torch.equal(mu, mu_again) and torch.equal(mean_code(model, one_batch), mu)
    with torch.no_grad():
        decoded = model.decode(torch.zeros(3, 5))
    assert (
        decoded.shape == (3, 1, 28, 28) and 0 <= float(decoded.min()) <= float(decoded.max()) <= 1
    )


def test_vae_step_lowers_the_conv_vaes_loss_on_one_batch(one_batch):
    seed_everything(0)
    model = ConvVAE(latent_dim=8, width=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = [float(vae_step(model, optimizer, one_batch)["total"]) for _ in range(60)]
    assert losses[-1] < 0.6 * losses[0]


def test_bad_inputs_get_one_clear_error():
    model = ConvVAE(latent_dim=5, width=4)
    with pytest.raises(
        ValueError, match=r"ConvVAE.encode expects images of shape \(N, 1, 28, 28\)"
    ):
        model.encode(torch.zeros(2, 784))
    with pytest.raises(
        ValueError, match=r"ConvVAE.decode expects latent vectors of shape \(N, 5\)"
    ):
        model.decode(torch.zeros(2, 6))
    with pytest.raises(ValueError, match="width must be a positive integer"):
        ConvVAE(latent_dim=5, width=0)
