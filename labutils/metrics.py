"""An honest scale for generative models of MNIST, read in the features of the course's classifier.

- *FID* is the squared Fréchet distance d^2 between the Gaussian fits of the features of generated
  and of real test images (Heusel et al. 2017, with the classifier of `labutils.classifier` in
  place of Inception). Throughout the course, FID = d^2: no square root is taken.
- *Precision and recall* (Kynkäänniemi et al. 2019) separate the two things FID mixes: how many
  samples look like real images (precision), and how much of the real images' variety the samples
  cover (recall), each judged by k-nearest-neighbour balls around feature vectors. *Density and
  coverage* (Naeem et al. 2020) ask the same two questions with the real images' balls only, so
  that one outlier real image with a large ball cannot make many odd samples count as realistic.
- *Class coverage* looks at the predicted digits of generated images: their distribution, its
  entropy and KL divergence to uniform (mode collapse shows up here), and the classifier's mean
  confidence (a proxy for how legible the digits are). Entropies and KLs are in nats.
- *Intervals* from K disjoint random parts of the sample sets say how much of a value is sampling
  noise (a t quantile with K - 1 degrees of freedom); *paired* intervals of a difference between
  two models, part by part against the same reference parts, decide which is better; intervals
  across training seeds say how much is training noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_unit_images, require_positive_int
from .classifier import CLASSES, MnistClassifier, classifier_outputs
from .data import minibatches
from .models import VAE, Autoencoder, ConvVAE, mean_code


class Gaussian(NamedTuple):
    """Mean (D,) and covariance (D, D), in float64, of a cloud of feature vectors."""

    mean: torch.Tensor
    covariance: torch.Tensor


def fit_gaussian(points: torch.Tensor) -> Gaussian:
    """Gaussian fit of points (N, D): sample mean and unbiased covariance, in float64."""
    points = points.double()
    return Gaussian(points.mean(dim=0), torch.cov(points.T))  # (D,), (D, D)


def sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (D, D) by eigendecomposition.

    Round-off can make tiny eigenvalues slightly negative; they are clamped to 0, so the root of a
    singular covariance (e.g. a dead ReLU feature) stays real and finite.
    """
    symmetric = (matrix + matrix.T) / 2
    values, vectors = torch.linalg.eigh(symmetric)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T  # V diag(sqrt(l)) V^T


def frechet_distance(a: Gaussian, b: Gaussian) -> float:
    """The squared Fréchet distance d^2 (the squared 2-Wasserstein distance W_2^2) between two
    Gaussians, |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr(sqrt(S_a S_b)): FID is this d^2.

    tr(sqrt(S_a S_b)) is computed as tr(sqrt(sqrt(S_a) S_b sqrt(S_a))), the root of a symmetric
    PSD matrix, in float64: stable where a general matrix square root is not.
    """
    mean_a, cov_a = a.mean.double(), a.covariance.double()
    mean_b, cov_b = b.mean.double(), b.covariance.double()
    root_a = sqrtm_psd(cov_a)  # (D, D)
    cross = sqrtm_psd(root_a @ cov_b @ root_a).trace()
    distance = (mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return max(float(distance), 0.0)  # round-off can give -1e-12 for identical Gaussians


def feature_gaussian(classifier: MnistClassifier, images: torch.Tensor) -> Gaussian:
    """Gaussian fit of the classifier features of images (N, 1, 28, 28) in [0, 1]."""
    return fit_gaussian(classifier_outputs(classifier, images)[0])


def fid(classifier: MnistClassifier, images: torch.Tensor, reference: torch.Tensor) -> float:
    """FID: the squared Fréchet distance d^2 between the Gaussian fits of the classifier features
    of `images` and of `reference` images, both (N, 1, 28, 28) in [0, 1]. Compare FIDs only
    between sets of the same size: the estimate is biased upwards for small sets."""
    return frechet_distance(
        feature_gaussian(classifier, images), feature_gaussian(classifier, reference)
    )


class Manifold(NamedTuple):
    """A set of feature vectors (N, D), in float64, and around each one a ball whose radius (N,)
    is the distance to its k-th nearest neighbour in the set: together, an estimate of the region
    of feature space the set occupies. A point at distance <= radius is inside a ball."""

    points: torch.Tensor
    radii: torch.Tensor
    k: int = 3


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (A, B) between the rows of a (A, D) and b (B, D), in float64:
    |a|^2 + |b|^2 - 2 a.b, exact enough that a point's distance to itself is 0 to ~1e-12."""
    a, b = a.double(), b.double()
    distances = torch.addmm(b.pow(2).sum(dim=1)[None, :], a, b.T, alpha=-2)  # |b|^2 - 2 a.b
    return distances.add_(a.pow(2).sum(dim=1)[:, None]).clamp_(min=0)  # (A, B)


def manifold(points: torch.Tensor, k: int = 3, chunk: int = 1000) -> Manifold:
    """The k-nearest-neighbour manifold of points (N, D). Distances are computed `chunk` rows at a
    time, so 10,000 points need (chunk, 10,000) float64 numbers at once, not 10,000 x 10,000."""
    require_positive_int("k", k)
    if points.shape[0] <= k:
        raise ValueError(f"A manifold with k={k} needs more than {k} points, got {len(points)}.")
    squared_radii = [
        squared_distances(block, points).topk(k + 1, dim=1, largest=False).values[:, k]  # +1: self
        for block in points.split(chunk)
    ]
    return Manifold(points.double(), torch.cat(squared_radii).sqrt(), k)  # (N, D), (N,)


class PrecisionRecall(NamedTuple):
    """Precision: the fraction of generated images inside the real images' manifold (quality).
    Recall: the fraction of real images inside the generated images' manifold (coverage)."""

    precision: float
    recall: float


def precision_recall(real: Manifold, generated: Manifold, chunk: int = 1000) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of generated against real
    features, each set with its own k-nearest-neighbour manifold. One pass over the distances
    between the two sets, `chunk` generated points at a time, answers both questions."""
    in_real = []  # per generated point: inside at least one real ball?
    in_generated = torch.zeros(len(real.points), dtype=torch.bool, device=real.points.device)
    for points, radii in zip(
        generated.points.split(chunk), generated.radii.split(chunk), strict=True
    ):
        distances = squared_distances(points, real.points)  # (chunk, R)
        in_real.append((distances <= real.radii.square()[None, :]).any(dim=1))  # (chunk,)
        in_generated |= (distances <= radii.square()[:, None]).any(dim=0)  # (R,) in these balls
    return PrecisionRecall(
        precision=float(torch.cat(in_real).double().mean()),
        recall=float(in_generated.double().mean()),
    )


class DensityCoverage(NamedTuple):
    """Density: how many real balls hold a generated point, on average, divided by k (about 1 for
    a perfect generator; not capped at 1). Coverage: the fraction of real balls that hold at least
    one generated point (quality of the real images' coverage; 1 is best)."""

    density: float
    coverage: float


def density_coverage(real: Manifold, generated: torch.Tensor, chunk: int = 1000) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020) of generated features (M, D) against the real
    images' k-nearest-neighbour manifold. Only the real balls are used: a generated point inside
    one large ball of an outlier real image adds 1/k to the density, not a whole hit as it would
    to precision."""
    hits = torch.zeros((), dtype=torch.float64, device=real.points.device)  # (point, ball) pairs
    covered = torch.zeros(len(real.points), dtype=torch.bool, device=real.points.device)
    for points in generated.split(chunk):
        inside = squared_distances(points, real.points) <= real.radii.square()[None, :]  # (c, R)
        hits += inside.sum()
        covered |= inside.any(dim=0)  # (R,) real balls with a generated point in them
    return DensityCoverage(
        density=float(hits) / (real.k * len(generated)),
        coverage=float(covered.double().mean()),
    )


def sample_scores(features: torch.Tensor, reference: Gaussian, real: Manifold) -> dict[str, float]:
    """FID, precision, recall, density and coverage of generated features (N, D) against the real
    images' feature Gaussian and k-nearest-neighbour manifold (`real.k` for both manifolds): the
    measurements chapter 4 and `make seeds` take of every set of samples."""
    generated = manifold(features, real.k)
    return {
        "fid": frechet_distance(fit_gaussian(features), reference),
        **precision_recall(real, generated)._asdict(),
        **density_coverage(real, features)._asdict(),
    }


def t_quantile(probability: float, dof: int) -> float:
    """The `probability` quantile of Student's t distribution with `dof` (a positive integer)
    degrees of freedom, e.g. t_quantile(0.975, 9) = 2.262.

    With theta = atan(t / sqrt(dof)), P(|T| < t) is a finite sum of powers of cos(theta)
    (Abramowitz and Stegun 1964, 26.7.3 and 26.7.4); it grows with theta, which is found by
    bisection.
    """
    require_positive_int("dof", dof)
    if not 0 < probability < 1:
        raise ValueError(f"probability must lie strictly between 0 and 1, got {probability}.")
    if probability < 0.5:
        return -t_quantile(1 - probability, dof)
    target = 2 * probability - 1  # P(|T| < t)
    low, high = 0.0, math.pi / 2
    for _ in range(100):
        theta = (low + high) / 2
        low, high = (theta, high) if _t_central(theta, dof) < target else (low, theta)
    return math.sqrt(dof) * math.tan((low + high) / 2)


def _t_central(theta: float, dof: int) -> float:
    """P(|T| < sqrt(dof) tan(theta)) for Student's t with `dof` degrees of freedom."""
    cos2, term, total = math.cos(theta) ** 2, 1.0, 1.0
    first = 1 if dof % 2 == 0 else 2  # even: 1 + 1/2 c^2 + ...; odd: 1 + 2/3 c^2 + ...
    for j in range(first, dof - 1, 2):
        term *= cos2 * j / (j + 1)
        total += term
    if dof % 2 == 0:
        return math.sin(theta) * total
    tail = math.sin(theta) * math.cos(theta) * total if dof > 1 else 0.0
    return 2 / math.pi * (theta + tail)


class Interval(NamedTuple):
    """A measurement and the range that its noise makes plausible at the stated level (95%)."""

    value: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """Whether 0 lies outside the range. For the interval of a difference A - B, False means
        that the order of A and B is not resolved by these data; it does not mean that A and B
        are equal."""
        return self.low > 0 or self.high < 0


def interval(value: float, part_values: Sequence[float], level: float = 0.95) -> Interval:
    """An interval around `value`, a measurement on whole sample sets, from the same measurement
    repeated on K disjoint random parts of those sets (`part_values`).

    An estimate from n points fluctuates like 1/sqrt(n), so the spread (standard deviation) of the
    K parts' values divided by sqrt(K) estimates the standard error of the whole-set value. With
    that standard error estimated from K values, the interval is the value +- t * standard error,
    t the (1 + level) / 2 quantile of Student's t with K - 1 degrees of freedom (2.26 for K = 10,
    not 2). For a measurement whose noise shrinks faster, like 1/n, the interval comes out wider
    than it needs to be; for one whose part values estimate a different quantity from the whole
    set's (precision and recall, whose balls grow on fewer points), it is a heuristic.
    """
    if len(part_values) < 2:
        raise ValueError("interval needs the values of at least 2 parts to measure a spread.")
    spread = torch.tensor(part_values, dtype=torch.float64).std()
    t = t_quantile((1 + level) / 2, len(part_values) - 1)
    half_width = t * float(spread) / math.sqrt(len(part_values))
    return Interval(value, value - half_width, value + half_width)


def paired_difference(
    a: float, a_parts: Sequence[float], b: float, b_parts: Sequence[float], level: float = 0.95
) -> Interval:
    """The interval of the difference a - b between two models' whole-set values, from the
    differences of their values on the same K parts (part i of both against the same reference
    part i). Pairing removes the noise the two share through the reference images, so this
    interval is narrower than the two separate intervals suggest. A is better than B (for a
    lower-is-better measure) only when the whole interval lies below 0."""
    if len(a_parts) != len(b_parts):
        raise ValueError(
            f"paired_difference needs the same parts for both, got {len(a_parts)} and "
            f"{len(b_parts)} values."
        )
    return interval(a - b, [x - y for x, y in zip(a_parts, b_parts, strict=True)], level)


def seed_difference(
    a_values: Sequence[float], b_values: Sequence[float], level: float = 0.95
) -> Interval:
    """The interval of the difference between the means of two models' values over training
    seeds (independent runs): mean(a) - mean(b) +- t * sqrt(s_a^2 / n_a + s_b^2 / n_b), with the
    conservative min(n_a, n_b) - 1 degrees of freedom of Welch's test."""
    if min(len(a_values), len(b_values)) < 2:
        raise ValueError("seed_difference needs at least 2 seeds of each model.")
    a = torch.tensor(a_values, dtype=torch.float64)
    b = torch.tensor(b_values, dtype=torch.float64)
    standard_error = math.sqrt(float(a.var() / len(a) + b.var() / len(b)))
    t = t_quantile((1 + level) / 2, min(len(a), len(b)) - 1)
    difference = float(a.mean() - b.mean())
    return Interval(difference, difference - t * standard_error, difference + t * standard_error)


class Coverage(NamedTuple):
    """Which digits a set of images looks like to the classifier, and how clearly."""

    histogram: torch.Tensor  # (10,) fraction of images predicted as each digit
    entropy: float  # of the histogram, in nats: log(10) = 2.303 when every digit is equally common
    kl_to_uniform: float  # KL(histogram || uniform) = log(10) - entropy, in nats; 0 is perfect
    confidence: float  # mean of the classifier's top probability: legibility


def coverage_from_probabilities(probabilities: torch.Tensor) -> Coverage:
    """Coverage statistics from class probabilities (N, 10), one row per image."""
    predicted = probabilities.argmax(dim=1)  # (N,)
    counts = torch.bincount(predicted, minlength=CLASSES).double()  # (10,)
    histogram = counts / counts.sum()
    present = histogram[histogram > 0]  # 0 log(1/0) = 0
    entropy = float((present * (1 / present).log()).sum())  # H = sum_k h_k log(1 / h_k)
    return Coverage(
        histogram=histogram.cpu(),
        entropy=entropy,
        kl_to_uniform=math.log(CLASSES) - entropy,
        confidence=float(probabilities.max(dim=1).values.double().mean()),
    )


def class_coverage(classifier: MnistClassifier, images: torch.Tensor) -> Coverage:
    """Coverage of the digits by images (N, 1, 28, 28) in [0, 1], as the classifier sees them."""
    return coverage_from_probabilities(classifier_outputs(classifier, images)[1])


def score_samples(
    classifier: MnistClassifier, images: torch.Tensor, reference: Gaussian
) -> tuple[float, Coverage]:
    """FID against the `reference` feature Gaussian (e.g. of the test images) and class coverage
    of images (N, 1, 28, 28) in [0, 1], from one pass of the classifier."""
    features, probabilities = classifier_outputs(classifier, images)
    return frechet_distance(fit_gaussian(features), reference), coverage_from_probabilities(
        probabilities
    )


@torch.inference_mode()
def reconstruction_mse(
    model: Autoencoder | VAE | ConvVAE, images: torch.Tensor, batch_size: int = 2000
) -> float:
    """Mean squared error per pixel between images (N, 1, 28, 28) and their reconstructions.

    A VAE reconstructs from its mean code mu, without sampling, so that the autoencoder and the
    VAE are compared on the same deterministic encode-decode round trip.
    """
    check_unit_images(images, "reconstruction_mse")
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=images.device)
    for (batch,) in minibatches(images, batch_size=batch_size):
        reconstructions = model.decode(mean_code(model, batch))  # (B, 1, 28, 28)
        total += F.mse_loss(reconstructions, batch, reduction="sum").double()
    return float(total) / images.numel()


def parameter_count(*models: nn.Module) -> int:
    """Number of trainable numbers in the models together."""
    return sum(p.numel() for model in models for p in model.parameters() if p.requires_grad)
