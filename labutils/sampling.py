"""Drawing new images from each of the course's models, in one place and one convention.

Every sampler here
- returns images (count, 1, 28, 28) in [0, 1], the range of the data and of the classifier
  (a DCGAN generator's Tanh output in [-1, 1] is mapped there);
- takes a `torch.Generator` for its noise and draws the noise on that generator's device (the CPU
  for `torch.Generator()`), then moves it to the model's device: a CPU generator works with a model
  on the GPU, and a seed gives the same noise on any device, hence the same images up to
  floating-point differences (a GPU's kernels, and its TF32 convolutions, round differently);
- runs the model in eval mode without gradients and gives it back its previous train/eval mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ._validate import require_positive_int
from .data import minibatches
from .metrics import Gaussian, fit_gaussian, sqrtm_psd
from .models import VAE, Autoencoder, ConvVAE, Generator, mean_code


def device_of(model: nn.Module) -> torch.device:
    """The device that holds a model's weights, where its inputs must live."""
    return next(model.parameters()).device


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Run a block in eval mode without gradients, then give the model back its previous mode
    (sampling must not switch a model that is still being trained out of training mode)."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def standard_normal(
    count: int,
    dim: int,
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """(count, dim) numbers from N(0, I), drawn on the generator's device (the CPU when there is
    no generator) and moved to `device`."""
    require_positive_int("count", count)  # every sampler draws through here
    where = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(count, dim, generator=generator, device=where, dtype=dtype).to(device)


def decode_in_batches(
    decode: Callable[[torch.Tensor], torch.Tensor], latents: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Images decoded from latents (N, D), batch by batch, without recording gradients."""
    with torch.inference_mode():
        return torch.cat(
            [decode(batch) for (batch,) in minibatches(latents, batch_size=batch_size)]
        )


def code_gaussian(
    model: Autoencoder | VAE | ConvVAE, images: torch.Tensor, batch_size: int = 2000
) -> Gaussian:
    """Gaussian fit of a model's (mean) codes of `images` (typically the training split)."""
    with evaluating(model):
        codes = [mean_code(model, batch) for (batch,) in minibatches(images, batch_size=batch_size)]
    return fit_gaussian(torch.cat(codes))  # (latent_dim,), (latent_dim, latent_dim)


def sample_gaussian(
    gaussian: Gaussian, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`count` points (count, D) from N(mean, covariance): mean + sqrt(covariance) @ eps."""
    mean, covariance = gaussian.mean.double(), gaussian.covariance.double()
    eps = standard_normal(count, mean.shape[0], generator, mean.device, torch.float64)
    return mean + eps @ sqrtm_psd(covariance)  # (count, D); the root is symmetric


def sample_autoencoder(
    model: Autoencoder,
    count: int,
    codes: Gaussian | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """`count` images (count, 1, 28, 28) decoded by an autoencoder from random codes.

    With `codes` (from `code_gaussian` on the training images) the codes come from that Gaussian
    fit, i.e. from where the encoder actually puts digits; without it, from N(0, I), which is
    what a VAE's prior would use but which a plain autoencoder was never trained to decode.
    """
    if codes is None:
        codes = Gaussian(
            torch.zeros(model.latent_dim, dtype=torch.float64),
            torch.eye(model.latent_dim, dtype=torch.float64),
        )
    latents = sample_gaussian(codes, count, generator)  # (count, latent_dim)
    with evaluating(model):
        return decode_in_batches(model.decode, latents.float().to(device_of(model)))


def sample_vae(
    model: VAE | ConvVAE, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`count` images (count, 1, 28, 28), the pixel means decoded from the prior N(0, I): the one
    way the course samples a VAE, fully connected or convolutional."""
    z = standard_normal(count, model.latent_dim, generator, device_of(model))  # (count, latent)
    with evaluating(model):
        return decode_in_batches(model.decode, z)


def sample_dcgan(
    model: Generator, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`count` images (count, 1, 28, 28) from a DCGAN generator (in eval mode: BatchNorm uses its
    running statistics), mapped from its Tanh range [-1, 1] to the [0, 1] of the data."""
    noise = standard_normal(count, model.nz, generator, device_of(model))  # (count, nz)
    with evaluating(model):
        return (decode_in_batches(model, noise) + 1) / 2
