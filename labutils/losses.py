"""Losses of the three models, each reported per example (averaged over the batch)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ._validate import check_images


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(sigma^2)) || N(0, I) ) per example, (N,), in nats, from mu and log sigma^2
    (N, d).

    Closed form (derived in the VAE chapter): -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must match.")
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)  # (N,)


def reconstruction_bce(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) under independent Bernoulli pixels, summed over the 784 pixels: (N,), in nats.

    Grey levels in [0, 1] are soft targets: for them this is a cross-entropy, not the log of a
    normalised density on [0, 1], so its values are not comparable with binarised-MNIST results.
    """
    check_images(images, "reconstruction_bce (images)")
    if logits.shape != images.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} must have the images' shape {tuple(images.shape)}."
        )
    bce = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
    return bce.flatten(1).sum(dim=1)  # (N,)


class VAELoss(NamedTuple):
    """Negative ELBO per example and its two parts, each averaged over the batch."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def vae_loss(
    logits: torch.Tensor,
    images: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
) -> VAELoss:
    """Reconstruction BCE (summed over pixels) + beta * KL, per example, averaged over the batch.

    With beta = 1 this is the negative ELBO, estimated with the one code per image that `logits`
    were decoded from.
    """
    reconstruction = reconstruction_bce(logits, images).mean()
    kl = kl_divergence(mu, logvar).mean()
    return VAELoss(reconstruction + beta * kl, reconstruction, kl)


def check_logits(logits: torch.Tensor, who: str) -> None:
    """GAN losses take the discriminator's output: one floating-point logit per image, (N,)."""
    if logits.dim() != 1 or not logits.is_floating_point():
        raise ValueError(
            f"{who} expects one logit per image, shape (N,), got {tuple(logits.shape)} "
            f"({logits.dtype}); pass the discriminator's output."
        )


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-[log D(x) + log(1 - D(G(z)))], averaged: D learns to say 1 for real, 0 for fake."""
    check_logits(real_logits, "discriminator_loss (real_logits)")
    check_logits(fake_logits, "discriminator_loss (fake_logits)")
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss -log D(G(z)): strong gradients while D rejects the fakes."""
    check_logits(fake_logits, "generator_loss")
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
