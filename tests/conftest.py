"""Shared fixtures: the real MNIST test split (small slices of it) on the CPU."""

from __future__ import annotations

import pytest
import torch

from labutils import load_mnist


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 test images (N, 1, 28, 28) and labels (N,)."""
    return load_mnist("test")


@pytest.fixture(scope="session")
def one_batch(mnist_test) -> torch.Tensor:
    """64 real test images, the batch the 'loss falls' tests overfit."""
    return mnist_test[0][:64]
