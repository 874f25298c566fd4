"""An honest scale for generative models of MNIST, read in the features of the course's classifier.

- *FID* compares the Gaussian fits of the features of generated and of real test images
  (Fréchet distance, Heusel et al. 2017, with the classifier of `labutils.classifier` in place of
  Inception).
- *Precision and recall* (Kynkäänniemi et al. 2019) separate the two things FID mixes: how many
  samples look like real images (precision), and how much of the real images' variety the samples
  cover (recall), each judged by k-nearest-neighbour balls around feature vectors.
- *Class coverage* looks at the predicted digits of generated images: their distribution, its
  entropy and KL divergence to uniform (mode collapse shows up here), and the classifier's mean
  confidence (a proxy for how legible the digits are). Entropies and KLs are in nats.
- *Intervals* from disjoint parts of the sample sets say how much of a difference is noise.
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
    """Squared Fréchet (2-Wasserstein) distance between two Gaussians:
    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr(sqrt(S_a S_b)).

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
    """Fréchet distance between the classifier features of `images` and of `reference` images,
    both (N, 1, 28, 28) in [0, 1]. Compare FIDs only between sets of the same size: the estimate
    is biased upwards for small sets."""
    return frechet_distance(
        feature_gaussian(classifier, images), feature_gaussian(classifier, reference)
    )


class Manifold(NamedTuple):
    """A set of feature vectors (N, D), in float64, and around each one a ball whose radius (N,)
    is the distance to its k-th nearest neighbour in the set: together, an estimate of the region
    of feature space the set occupies."""

    points: torch.Tensor
    radii: torch.Tensor


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
    return Manifold(points.double(), torch.cat(squared_radii).sqrt())  # (N, D), (N,)


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


class Interval(NamedTuple):
    """A measurement and the range that its sampling noise makes plausible (about 95%)."""

    value: float
    low: float
    high: float

    def overlaps(self, other: Interval) -> bool:
        """Whether the two ranges share a value: then the data cannot tell the two apart."""
        return self.low <= other.high and other.low <= self.high


def interval(value: float, part_values: Sequence[float]) -> Interval:
    """An interval around `value`, a measurement on whole sample sets, from the same measurement
    repeated on K disjoint parts of those sets (`part_values`).

    An estimate from n points fluctuates like 1/sqrt(n), so the spread (standard deviation) of the
    K parts' values divided by sqrt(K) estimates the standard error of the whole-set value; the
    interval is the value +- 2 standard errors. For a measurement whose noise shrinks faster, like
    1/n, the interval comes out wider than it needs to be: it errs on the safe side.
    """
    if len(part_values) < 2:
        raise ValueError("interval needs the values of at least 2 parts to measure a spread.")
    spread = torch.tensor(part_values, dtype=torch.float64).std()
    half_width = 2 * float(spread) / math.sqrt(len(part_values))
    return Interval(value, value - half_width, value + half_width)


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
