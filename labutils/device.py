"""Choosing where tensors live, and making runs repeatable."""

from __future__ import annotations

import os
import random

import torch

DEVICE_ENV = "LABUTILS_DEVICE"
KNOWN_DEVICES = ("auto", "cpu", "cuda", "mps")


def get_device(name: str | None = None) -> torch.device:
    """The device to train on: `name`, else $LABUTILS_DEVICE, else CUDA when present, else CPU."""
    requested = name or os.environ.get(DEVICE_ENV) or "auto"
    kind = requested.split(":")[0]
    if kind not in KNOWN_DEVICES:
        raise ValueError(
            f"Unknown device {requested!r}. Use one of {', '.join(KNOWN_DEVICES)} "
            f"(e.g. 'cuda:1'), as an argument or in ${DEVICE_ENV}."
        )
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"Device {requested!r} was requested but PyTorch sees no CUDA GPU. "
            f"Unset {DEVICE_ENV} (or set it to 'cpu') to run on the CPU; on Colab choose "
            "Runtime > Change runtime type > GPU."
        )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(
            f"Device {requested!r} was requested but this machine has no Apple MPS backend. "
            f"Unset {DEVICE_ENV} (or set it to 'cpu') to run on the CPU."
        )
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    """Seed Python's and PyTorch's generators so that a CPU run repeats bit for bit."""
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def rng_state() -> dict[str, object]:
    """The state of every generator a run draws from: Python's, PyTorch's CPU and CUDA ones.

    Saved with a checkpoint and restored by `set_rng_state`, it lets a resumed run draw exactly
    the random numbers the uninterrupted run would have drawn.
    """
    return {
        "python": random.getstate(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    """Restore generators saved by `rng_state` (CUDA ones only where this machine has the GPUs)."""
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
