"""One training update per model, and the evaluation of a model on a whole split.

A step does zero_grad -> forward -> loss -> backward -> step once, exactly as the chapters write
the loop out, and returns its metrics as detached 0-d tensors (`float(value)` gives the number).
They stay tensors, so that a GPU never waits for the host inside a step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._validate import check_step_images
from .data import minibatches
from .loop import Metrics
from .losses import discriminator_loss, generator_loss, vae_loss
from .models import VAE, Autoencoder, Discriminator, Generator


def ae_step(model: Autoencoder, optimizer: torch.optim.Optimizer, images: torch.Tensor) -> Metrics:
    """One update of an autoencoder on the mean squared error per pixel."""
    check_step_images(images, "ae_step")  # (N, 1, 28, 28) in [0, 1]
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
    check_step_images(images, "vae_step")  # (N, 1, 28, 28) in [0, 1]
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
    check_step_images(images, "gan_step")  # (N, 1, 28, 28) in [0, 1], not yet [-1, 1]
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
    loss_g.backward()  # D's gradients from this pass are cleared by its next zero_grad
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
