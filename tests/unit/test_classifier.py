"""The classifier behind chapter 4's metrics: shipped inside the package, accurate, never
re-trained behind the user's back, and reproducible by its training script."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import labutils
from labutils import classifier as classifier_module
from labutils.classifier import (
    MnistClassifier,
    classifier_accuracy,
    classifier_outputs,
    classifier_path,
    load_classifier,
    train_classifier,
)


def test_the_classifier_ships_inside_the_package():
    assert classifier_path() == Path(labutils.__file__).parent / "mnist_classifier.pt"
    assert classifier_path().exists()


def test_shipped_classifier_reaches_99_percent(mnist_test):
    model = load_classifier("cpu")
    assert not model.training
    assert classifier_accuracy(model, *mnist_test) >= 0.99


def test_a_missing_classifier_is_an_error_not_a_new_instrument(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/train_classifier.py"):
        load_classifier("cpu", tmp_path / "nowhere.pt")


def test_a_trained_classifier_is_saved_and_loads_back(tmp_path, monkeypatch):
    real_load = classifier_module.load_mnist

    def small_mnist(split, device="cpu", limit=None):
        return real_load(split, device, limit=256)  # keeps the test fast

    monkeypatch.setattr(classifier_module, "load_mnist", small_mnist)
    path = tmp_path / "classifier.pt"
    trained = train_classifier(path, "cpu", epochs=1)
    reloaded = load_classifier("cpu", path)
    for a, b in zip(trained.state_dict().values(), reloaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not reloaded.training


def test_outputs_are_the_features_and_the_softmax_of_the_head(mnist_test):
    torch.manual_seed(0)
    model = MnistClassifier(features=8)
    images = mnist_test[0][:300]
    features, probabilities = classifier_outputs(model, images, batch_size=70)
    with torch.no_grad():
        expected = model.eval().features(images)  # (300, 8)
    assert torch.allclose(features, expected, atol=1e-6)
    assert torch.allclose(probabilities, model.head(expected).softmax(dim=1), atol=1e-6)
