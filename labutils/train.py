"""One update per step function, and `fit`, which only iterates epochs and records a history.

A step function does zero_grad -> forward -> loss -> backward -> step once and returns its metrics
as detached 0-d tensors (`float(value)` gives the number). They stay tensors until the end of the
epoch, so a GPU never waits for the host in the middle of an epoch.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._checks import require_positive_float, require_positive_int
from .data import minibatches
from .losses import discriminator_loss, generator_loss, vae_loss
from .models import VAE, Autoencoder, Discriminator, Generator

Metrics = dict[str, torch.Tensor]
History = dict[str, list[float]]
PROGRESS_ENV = "LABUTILS_PROGRESS"


def ae_step(model: Autoencoder, optimizer: torch.optim.Optimizer, images: torch.Tensor) -> Metrics:
    """One update of an autoencoder on the mean squared error per pixel."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = F.mse_loss(model(images), images)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach()}


def vae_step(
    model: VAE, optimizer: torch.optim.Optimizer, images: torch.Tensor, beta: float = 1.0
) -> Metrics:
    """One update of a VAE on the negative ELBO per example (reconstruction + beta * KL)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    logits, mu, logvar = model(images)
    loss = vae_loss(logits, images, mu, logvar, beta)
    loss.total.backward()
    optimizer.step()
    return {name: value.detach() for name, value in loss._asdict().items()}


def gan_step(
    generator: Generator,
    discriminator: Discriminator,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
) -> Metrics:
    """One discriminator update, then one generator update, on a batch of images in [0, 1]."""
    generator.train()
    discriminator.train()
    real = images * 2 - 1  # (N, 1, 28, 28), the generator's Tanh range [-1, 1]
    noise = torch.randn(real.shape[0], generator.nz, device=real.device)  # (N, nz)
    fake = generator(noise)  # (N, 1, 28, 28)

    discriminator_optimizer.zero_grad(set_to_none=True)
    real_logits = discriminator(real)  # (N,)
    fake_logits = discriminator(fake.detach())  # (N,) no gradient into G here
    loss_d = discriminator_loss(real_logits, fake_logits)
    loss_d.backward()
    discriminator_optimizer.step()

    generator_optimizer.zero_grad(set_to_none=True)
    loss_g = generator_loss(discriminator(fake))  # D has just improved; G answers
    loss_g.backward()
    generator_optimizer.step()
    return {
        "loss_d": loss_d.detach(),
        "loss_g": loss_g.detach(),
        "d_real": torch.sigmoid(real_logits).mean().detach(),  # D(x)
        "d_fake": torch.sigmoid(fake_logits).mean().detach(),  # D(G(z)) before D's update
    }


def mean_over_batches(
    metrics_of: Callable[[torch.Tensor], Metrics], images: torch.Tensor, batch_size: int
) -> dict[str, float]:
    """Example-weighted mean of per-batch metrics over a whole split."""
    totals: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), device=images.device))
    for (batch,) in minibatches(images, batch_size=batch_size):
        for name, value in metrics_of(batch).items():
            totals[name] += value * batch.shape[0]
    return {name: float(total) / images.shape[0] for name, total in totals.items()}


@torch.inference_mode()
def evaluate_ae(
    model: Autoencoder, images: torch.Tensor, batch_size: int = 2000
) -> dict[str, float]:
    """Mean squared error per pixel of an autoencoder on `images`."""
    model.eval()
    return mean_over_batches(lambda x: {"loss": F.mse_loss(model(x), x)}, images, batch_size)


@torch.inference_mode()
def evaluate_vae(model: VAE, images: torch.Tensor, batch_size: int = 2000) -> dict[str, float]:
    """Negative ELBO per example (one z sample per image) and its two parts, on `images`."""
    model.eval()
    return mean_over_batches(
        lambda x: vae_loss(*model_outputs(model, x))._asdict(), images, batch_size
    )


def model_outputs(model: VAE, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The arguments of `vae_loss` for a batch: logits, images, mu, logvar."""
    logits, mu, logvar = model(images)
    return logits, images, mu, logvar


def epoch_means(step_metrics: list[Metrics], sizes: list[int]) -> dict[str, list[float]]:
    """Per-step values of each metric (one host transfer per metric) and their weighted mean."""
    weights = torch.tensor(sizes, dtype=torch.float64)
    result: dict[str, list[float]] = {}
    for name in step_metrics[0]:
        values = torch.stack([m[name] for m in step_metrics]).double().cpu()  # (steps,)
        result[f"step_{name}"] = values.tolist()
        result[f"train_{name}"] = [float((values * weights).sum() / weights.sum())]
    return result


def fit(
    step: Callable[..., Metrics],
    data: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    epochs: int,
    batch_size: int = 128,
    evaluate: Callable[[], dict[str, float]] | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> History:
    """Run `step` over shuffled minibatches of `data` for `epochs` epochs; return the history.

    `step(*batch)` does one update (e.g. `lambda x: vae_step(model, optimizer, x)`); `evaluate()`
    runs after each epoch (e.g. on the test split). The history maps `train_<metric>` and
    `test_<metric>` to one value per epoch, `step_<metric>` to one value per step, and
    `seconds` to each epoch's wall time.
    """
    require_positive_int("epochs", epochs)
    require_positive_int("batch_size", batch_size)
    tensors = data if isinstance(data, tuple) else (data,)
    order = torch.Generator().manual_seed(seed)
    show = progress if progress is not None else os.environ.get(PROGRESS_ENV, "1") != "0"
    history: History = defaultdict(list)
    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not show):
        start = time.perf_counter()
        metrics, sizes = [], []
        for batch in minibatches(*tensors, batch_size=batch_size, generator=order):
            metrics.append(step(*batch))
            sizes.append(batch[0].shape[0])
        for name, values in epoch_means(metrics, sizes).items():
            history[name].extend(values)
        for name, value in (evaluate() if evaluate else {}).items():
            history[f"test_{name}"].append(value)
        history["seconds"].append(time.perf_counter() - start)
        print(epoch_summary(epoch, epochs, history))
    return dict(history)


def epoch_summary(epoch: int, epochs: int, history: History) -> str:
    """One line per epoch: the epoch's train and test metrics and its duration."""
    parts = [f"epoch {epoch:>2}/{epochs}"]
    for name, values in history.items():
        if name.startswith(("train_", "test_")):
            parts.append(f"{name} {values[-1]:.4g}")
    parts.append(f"({history['seconds'][-1]:.1f} s)")
    return "  ".join(parts)


def fit_autoencoder(
    model: Autoencoder,
    train_images: torch.Tensor,
    test_images: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
) -> History:
    """The course's autoencoder recipe: Adam on the MSE per pixel, evaluated on the test split."""
    optimizer = torch.optim.Adam(model.parameters(), lr=require_positive_float("lr", lr))
    return fit(
        lambda x: ae_step(model, optimizer, x),
        train_images,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=lambda: evaluate_ae(model, test_images),
        seed=seed,
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
) -> History:
    """The course's VAE recipe: Adam on the negative ELBO, evaluated on the test split."""
    optimizer = torch.optim.Adam(model.parameters(), lr=require_positive_float("lr", lr))
    return fit(
        lambda x: vae_step(model, optimizer, x, beta),
        train_images,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=lambda: evaluate_vae(model, test_images),
        seed=seed,
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
) -> History:
    """Radford et al.'s recipe (Adam, lr 2e-4, beta1 0.5); `history["samples"]` holds the images
    generated from `fixed_noise` after each epoch, (epochs, N, 1, 28, 28) in [-1, 1]."""
    lr = require_positive_float("lr", lr)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    snapshots: list[torch.Tensor] = []

    @torch.inference_mode()
    def snapshot() -> dict[str, float]:
        generator.eval()
        snapshots.append(generator(fixed_noise).cpu())
        return {}

    history = fit(
        lambda x: gan_step(generator, discriminator, opt_g, opt_d, x),
        train_images,
        epochs=epochs,
        batch_size=batch_size,
        evaluate=snapshot,
        seed=seed,
    )
    history["samples"] = torch.stack(snapshots)
    return history
