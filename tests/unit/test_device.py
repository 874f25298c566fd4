"""Device choice: automatic, overridable, and clear when the request cannot be met."""

from __future__ import annotations

import pytest
import torch

from labutils import get_device


def test_cpu_by_argument_and_environment(monkeypatch):
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LABUTILS_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown device 'gpu'. Use one of auto, cpu, cuda, mps"):
        get_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_says_how_to_fall_back(monkeypatch):
    monkeypatch.setenv("LABUTILS_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="sees no CUDA GPU. Unset LABUTILS_DEVICE"):
        get_device()
