"""The course's training recipes: the optimizer and loop settings each chapter trains with.

Each recipe builds its optimizer, hands `fit` a step function and an evaluation, and returns the
history. With `checkpoint_path` the run is saved after every epoch; `resume=True` continues it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from ._validate import check_latents, check_unit_images, require_positive_float
from .checkpoint import Checkpointer
from .loop import History, fit
from .models import VAE, Autoencoder, Discriminator, Generator
from .monitor import GANMonitor
from .steps import ae_step, evaluate_ae, evaluate_vae, gan_step, vae_step


def fit_autoencoder(
    model: Autoencoder,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    checkpoint_path: str | Path | None = None,
    resume: bool = False,
) -> History:
    """The course's autoencoder recipe: Adam on the MSE per pixel, evaluated on the test split."""
    check_unit_images(train_images, "fit_autoencoder (train_images)")  # (N, 1, 28, 28) in [0, 1]
    check_unit_images(test_images, "fit_autoencoder (test_images)")
    optimizer = torch.optim.Adam(model.parameters(), lr=require_positive_float("lr", lr))
    return fit(
        lambda x: ae_step(model, optimizer, x),
        train_images,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=lambda: evaluate_ae(model, test_images),
        seed=seed,
        checkpoint=make_checkpointer(
            checkpoint_path, resume, {"model": model}, {"optimizer": optimizer}
        ),
    )


def fit_vae(
    model: VAE,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    beta: float = 1.0,
    seed: int = 0,
    checkpoint_path: str | Path | None = None,
    resume: bool = False,
) -> History:
    """The course's VAE recipe: Adam on the negative ELBO, evaluated on the test split."""
    check_unit_images(train_images, "fit_vae (train_images)")  # (N, 1, 28, 28) in [0, 1]
    check_unit_images(test_images, "fit_vae (test_images)")
    optimizer = torch.optim.Adam(model.parameters(), lr=require_positive_float("lr", lr))
    return fit(
        lambda x: vae_step(model, optimizer, x, beta),
        train_images,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=lambda: evaluate_vae(model, test_images),
        seed=seed,
        checkpoint=make_checkpointer(
            checkpoint_path, resume, {"model": model}, {"optimizer": optimizer}
        ),
    )


def fit_dcgan(
    generator: Generator,
    discriminator: Discriminator,
    train_images: torch.Tensor,
    *,
    epochs: int,
    fixed_noise: torch.Tensor,
    lr: float = 2e-4,
    batch_size: int = 128,
    seed: int = 0,
    lr_d: float | None = None,
    checkpoint_path: str | Path | None = None,
    resume: bool = False,
    monitor: GANMonitor | bool = True,
) -> History:
    """Radford et al.'s recipe (Adam, lr 2e-4, beta1 0.5); `history["samples"]` holds the images
    generated from `fixed_noise` after each epoch, (epochs, N, 1, 28, 28) in [-1, 1].

    `lr_d` gives the discriminator its own learning rate (default: `lr`). `monitor` warns when
    the run shows a known failure mode (True: a `GANMonitor` with its defaults; or pass one).
    On the CPU the pair trains with channels-last weights (faster; see `channels_last`).
    """
    check_unit_images(train_images, "fit_dcgan (train_images)")  # (N, 1, 28, 28) in [0, 1]
    check_latents(fixed_noise, generator.nz, "fit_dcgan (fixed_noise)")
    lr = require_positive_float("lr", lr)
    lr_d = lr if lr_d is None else require_positive_float("lr_d", lr_d)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=(0.5, 0.999))

    @torch.inference_mode()
    def snapshot() -> dict[str, torch.Tensor]:
        generator.eval()
        return {"samples": generator(fixed_noise).cpu()}  # (N, 1, 28, 28)

    with channels_last(generator, discriminator, enabled=train_images.device.type == "cpu"):
        history = fit(
            lambda x: gan_step(generator, discriminator, opt_g, opt_d, x),
            train_images,
            epochs=epochs,
            batch_size=batch_size,
            evaluate=snapshot,
            seed=seed,
            checkpoint=make_checkpointer(
                checkpoint_path,
                resume,
                {"generator": generator, "discriminator": discriminator},
                {"generator": opt_g, "discriminator": opt_d},
            ),
            monitor=GANMonitor(train_images) if monitor is True else monitor or None,
        )
    if "test_samples" in history:
        history["samples"] = torch.stack(history.pop("test_samples"))  # (epochs, N, 1, 28, 28)
    return history


def make_checkpointer(
    path: str | Path | None,
    resume: bool,
    models: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> Checkpointer | None:
    """The recipes' per-epoch checkpoint at `path`, or None when no path is given."""
    if path is None:
        if resume:
            raise ValueError("resume=True needs the checkpoint_path of the run to resume.")
        return None
    return Checkpointer(Path(path), models, optimizers, resume=resume)


@contextmanager
def channels_last(*models: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Inside the block, `models` store their conv weights channels-last (the channel index
    varying fastest in memory), the order the CPU's oneDNN convolutions work in: `make bench`
    measures what it saves. Afterwards they are back in PyTorch's default layout, where e.g.
    `parameters_to_vector` works. The numbers never change."""
    if enabled:
        for model in models:
            model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        if enabled:
            for model in models:
                model.to(memory_format=torch.contiguous_format)
