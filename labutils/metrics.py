"""An honest scale for generative models of MNIST: FID and class coverage, by a trained classifier.

A small LeNet-style classifier, trained once on MNIST and shipped in `data/mnist_classifier.pt`,
gives every image a 64-number feature vector (its penultimate layer) and a predicted digit.
- *FID* compares the Gaussian fits of the features of generated and of real test images
  (Fréchet distance, Heusel et al. 2017, with this classifier in place of Inception).
- *Class coverage* looks at the predicted digits of generated images: their distribution, its
  entropy and KL divergence to uniform (mode collapse shows up here), and the classifier's mean
  confidence (a proxy for how legible the digits are). Entropies and KLs are in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_images, require_positive_float, require_positive_int
from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_mnist, minibatches
from .device import seed_everything
from .loop import History, Metrics, fit
from .models import VAE, Autoencoder, Generator
from .paths import course_dir

CLASSES = 10
FEATURES = 64
CLASSIFIER_FILE = "mnist_classifier.pt"


class MnistClassifier(nn.Module):
    """LeNet-style CNN: two conv + max-pool blocks, a 64-unit feature layer, then 10 logits.

    Batch normalisation after each convolution lets three epochs reach 99% test accuracy.
    """

    def __init__(self, features: int = FEATURES):
        super().__init__()
        require_positive_int("features", features)
        self.config = {"features": features}
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2, bias=False),  # (N, 16, 28, 28)
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 16, 14, 14)
            nn.Conv2d(16, 32, 3, padding=1, bias=False),  # (N, 32, 14, 14)
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 32, 7, 7)
            nn.Flatten(),  # (N, 1568)
            nn.Linear(32 * 7 * 7, features),  # (N, features)
            nn.ReLU(),
        )
        self.head = nn.Linear(features, CLASSES)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (N, features) of images (N, 1, 28, 28) in [0, 1]."""
        check_images(images, "MnistClassifier")
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits (N, 10) of images (N, 1, 28, 28) in [0, 1]."""
        return self.head(self.features(images))


def classifier_step(
    model: MnistClassifier,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> Metrics:
    """One update of the classifier on the cross-entropy of a labelled batch (then one step of
    the learning-rate `scheduler`, if any)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    logits = model(images)  # (N, 10)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return {"loss": loss.detach(), "accuracy": accuracy.detach()}


@torch.inference_mode()
def classifier_accuracy(
    model: MnistClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000
) -> float:
    """Fraction of `images` whose predicted digit is their label."""
    model.eval()
    correct = torch.zeros((), device=images.device)
    for batch, batch_labels in minibatches(images, labels, batch_size=batch_size):
        correct += (model(batch).argmax(dim=1) == batch_labels).sum()
    return float(correct) / images.shape[0]


def fit_classifier(
    model: MnistClassifier,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int = 3,
    max_lr: float = 5e-3,
    batch_size: int = 128,
    seed: int = 0,
) -> History:
    """The classifier's recipe: Adam on the cross-entropy with a one-cycle learning rate (up to
    `max_lr`, then annealed to almost 0), which reaches 99% in a few epochs; test accuracy is
    recorded after each epoch."""
    require_positive_int("epochs", epochs)
    require_positive_int("batch_size", batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=require_positive_float("max_lr", max_lr))
    steps_per_epoch = -(-train[0].shape[0] // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch
    )
    return fit(
        lambda x, y: classifier_step(model, optimizer, x, y, scheduler),
        train,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=lambda: {"accuracy": classifier_accuracy(model, *test)},
        seed=seed,
    )


def classifier_path() -> Path:
    """Where the course ships the trained classifier: `data/mnist_classifier.pt`."""
    return course_dir("data") / CLASSIFIER_FILE


def train_classifier(
    path: str | Path, device: torch.device | str = "cpu", epochs: int = 3, limit: int | None = None
) -> MnistClassifier:
    """Train the classifier from a fixed seed on MNIST (the first `limit` training images if
    given) and save it, its history and its test accuracy to `path`."""
    seed_everything(0)
    model = MnistClassifier().to(device)
    train = load_mnist("train", device, limit=limit)
    test = load_mnist("test", device)
    history = fit_classifier(model, train, test, epochs=epochs)
    save_checkpoint(
        path, {"classifier": model}, history=history, test_accuracy=history["test_accuracy"][-1]
    )
    return model.eval()


def load_classifier(
    device: torch.device | str = "cpu", path: str | Path | None = None, epochs: int = 3
) -> MnistClassifier:
    """The trained classifier in eval mode, from `path` (default: the shipped file).

    When the file is missing (e.g. on Colab, or after `make clean`), the classifier is trained
    for `epochs` epochs and saved there first, so the metrics never depend on a download.
    """
    path = Path(path) if path is not None else classifier_path()
    if not path.exists():
        print(f"No classifier at {path}: training it ({epochs} epochs) and saving it there.")
        return train_classifier(path, device, epochs)
    model = MnistClassifier()
    load_checkpoint(path, {"classifier": model})
    return model.to(device).eval()


@torch.inference_mode()
def classifier_outputs(
    classifier: MnistClassifier, images: torch.Tensor, batch_size: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, features) and class probabilities (N, 10) of images (N, 1, 28, 28) in [0, 1].

    GAN output lives in [-1, 1]: map it with `(images + 1) / 2` first.
    """
    classifier.eval()
    features, probabilities = [], []
    for (batch,) in minibatches(images, batch_size=batch_size):
        batch_features = classifier.features(batch)  # (B, features)
        features.append(batch_features)
        probabilities.append(classifier.head(batch_features).softmax(dim=1))  # (B, 10)
    return torch.cat(features), torch.cat(probabilities)


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
def code_gaussian(model: Autoencoder, images: torch.Tensor, batch_size: int = 2000) -> Gaussian:
    """Gaussian fit of an autoencoder's codes of `images` (typically the training split)."""
    model.eval()
    codes = [model.encode(batch) for (batch,) in minibatches(images, batch_size=batch_size)]
    return fit_gaussian(torch.cat(codes))  # (latent_dim,), (latent_dim, latent_dim)


def sample_gaussian(
    gaussian: Gaussian, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`count` points (count, D) from N(mean, covariance): mean + sqrt(covariance) @ eps."""
    mean, covariance = gaussian.mean.double(), gaussian.covariance.double()
    eps = torch.randn(count, mean.shape[0], generator=generator, dtype=torch.float64)
    eps = eps.to(mean.device)  # (count, D)
    return mean + eps @ sqrtm_psd(covariance)  # (count, D); the root is symmetric


def decode_in_batches(
    decode: Callable[[torch.Tensor], torch.Tensor], latents: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Images decoded from latents (N, D), batch by batch, without recording gradients."""
    with torch.inference_mode():
        return torch.cat(
            [decode(batch) for (batch,) in minibatches(latents, batch_size=batch_size)]
        )


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
    model.eval()
    device = next(model.parameters()).device
    if codes is None:
        codes = Gaussian(
            torch.zeros(model.latent_dim, dtype=torch.float64, device=device),
            torch.eye(model.latent_dim, dtype=torch.float64, device=device),
        )
    latents = sample_gaussian(codes, count, generator).float().to(device)  # (count, latent_dim)
    return decode_in_batches(model.decode, latents)


def sample_dcgan(
    model: Generator, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`count` images (count, 1, 28, 28) from a DCGAN generator in eval mode, mapped from its Tanh
    range [-1, 1] to the [0, 1] of the data (and of the classifier)."""
    model.eval()
    device = next(model.parameters()).device
    noise = torch.randn(count, model.nz, generator=generator).to(device)  # (count, nz)
    return (decode_in_batches(model, noise) + 1) / 2


@torch.inference_mode()
def reconstruction_mse(
    model: Autoencoder | VAE, images: torch.Tensor, batch_size: int = 2000
) -> float:
    """Mean squared error per pixel between images (N, 1, 28, 28) and their reconstructions.

    A VAE reconstructs from its mean code mu, without sampling, so that the autoencoder and the
    VAE are compared on the same deterministic encode-decode round trip.
    """
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=images.device)
    for (batch,) in minibatches(images, batch_size=batch_size):
        codes = model.encode(batch)
        codes = codes[0] if isinstance(model, VAE) else codes  # (B, latent_dim): mu for a VAE
        total += F.mse_loss(model.decode(codes), batch, reduction="sum").double()
    return float(total) / images.numel()


def parameter_count(*models: nn.Module) -> int:
    """Number of trainable numbers in the models together."""
    return sum(p.numel() for model in models for p in model.parameters() if p.requires_grad)
