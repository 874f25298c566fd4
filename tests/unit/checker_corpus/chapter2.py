"""Answers to Exercises 2.1 (my_reparameterize), 2.2 (my_kl_divergence) and 2.3
(my_beta_vae_loss)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from . import right, wrong

# --- Exercise 2.1: reparameterize -------------------------------------------------------------


@right("2.1")
def randn_like_and_half_logvar(mu, logvar):
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


@right("2.1")
def square_root_of_the_variance(mu, logvar):
    eps = torch.randn(mu.shape)
    return mu + torch.sqrt(torch.exp(logvar)) * eps


@right("2.1")
def rsample(mu, logvar):
    return Normal(mu, (logvar / 2).exp()).rsample()


@right("2.1")
def in_place_like_the_pytorch_example(mu, logvar):
    std = logvar.mul(0.5).exp_()
    eps = torch.empty_like(std).normal_()
    return eps.mul(std).add_(mu)


@right("2.1")
def one_latent_dimension_at_a_time(mu, logvar):
    columns = [
        mu[:, j] + torch.randn(mu.shape[0]) * torch.exp(0.5 * logvar[:, j])
        for j in range(mu.shape[1])
    ]
    return torch.stack(columns, dim=1)


def sample(mu, logvar, sigma=lambda lv: torch.exp(0.5 * lv), eps=torch.randn_like):
    return mu + sigma(logvar) * eps(mu)


@wrong("2.1", "noise of different latent dimensions is correlated", "one eps per entry of mu")
def one_eps_per_row_shared_by_the_dimensions(mu, logvar):
    return sample(mu, logvar, eps=lambda m: torch.randn(m.shape[0], 1))


@wrong("2.1", "every example got the same noise")
def one_eps_for_the_whole_batch(mu, logvar):
    return sample(mu, logvar, eps=lambda m: torch.randn(m.shape[1]))


@wrong("2.1", "two calls drew the same eps", "don't seed")
def seeds_inside_the_function(mu, logvar):
    torch.manual_seed(0)
    return sample(mu, logvar)


@wrong("2.1", "the noise is uniform (torch.rand, shifted and rescaled)", "torch.randn_like(mu)")
def centred_uniform_eps_with_unit_variance(mu, logvar):
    eps = (torch.rand_like(mu) - 0.5) * 12**0.5  # mean 0, variance 1, but flat
    return mu + eps * torch.exp(0.5 * logvar)


@wrong("2.1", "only 2 distinct values (e.g. random signs)", "Gaussian noise")
def random_sign_eps(mu, logvar):
    eps = torch.randint_like(mu, 0, 2) * 2 - 1  # +-1: mean 0, variance 1
    return mu + eps * torch.exp(0.5 * logvar)


@wrong("2.1", "some examples share their eps", "of mu's full shape")
def eps_for_half_the_batch(mu, logvar):
    half = torch.randn(mu.shape[0] // 2, mu.shape[1])
    eps = torch.cat([half, half])  # the second half of the batch repeats the first
    return mu + eps * torch.exp(0.5 * logvar)


@wrong("2.1", "logvar is used as sigma")
def logvar_as_sigma(mu, logvar):
    return sample(mu, logvar, sigma=lambda lv: lv)


@wrong("2.1", "exp(logvar) is used as sigma", "variance")
def variance_as_sigma(mu, logvar):
    return sample(mu, logvar, sigma=torch.exp)


@wrong("2.1", "the noise is not scaled")
def unscaled_noise(mu, logvar):
    return sample(mu, logvar, sigma=lambda lv: 1.0)


@wrong("2.1", "not standard normal")
def uniform_eps(mu, logvar):
    return sample(mu, logvar, eps=torch.rand_like)


@wrong("2.1", "gradient of z with respect to mu")
def torch_normal(mu, logvar):
    return torch.normal(mu, torch.exp(0.5 * logvar))


@wrong("2.1", "carries no gradient")
def distribution_sample(mu, logvar):
    return Normal(mu, torch.exp(0.5 * logvar)).sample()


@wrong("2.1", "float64", "keep their dtype")
def numpy_eps(mu, logvar):
    eps = torch.from_numpy(np.random.default_rng().standard_normal(tuple(mu.shape)))
    return mu + torch.exp(0.5 * logvar) * eps


@wrong("2.1", "z does not contain mu")
def forgets_mu(mu, logvar):
    return torch.exp(0.5 * logvar) * torch.randn_like(mu)


@wrong("2.1", "gradient of z with respect to mu")
def detached_mu(mu, logvar):
    return sample(mu.detach(), logvar)


@wrong("2.1", "no gradient reaches logvar")
def detached_logvar(mu, logvar):
    return sample(mu, logvar.detach())


@wrong("2.1", "expected standard deviations", "sigma = exp(logvar / 2)")
def half_the_variance_as_sigma(mu, logvar):
    return sample(mu, logvar, sigma=lambda lv: 0.5 * torch.exp(lv))


@wrong("2.1", "should be a torch.Tensor of shape (20000, 3)", "a tuple of 2 items")
def returns_z_and_eps(mu, logvar):
    eps = torch.randn_like(mu)
    return mu + eps * torch.exp(0.5 * logvar), eps


FIXED_EPS = torch.randn(128, 20)  # drawn once, for the batch size of the chapter


@wrong("2.1", "raised RuntimeError", "line", "FIXED_EPS")
def eps_drawn_once_at_import(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * FIXED_EPS


# --- Exercise 2.2: KL divergence --------------------------------------------------------------


def terms(mu, logvar):
    return 1 + logvar - mu.pow(2) - logvar.exp()  # (N, D)


@right("2.2")
def closed_form(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


@right("2.2")
def with_torch_distributions(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(dim=1)


@right("2.2")
def positive_form(mu, logvar):
    return 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(1)


@right("2.2")
def in_float64(mu, logvar):
    mu, logvar = mu.double(), logvar.double()
    return (-0.5 * terms(mu, logvar).sum(1)).float()


@right("2.2")
def from_sigma(mu, logvar):
    sigma = torch.exp(0.5 * logvar)
    return 0.5 * torch.sum(sigma**2 + mu**2 - 1 - 2 * torch.log(sigma), dim=1)


@right("2.2")
def row_by_row(mu, logvar):
    return torch.stack([-0.5 * terms(m, lv).sum() for m, lv in zip(mu, logvar, strict=True)])


@wrong("2.2", "factor of 2", "1/2")
def missing_one_half(mu, logvar):
    return -terms(mu, logvar).sum(1)


@wrong("2.2", "sign is flipped")
def sign_flipped(mu, logvar):
    return 0.5 * terms(mu, logvar).sum(1)


@wrong("2.2", "averages over the latent dimensions")
def mean_over_dimensions(mu, logvar):
    return -0.5 * terms(mu, logvar).mean(1)


@wrong("2.2", "the sum over the batch")
def sum_over_everything(mu, logvar):
    return -0.5 * terms(mu, logvar).sum()


@wrong("2.2", "the average over the examples")
def mean_over_the_batch(mu, logvar):
    return (-0.5 * terms(mu, logvar).sum(1)).mean()


@wrong("2.2", "logvar is treated as log(sigma)")
def logvar_as_log_sigma(mu, logvar):
    return -0.5 * terms(mu, 2 * logvar).sum(1)


@wrong("2.2", "sigma is used where the formula has sigma^2")
def sigma_instead_of_variance(mu, logvar):
    return -0.5 * (1 + logvar - mu**2 - torch.exp(0.5 * logvar)).sum(1)


@wrong("2.2", "reversed KL")
def reversed_kl(mu, logvar):
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(p, Normal(mu, torch.exp(0.5 * logvar))).sum(1)


@wrong("2.2", "mu is not squared")
def mu_not_squared(mu, logvar):
    return -0.5 * (1 + logvar - mu - logvar.exp()).sum(1)


@wrong("2.2", "constant 1 inside the sum is missing")
def missing_the_one(mu, logvar):
    return -0.5 * (logvar - mu**2 - logvar.exp()).sum(1)


@wrong("2.2", "one value per latent dimension")
def no_sum(mu, logvar):
    return -0.5 * terms(mu, logvar)


@wrong("2.2", "keepdim")
def keepdim(mu, logvar):
    return -0.5 * terms(mu, logvar).sum(1, keepdim=True)


@wrong("2.2", "carries no gradient")
def through_numpy(mu, logvar):
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    return torch.from_numpy(-0.5 * (1 + lv - m**2 - np.exp(lv)).sum(1))


@wrong("2.2", "differs from the reference by up to 0.3", "at index (")
def an_unknown_offset(mu, logvar):
    return -0.5 * terms(mu, logvar).sum(1) + 0.3


@wrong("2.2", "logvar is treated as sigma")
def logvar_as_sigma_in_the_kl(mu, logvar):
    return -0.5 * (1 + torch.log(logvar**2) - mu**2 - logvar**2).sum(1)


# --- Exercise 2.3: beta-VAE loss --------------------------------------------------------------


def kl(mu, logvar):
    return -0.5 * terms(mu, logvar).sum(1)  # (N,)


def bce_per_image(logits, images):
    return F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(1)


@right("2.3")
def sum_over_pixels_over_batch_size(logits, images, mu, logvar, beta):
    bce = F.binary_cross_entropy_with_logits(logits, images, reduction="sum") / len(images)
    return bce + beta * kl(mu, logvar).mean()


@right("2.3")
def softplus_form(logits, images, mu, logvar, beta):
    bce = (F.softplus(logits) - images * logits).flatten(1).sum(1)  # -log p(x|z) from logits
    return (bce + beta * kl(mu, logvar)).mean()


@wrong("2.3", "wrong for confident logits (|logit| >= 30)", "binary_cross_entropy_with_logits")
def sigmoid_then_bce(logits, images, mu, logvar, beta):
    bce = F.binary_cross_entropy(torch.sigmoid(logits), images, reduction="sum") / images.shape[0]
    return bce + beta * kl(mu, logvar).mean()


@right("2.3")
def mean_times_784(logits, images, mu, logvar, beta):
    return 784 * F.binary_cross_entropy_with_logits(logits, images) + beta * kl(mu, logvar).mean()


@right("2.3")
def per_example_then_mean(x_logits, x, m, lv, b):
    return (bce_per_image(x_logits, x) + b * kl(m, lv)).mean()


@right("2.3")
def with_the_library(logits, images, mu, logvar, beta):
    from labutils.losses import kl_divergence as library_kl
    from labutils.losses import reconstruction_bce

    return (reconstruction_bce(logits, images) + beta * library_kl(mu, logvar)).mean()


def loss(logits, images, mu, logvar, beta, on_kl=True, pixels="sum", batch="mean"):
    per_pixel = F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1)
    bce = getattr(per_pixel, pixels)(1)
    total = bce + beta * kl(mu, logvar) if on_kl else beta * bce + kl(mu, logvar)
    return getattr(total, batch)()


@wrong("2.3", "infinite or NaN for confident logits", "log(sigmoid(logit))")
def log_of_the_sigmoid(logits, images, mu, logvar, beta):
    p = torch.sigmoid(logits)
    bce = -(images * p.log() + (1 - images) * (1 - p).log()).flatten(1).sum(1)
    return (bce + beta * kl(mu, logvar)).mean()


@wrong("2.3", "beta multiplies the wrong term")
def beta_on_the_reconstruction(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, beta, on_kl=False)


@wrong("2.3", "averaged over the pixels")
def bce_mean_over_pixels(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, beta, pixels="mean")


@wrong("2.3", "summed over the batch")
def summed_over_the_batch(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, beta, batch="sum")


@wrong("2.3", "beta is not applied")
def beta_forgotten(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, 1.0)


@wrong("2.3", "the KL term is subtracted")
def kl_subtracted(logits, images, mu, logvar, beta):
    return bce_per_image(logits, images).mean() - beta * kl(mu, logvar).mean()


@wrong("2.3", "a sigmoid is applied before the with-logits")
def sigmoid_before_with_logits(logits, images, mu, logvar, beta):
    bce = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), images)
    return 784 * bce + beta * kl(mu, logvar).mean()


@wrong("2.3", "squared error", "Bernoulli")
def squared_error_reconstruction(logits, images, mu, logvar, beta):
    mse = (torch.sigmoid(logits) - images).pow(2).flatten(1).sum(1).mean()
    return mse + beta * kl(mu, logvar).mean()


@wrong("2.3", "KL term is summed over the batch while the reconstruction is averaged")
def kl_summed_over_the_batch(logits, images, mu, logvar, beta):
    return bce_per_image(logits, images).mean() + beta * kl(mu, logvar).sum()


@wrong("2.3", "one loss per example")
def per_example_losses(logits, images, mu, logvar, beta):
    return bce_per_image(logits, images) + beta * kl(mu, logvar)


@wrong("2.3", "beta = 4 is hard-coded")
def hard_coded_beta(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, 4.0)


@wrong("2.3", "should be a torch.Tensor of shape ()", "a float")
def returns_item(logits, images, mu, logvar, beta):
    return loss(logits, images, mu, logvar, beta).item()


@wrong("2.3", "carries no gradient")
def computed_under_no_grad(logits, images, mu, logvar, beta):
    with torch.no_grad():
        return loss(logits, images, mu, logvar, beta)


@wrong("2.3", "The loss for beta = 4 is")
def kl_averaged_over_dimensions(logits, images, mu, logvar, beta):
    return bce_per_image(logits, images).mean() + beta * (-0.5 * terms(mu, logvar).mean(1)).mean()


@wrong("2.3", "raised RuntimeError", "line", "binary_cross_entropy(logits")
def bce_on_logits_without_sigmoid(logits, images, mu, logvar, beta):
    bce = F.binary_cross_entropy(logits, images, reduction="sum") / len(images)
    return bce + beta * kl(mu, logvar).mean()
