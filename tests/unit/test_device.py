"""Device choice: automatic, overridable by argument, and clear when the request cannot be met."""

from __future__ import annotations

import pytest
import torch

from labutils import get_device


def test_cuda_is_chosen_when_available_else_the_cpu(monkeypatch):
    monkeypatch.setenv("LABUTILS_DEVICE", "cpu")  # the library itself never reads it
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_an_argument_overrides_an_available_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("cpu") == torch.device("cpu")


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown device 'gpu'. Use one of auto, cpu, cuda, mps"):
        get_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_cuda_without_gpu_says_how_to_fall_back(name):
    with pytest.raises(RuntimeError, match=f"'{name}' was requested but PyTorch sees no CUDA GPU"):
        get_device(name)
