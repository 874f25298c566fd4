"""The measuring instrument of chapter 4: a small MNIST classifier, its training recipe, and the
features and class probabilities it reads off an image.

A LeNet-style network, trained once on MNIST and shipped inside the package
(`labutils/mnist_classifier.pt`, written by `scripts/train_classifier.py`), gives every image a
64-number feature vector (its penultimate layer) and a predicted digit. Because the weights
travel with the package, every installation (a checkout, a pip install, Colab) measures with the
same instrument.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_images, check_unit_images, require_positive_float, require_positive_int
from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_mnist, minibatches
from .device import seed_everything
from .loop import History, Metrics, fit

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


def classifier_path() -> Path:
    """The classifier file shipped inside the package, `labutils/mnist_classifier.pt`: found
    through `importlib.resources`, so that a checkout, a pip install and Colab all use it."""
    return Path(str(resources.files(__package__) / CLASSIFIER_FILE))


def load_classifier(
    device: torch.device | str = "cpu", path: str | Path | None = None
) -> MnistClassifier:
    """The trained classifier in eval mode, from `path` (default: the file shipped in the package).

    It is never trained on the fly: a freshly trained classifier would be a different instrument,
    and FIDs measured with it would not be comparable with the book's.
    """
    path = Path(path) if path is not None else classifier_path()
    if not path.exists():
        raise FileNotFoundError(
            f"No classifier at {path}. The package ships it: reinstall labutils, or in a "
            "checkout run `python scripts/train_classifier.py` to write it again."
        )
    model = MnistClassifier()
    load_checkpoint(path, {"classifier": model})
    return model.to(device).eval()


@torch.inference_mode()
def classifier_outputs(
    classifier: MnistClassifier, images: torch.Tensor, batch_size: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, features) and class probabilities (N, 10) of images (N, 1, 28, 28) in [0, 1].

    The samplers of `labutils.sampling` return images in [0, 1], the range the classifier expects.
    """
    check_unit_images(images, "classifier_outputs")  # every metric's images pass through here
    classifier.eval()
    features, probabilities = [], []
    for (batch,) in minibatches(images, batch_size=batch_size):
        batch_features = classifier.features(batch)  # (B, features)
        features.append(batch_features)
        probabilities.append(classifier.head(batch_features).softmax(dim=1))  # (B, 10)
    return torch.cat(features), torch.cat(probabilities)
