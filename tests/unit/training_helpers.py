"""Small models and assertions shared by the training tests (loop, recipes, checkpoints)."""

from __future__ import annotations

import math

import torch
import torch.serialization

from labutils import (
    Autoencoder,
    Discriminator,
    Generator,
    seed_everything,
)


def tiny_ae(seed: int = 0) -> tuple[Autoencoder, torch.optim.Optimizer]:
    """A 784-16-2 autoencoder and its Adam optimizer, initialised from `seed`."""
    seed_everything(seed)
    model = Autoencoder(2, hidden=(16,))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def tiny_gan(seed: int = 0) -> tuple[Generator, Discriminator]:
    """A DCGAN pair of width 4 with 8 noise dimensions, initialised from `seed`."""
    seed_everything(seed)
    return Generator(nz=8, width=4), Discriminator(width=4)


def without_timing(history: dict) -> dict:
    """The history minus wall times and the stop message: what must repeat bit for bit."""
    return {k: v for k, v in history.items() if k not in ("seconds", "stopped")}


def assert_same_history(a: dict, b: dict) -> None:
    """Bit-identical histories: equal float lists, equal tensors."""
    a, b = without_timing(a), without_timing(b)
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], torch.Tensor):
            assert torch.equal(a[name], b[name]), name
        else:
            assert a[name] == b[name], name


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """Every parameter and buffer bit-identical."""
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name


def step_calling(action, at: int, step):
    """`step`, except that call number `at` (from 1) runs `action()` first."""
    calls = []

    def wrapped(*batch):
        calls.append(None)
        if len(calls) == at:
            action()
        return step(*batch)

    wrapped.calls = calls
    return wrapped


def poison(model: torch.nn.Module) -> None:
    """Set one weight to NaN, as an exploding update would."""
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] = math.nan


def interrupt() -> None:
    """What Ctrl+C, or Jupyter's stop button, raises in the running code."""
    raise KeyboardInterrupt
