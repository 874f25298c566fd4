"""The course's models in one place: their settings, their checkpoints, and how to train them.

Chapters 1 to 3 each train one of the models that chapter 4 compares, and chapter 4 trains one
more, the convolutional VAE. Their settings live here once, so that every chapter (and the
benchmark) reads the same numbers and every chapter finds the others' checkpoints:

    COURSE_MODELS["dcgan"]["width"]   # 24, chapter 3's WIDTH

`trained(name, ...)` builds a model from its settings and loads it from its checkpoint, or
trains it with its recipe (the same seed and calls as its chapter) and saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from .device import seed_everything
from .loop import History
from .models import VAE, Autoencoder, ConvVAE, Discriminator, Generator
from .recipes import fit_autoencoder, fit_dcgan, fit_vae
from .reference import train_or_fetch

# cpu_seconds: the full training's wall time in `make book` on the course's 2-core CPU (an Intel
# Xeon), which `trained` announces before it trains.
COURSE_MODELS: dict[str, dict] = {
    # chapter 1: the 20-D autoencoder
    "ae": dict(checkpoint="ae-latent20", latent_dim=20, epochs=10, batch_size=128, cpu_seconds=45),
    # chapter 2: the 20-D fully connected VAE
    "vae": dict(
        checkpoint="vae-latent20", latent_dim=20, epochs=10, batch_size=128, cpu_seconds=38
    ),
    # chapter 3: the DCGAN pair; batch 64, half DCGAN's 128: twice the updates per epoch
    "dcgan": dict(checkpoint="dcgan", nz=100, width=24, epochs=2, batch_size=64, cpu_seconds=66),
    # chapter 4: the VAE with the DCGAN's architecture (chapter 3's width, chapter 2's latent)
    "conv_vae": dict(
        checkpoint="conv-vae-latent20",
        latent_dim=20,
        width=24,
        epochs=4,
        batch_size=128,
        cpu_seconds=77,
    ),
}

SMOKE_CHANGES: dict[str, dict] = {  # smoke mode (the tests): a subset of the images, one epoch
    "ae": dict(epochs=1, train_limit=2_000),
    "vae": dict(epochs=1, train_limit=2_000),
    "dcgan": dict(epochs=1, train_limit=1_024),
    "conv_vae": dict(epochs=1, train_limit=2_000),
}


def course_settings(name: str, smoke: bool) -> dict:
    """The settings of course model `name` in full or smoke mode (`train_limit`: how many
    training images it sees, None for all of them)."""
    if name not in COURSE_MODELS:
        raise ValueError(f"No course model {name!r}; choose one of {sorted(COURSE_MODELS)}.")
    settings = {**COURSE_MODELS[name], "train_limit": None}
    return {**settings, **SMOKE_CHANGES[name]} if smoke else settings


class Trained(NamedTuple):
    """A course model as its checkpoint holds it, and the history of the run that trained it."""

    models: dict[str, nn.Module]  # {"model": ...}, or {"generator": ..., "discriminator": ...}
    history: History

    @property
    def model(self) -> nn.Module:
        """The model that generates: the autoencoder, the VAE, or the DCGAN's generator."""
        return self.models["generator" if "generator" in self.models else "model"]


def build(name: str, settings: dict, device: torch.device | str) -> dict[str, nn.Module]:
    """The untrained models of course model `name`, named as in its checkpoint."""
    if name == "dcgan":
        return {
            "generator": Generator(nz=settings["nz"], width=settings["width"]).to(device),
            "discriminator": Discriminator(width=settings["width"]).to(device),
        }
    if name == "conv_vae":
        return {"model": ConvVAE(settings["latent_dim"], settings["width"]).to(device)}
    model_class = Autoencoder if name == "ae" else VAE
    return {"model": model_class(latent_dim=settings["latent_dim"]).to(device)}


def recipe(
    name: str,
    models: dict[str, nn.Module],
    settings: dict,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
) -> Callable[[], History]:
    """The training run of course model `name`, as its chapter calls it."""
    train_images = train_images[: settings["train_limit"]]
    options = dict(epochs=settings["epochs"], batch_size=settings["batch_size"])
    if name == "dcgan":
        fixed_noise = torch.randn(64, settings["nz"], device=train_images.device)  # chapter 3's
        generator, discriminator = models["generator"], models["discriminator"]
        return partial(
            fit_dcgan, generator, discriminator, train_images, fixed_noise=fixed_noise, **options
        )
    fit = fit_autoencoder if name == "ae" else fit_vae
    return partial(fit, models["model"], train_images, test_images, **options)


def trained(
    name: str,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    *,
    checkpoints: str | Path,
    smoke: bool,
    retrain: bool = False,
    epochs: int | None = None,
    reference: bool = False,
) -> Trained:
    """Course model `name` on the images' device, loaded from the checkpoint its chapter saves in
    the folder `checkpoints`, or (when there is none, or `retrain`) trained from seed 0 as its
    chapter trains it, and saved there.

    `epochs` overrides the registry's number of epochs (e.g. from $LABUTILS_EPOCHS); `reference`
    first downloads the book's trained checkpoint (`labutils.reference.train_or_fetch`).
    """
    settings = course_settings(name, smoke)
    if epochs is not None:
        settings["epochs"] = epochs
    seed_everything(0)
    models = build(name, settings, train_images.device)
    train = recipe(name, models, settings, train_images, test_images)
    path = Path(checkpoints) / f"{settings['checkpoint']}.pt"
    duration = None if smoke else f"about {settings['cpu_seconds']} s on a 2-core CPU"
    history = train_or_fetch(path, models, train, retrain, reference=reference, duration=duration)
    return Trained(models, history)
