"""Choosing where tensors live, and making runs repeatable."""

from __future__ import annotations

import random

import torch

KNOWN_DEVICES = ("auto", "cpu", "cuda", "mps")


def get_device(name: str | None = None) -> torch.device:
    """The device to train on: `name` ("cpu", "cuda:1", ...), else CUDA when present, else CPU.

    The chapters pass their DEVICE parameter, which reads $LABUTILS_DEVICE.
    """
    requested = name or "auto"
    kind = requested.split(":")[0]
    if kind not in KNOWN_DEVICES:
        raise ValueError(
            f"Unknown device {requested!r}. Use one of {', '.join(KNOWN_DEVICES)} "
            "(e.g. 'cuda:1'); the chapters read it from $LABUTILS_DEVICE."
        )
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"Device {requested!r} was requested but PyTorch sees no CUDA GPU. "
            "Ask for 'cpu' instead (in the chapters: unset $LABUTILS_DEVICE); on Colab choose "
            "Runtime > Change runtime type > GPU."
        )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(
            f"Device {requested!r} was requested but this machine has no Apple MPS backend. "
            "Ask for 'cpu' instead (in the chapters: unset $LABUTILS_DEVICE)."
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
