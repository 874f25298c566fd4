"""Checkers of chapter 2 (variational autoencoders): the reparameterisation, the KL term and
the beta-VAE loss."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..losses import kl_divergence, reconstruction_bce
from .core import (
    Hint,
    compare,
    confident,
    exercise,
    fixed_generator,
    require_graph,
    require_stable_with_logits,
    require_tensor,
)
from .noise import gaussian_shape_hint


@exercise("2.1", "my_reparameterize")
def check_reparameterize(my_reparameterize: Callable) -> None:
    """Exercise 2.1: `my_reparameterize(mu, logvar)`, a differentiable sample of N(mu, sigma^2).
    Draws 20,000 samples of three latent dimensions twice; checks the noise's statistics, its
    independence across examples, dimensions and calls, and that gradients reach mu and logvar."""
    count = 20_000
    mu = torch.tensor([0.5, -2.0, 1.0]).repeat(count, 1).requires_grad_()  # (N, 3)
    logvar = torch.tensor([1.0, -1.0, 0.4]).repeat(count, 1).requires_grad_()  # (N, 3)
    z = require_tensor(my_reparameterize(mu, logvar), (count, 3), "z", dtype=torch.float32)
    noise = (z - mu).detach()  # (N, 3)
    if noise.abs().max() == 0:
        raise Hint("z equals mu: add the noise sigma * eps, with eps drawn from N(0, 1).")
    if noise.std(dim=0).max() < 1e-6:
        raise Hint(
            "every example got the same noise: draw one eps per entry of mu "
            "(a tensor of mu's shape), not one vector for the whole batch."
        )
    if (noise.mean(dim=0) + mu[0].detach()).abs().max() < 0.1:
        raise Hint("z does not contain mu: the sample is mu + sigma * eps, not sigma * eps.")
    noise_scale_checks(noise, logvar[0].detach())
    eps = noise / torch.exp(0.5 * logvar[0].detach())  # (N, 3), N(0, 1) when right
    shape = gaussian_shape_hint(eps, "torch.randn_like(mu)")
    if shape is not None:
        raise Hint(shape)
    independence_checks(eps)
    again = my_reparameterize(mu.detach(), logvar.detach())
    if isinstance(again, torch.Tensor) and torch.equal(again.detach(), z.detach()):
        raise Hint(
            "two calls drew the same eps: don't seed (torch.manual_seed) inside the function; "
            "every call must draw fresh noise."
        )
    gradient_checks(z, mu, logvar)


def independence_checks(eps: torch.Tensor) -> None:
    """The standardised noise eps (N, 3) must not repeat across examples, and that of different
    latent dimensions must be uncorrelated.

    For independent draws each sample correlation is about N(0, 1/N), sd 0.007 for N = 20,000;
    the threshold 0.1 is 14 sd away, so the false-alarm rate of a correct answer is below 1e-40
    (and the checker's seed makes its verdict repeatable). An eps shared by the dimensions gives
    a correlation of 1."""
    distinct = min(torch.unique(column).numel() for column in eps.T) / eps.shape[0]
    if distinct < 0.9:  # float32 draws collide in well under 1% of a correct sample
        raise Hint(
            f"only {distinct:.0%} of the eps values of a latent dimension are distinct: some "
            "examples share their eps (e.g. noise drawn for part of the batch and repeated). "
            "Draw one eps per entry of mu, of mu's full shape (N, d)."
        )
    correlation = torch.corrcoef(eps.T.double())  # (3, 3)
    off_diagonal = (correlation - torch.eye(3, dtype=torch.float64)).abs().max().item()
    if off_diagonal > 0.1:
        raise Hint(
            f"the noise of different latent dimensions is correlated ({off_diagonal:.2f}): draw "
            "one eps per entry of mu (shape (N, d)), not one per row shared by the dimensions."
        )


def noise_scale_checks(noise: torch.Tensor, logvar: torch.Tensor) -> None:
    """The noise z - mu of each latent dimension must have mean 0 and sd sigma = exp(logvar/2)."""
    sigma = torch.exp(0.5 * logvar)  # (3,)
    spread, centre = noise.std(dim=0), noise.mean(dim=0)  # (3,), (3,)
    # 20,000 draws per dimension: standard errors of 0.5% for the sd and 0.007 sigma for the mean,
    # so the 3% and 0.05 sigma thresholds are 6 and 7 standard errors away; a correct answer
    # fails with a probability below 1e-8 (tests/unit/test_checkers.py tries 30 seeds).
    if torch.allclose(spread, sigma, rtol=0.03) and (centre.abs() < 0.05 * sigma).all():
        return
    mistakes = [
        (
            "logvar is used as sigma: logvar is log(sigma^2), so sigma = exp(logvar / 2).",
            logvar.abs(),
        ),
        (
            "exp(logvar) is used as sigma, but exp(logvar) is the variance sigma^2: "
            "the standard deviation is its square root, exp(logvar / 2).",
            logvar.exp(),
        ),
        ("the noise is not scaled: multiply eps by sigma = exp(logvar / 2).", torch.ones(3)),
        (
            "the noise is not standard normal (torch.rand draws uniformly from [0, 1)): "
            "draw eps with torch.randn / torch.randn_like.",
            sigma / math.sqrt(12),
        ),
    ]
    for hint, wrong in mistakes:
        if torch.allclose(spread, wrong, rtol=0.05):
            raise Hint(hint)
    raise Hint(
        f"z - mu has standard deviations {spread.numpy().round(3).tolist()} and means "
        f"{centre.numpy().round(3).tolist()} over the samples; expected standard deviations "
        f"{sigma.numpy().round(3).tolist()} (sigma = exp(logvar / 2)) and means 0."
    )


def gradient_checks(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> None:
    """dz/dmu is 1 for every entry and the gradient with respect to logvar is non-zero."""
    require_graph(z, "z")
    z.sum().backward()
    if mu.grad is None or not torch.allclose(mu.grad, torch.ones_like(mu)):
        raise Hint(
            "the gradient of z with respect to mu is not 1: write z as mu + sigma * eps, with "
            "eps drawn separately (sampling with torch.normal(mu, sigma) passes no gradient)."
        )
    if logvar.grad is None or logvar.grad.abs().sum() == 0:
        raise Hint(
            "no gradient reaches logvar: compute sigma from logvar with torch operations and "
            "multiply the separately drawn eps by it."
        )


def latent_inputs(count: int = 4, dim: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed mu and logvar (count, dim) of mixed signs, requiring gradients."""
    generator = fixed_generator(3)
    mu = torch.randn(count, dim, generator=generator).requires_grad_()  # (count, dim)
    logvar = (0.8 * torch.randn(count, dim, generator=generator)).requires_grad_()
    return mu, logvar


@exercise("2.2", "my_kl_divergence")
def check_kl_divergence(my_kl_divergence: Callable) -> None:
    """Exercise 2.2: `my_kl_divergence(mu, logvar)`, KL(q(z|x) || N(0, I)) per example, (N,),
    compared with the closed form and the closed form's usual mistakes."""
    mu, logvar = latent_inputs()  # (4, 3) each
    kl = my_kl_divergence(mu, logvar)
    expected = kl_divergence(mu.detach(), logvar.detach())  # (4,)
    if isinstance(kl, torch.Tensor) and kl.dim() == 0:
        compare(
            kl,
            expected.sum(),
            [("returns one number for the batch, the average over the examples.", expected.mean())],
            "The batch's KL",
        )
        raise Hint(
            "returns one number, the sum over the batch: return one KL per example, shape (N,) "
            "(the loss averages them later)."
        )
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (4, 3):
        raise Hint("returns one value per latent dimension: sum over the latent dimensions.")
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (4, 1):
        raise Hint("returns shape (4, 1): sum over dim=1 without keepdim, for shape (N,).")
    kl = require_tensor(kl, (4,), "The KL divergence")
    lv, mu, sq = logvar.detach(), mu.detach(), mu.detach().pow(2)
    terms = 1 + lv - sq - lv.exp()  # (4, 3)
    as_sigma = "logvar is treated as sigma; it is log(sigma^2): sigma^2 = exp(logvar)."
    compare(
        kl,
        expected,
        [
            ("off by a factor of 2: check the 1/2 in front of the sum.", -terms.sum(1)),
            ("off by a factor of 2: check the 1/2 in front of the sum.", -0.25 * terms.sum(1)),
            ("the sign is flipped: the KL divergence is never negative.", 0.5 * terms.sum(1)),
            (
                "averages over the latent dimensions: the KL of independent dimensions is "
                "their sum.",
                -0.5 * terms.mean(1),
            ),
            (
                "logvar is treated as log(sigma); it is log(sigma^2), so sigma^2 = exp(logvar).",
                -0.5 * (1 + 2 * lv - sq - (2 * lv).exp()).sum(1),
            ),
            (as_sigma, -0.5 * (1 + (lv**2).log() - sq - lv**2).sum(1)),
            (as_sigma, -0.5 * (1 + 2 * lv.log() - sq - lv**2).sum(1)),
            ("the constant 1 inside the sum is missing.", -0.5 * (lv - sq - lv.exp()).sum(1)),
            (
                "sigma is used where the formula has sigma^2: sigma^2 = exp(logvar), not "
                "exp(logvar / 2).",
                -0.5 * (1 + lv - sq - (0.5 * lv).exp()).sum(1),
            ),
            (
                "this is the reversed KL, KL(N(0, I) || q): the VAE's term is KL(q || N(0, I)), "
                "-1/2 sum(1 + logvar - mu^2 - exp(logvar)).",
                0.5 * (lv + (1 + sq) * (-lv).exp() - 1).sum(1),
            ),
            (
                "mu is not squared: the term is mu^2.",
                -0.5 * (1 + lv - mu - lv.exp()).sum(1),
            ),
        ],
        "The KL divergence",
    )
    require_graph(kl, "The KL divergence")


@exercise("2.3", "my_beta_vae_loss")
def check_beta_vae_loss(my_beta_vae_loss: Callable) -> None:
    """Exercise 2.3: `my_beta_vae_loss(logits, images, mu, logvar, beta)`, a scalar: BCE summed
    over pixels + beta * KL, averaged over the batch, for two betas, then on confident logits."""
    generator = fixed_generator(4)
    logits = (2 * torch.randn(4, 1, 28, 28, generator=generator)).requires_grad_()
    images = torch.rand(4, 1, 28, 28, generator=generator)  # (4, 1, 28, 28)
    mu, logvar = latent_inputs(4, 5)  # (4, 5) each
    bce = reconstruction_bce(logits, images).detach()  # (4,)
    kl = kl_divergence(mu, logvar).detach()  # (4,)
    loss = my_beta_vae_loss(logits, images, mu, logvar, 4.0)
    if isinstance(loss, torch.Tensor) and tuple(loss.shape) == (4,):
        raise Hint("returns one loss per example: average them over the batch (a scalar).")
    loss = require_tensor(loss, (), "The loss")
    sigmoid_bce = F.binary_cross_entropy_with_logits(torch.sigmoid(logits.detach()), images)
    compare(
        loss,
        bce.mean() + 4 * kl.mean(),
        [
            (
                "beta multiplies the wrong term: it weighs the KL divergence, not the "
                "reconstruction.",
                4 * bce.mean() + kl.mean(),
            ),
            (
                "the reconstruction term is averaged over the pixels: sum it over the 784 "
                "pixels (it is the log-likelihood of the whole image), then average over the "
                "batch.",
                bce.mean() / 784 + 4 * kl.mean(),
            ),
            (
                "summed over the batch: average over the examples, so that the loss does not "
                "grow with the batch size.",
                bce.sum() + 4 * kl.sum(),
            ),
            ("beta is not applied: multiply the KL term by beta.", bce.mean() + kl.mean()),
            ("the KL term is subtracted: the loss adds beta * KL.", bce.mean() - 4 * kl.mean()),
            (
                "a sigmoid is applied before the with-logits cross-entropy: the decoder "
                "outputs logits, which that loss expects as they are.",
                784 * sigmoid_bce + 4 * kl.mean(),
            ),
            (
                "the reconstruction term is the squared error: the VAE's decoder defines "
                "Bernoulli pixels, whose log-likelihood is the binary cross-entropy of the logits.",
                (torch.sigmoid(logits.detach()) - images).pow(2).flatten(1).sum(1).mean()
                + 4 * kl.mean(),
            ),
            (
                "the KL term is summed over the batch while the reconstruction is averaged: "
                "average both over the examples.",
                bce.mean() + 4 * kl.sum(),
            ),
        ],
        "The loss for beta = 4",
    )
    require_graph(loss, "The loss")
    other = require_tensor(
        my_beta_vae_loss(logits, images, mu, logvar, 0.5), (), "The loss for beta = 0.5"
    )
    hard_coded = ("beta = 4 is hard-coded: use the `beta` argument.", bce.mean() + 4 * kl.mean())
    compare(other, bce.mean() + 0.5 * kl.mean(), [hard_coded], "The loss for beta = 0.5")
    sure = confident(logits, generator)  # (4, 1, 28, 28), half of it +-40
    expected = reconstruction_bce(sure.detach(), images).mean() + 4 * kl.mean()
    require_stable_with_logits(
        my_beta_vae_loss(sure, images, mu, logvar, 4.0), expected, "The loss for beta = 4"
    )
