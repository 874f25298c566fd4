"""Tests of random draws (Exercises 1.2 and 2.1): is the noise Gaussian, and independent?

Moments alone pass noise of the right mean and standard deviation but the wrong shape (uniform
noise rescaled, random signs) or noise that repeats (one value per row, the same noise for every
image). These tests look at the distribution itself. Each threshold is stated with the
probability that a correct answer crosses it; the checkers' fixed seed makes a verdict repeatable.
"""

from __future__ import annotations

import torch

# Kolmogorov-Smirnov distance between the sample's CDF and the standard normal's, above which the
# noise is not called Gaussian. By the Dvoretzky-Kiefer-Wolfowitz inequality a correct sample of n
# draws exceeds it with probability at most 2 exp(-2 n KS_LIMIT^2): 3e-10 for the 50,176 draws of
# Exercise 1.2, 4e-12 for the 60,000 of Exercise 2.1. Uniform noise of the right standard
# deviation is 0.057 away, Laplace noise 0.062, random signs 0.34.
KS_LIMIT = 0.015
# Correlation between noise values that should be independent, above which they are called
# shared (shared values correlate at 1). The sample correlation of n independent pairs has sd
# about 1/sqrt(n); for the smallest test here (784 pairs: two images) 0.9 is 25 sd away, a false
# alarm below 1e-100. It is also high enough that noise shared along rows, whose images have only
# 28 values each, is not mistaken for images sharing their noise.
CORRELATION_LIMIT = 0.9


def ks_distance(standardised: torch.Tensor) -> float:
    """Largest gap between the empirical CDF of `standardised` draws and the standard normal's."""
    values = standardised.detach().double().flatten().sort().values  # (n,)
    n = values.numel()
    normal = torch.special.ndtr(values)  # (n,)
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - normal  # (n,)
    below = normal - torch.arange(n, dtype=torch.float64) / n  # (n,)
    return max(above.max().item(), below.max().item())


def excess_kurtosis(values: torch.Tensor) -> float:
    """E[(x - mean)^4] / sd^4 - 3: 0 for a Gaussian, -1.2 for a uniform, -2 for random signs."""
    centred = values.detach().double().flatten()
    centred = centred - centred.mean()
    return (centred.pow(4).mean() / centred.pow(2).mean().pow(2)).item() - 3


def gaussian_shape_hint(standardised: torch.Tensor, draw: str) -> str | None:
    """None if the standardised draws (mean 0, sd 1 expected) look standard normal; else a hint
    naming the shape they have instead. `draw` says how the exercise draws them."""
    distance = ks_distance(standardised)
    if distance <= KS_LIMIT:
        return None
    distinct = torch.unique(standardised.detach().double().round(decimals=4)).numel()
    kurtosis = excess_kurtosis(standardised)
    if distinct <= 10:
        shape = f"the noise takes only {distinct} distinct values (e.g. random signs)"
    elif -1.5 < kurtosis < -0.9:
        shape = (
            "the noise is uniform (torch.rand, shifted and rescaled): its mean and standard "
            "deviation are right, but its histogram is flat, not a bell curve"
        )
    else:
        heavy = "heavier" if kurtosis > 0 else "lighter"
        shape = f"the noise has the right mean and standard deviation but {heavy} tails than a "
        shape += f"Gaussian (excess kurtosis {kurtosis:.2f}, 0 for a Gaussian)"
    return f"{shape}. The exercise asks for Gaussian noise: draw it with {draw}."


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of two equally long sets of draws."""
    pair = torch.stack([a.detach().double().flatten(), b.detach().double().flatten()])  # (2, n)
    return torch.corrcoef(pair)[0, 1].nan_to_num(1.0).item()


def shared_along(noise: torch.Tensor, dim: int) -> bool:
    """Whether neighbours along `dim` of `noise` are correlated: one value drawn for a whole
    row, column or channel and broadcast along it. The pairs are pooled, so that even one image's
    row holds enough of them (the limit is 25 sd away for 784 pairs and more)."""
    if noise.shape[dim] < 2:
        return False
    first = noise.narrow(dim, 0, noise.shape[dim] - 1)
    second = noise.narrow(dim, 1, noise.shape[dim] - 1)
    return correlation(first, second) > CORRELATION_LIMIT


def shared_between(rows: torch.Tensor) -> tuple[int, int] | None:
    """The first pair (i, j) of rows of `rows` (N, P) whose noise is correlated, or None. Catches
    the same noise for every image as well as noise reused for some of them."""
    values = rows.detach().double().flatten(1)
    values = values - values.mean(dim=1, keepdim=True)
    norms = values.norm(dim=1).clamp_min(1e-12)  # (N,)
    correlations = (values @ values.T) / (norms[:, None] * norms[None, :])  # (N, N)
    correlations.fill_diagonal_(0)
    pairs = (correlations.abs() > CORRELATION_LIMIT).nonzero()
    return (int(pairs[0, 0]), int(pairs[0, 1])) if len(pairs) else None
