"""One update per step function, and `fit`, which iterates epochs and records a history.

`fit` also keeps a run safe: it stops cleanly on a NaN loss or Ctrl+C, saves a checkpoint after
every epoch when given a `Checkpointer`, and resumes from one exactly.

A step function does zero_grad -> forward -> loss -> backward -> step once and returns its metrics
as detached 0-d tensors (`float(value)` gives the number). They stay tensors until the end of the
epoch, so a GPU waits for the host only at the NaN check, once every 32 steps.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._validate import require_positive_float, require_positive_int
from .checkpoint import Checkpointer
from .data import minibatches
from .distributed import is_distributed, is_main, mean_over_processes, shard_batches, wrap
from .losses import discriminator_loss, generator_loss, vae_loss
from .models import VAE, Autoencoder, Discriminator, Generator, channels_last
from .monitor import GANMonitor

Metrics = dict[str, torch.Tensor]
History = dict[str, list]  # lists of floats, plus per-epoch tensors and a "stopped" message
PROGRESS_ENV = "LABUTILS_PROGRESS"
GPU_CHECK_EVERY = 32  # steps between NaN checks on a GPU (each check waits for the GPU once)


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


def trainable(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters of `model` that an optimizer updates (those that require gradients)."""
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


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
    loss_g.backward(inputs=trainable(generator))  # D's gradients would be thrown away: skip them
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


def step_values(step_metrics: list[Metrics]) -> dict[str, torch.Tensor]:
    """Each metric's per-step values as one float64 CPU tensor (steps,): one transfer per metric."""
    if not step_metrics:
        return {}
    names = step_metrics[0]
    return {name: torch.stack([m[name] for m in step_metrics]).double().cpu() for name in names}


def epoch_means(step_metrics: list[Metrics], sizes: list[int]) -> dict[str, list[float]]:
    """Per-step values of each metric and their mean weighted by the batch sizes."""
    weights = torch.tensor(sizes, dtype=torch.float64)
    result: dict[str, list[float]] = {}
    for name, values in step_values(step_metrics).items():
        result[f"step_{name}"] = values.tolist()
        result[f"train_{name}"] = [float((values * weights).sum() / weights.sum())]
    return result


class NonFiniteLoss(Exception):
    """A metric became NaN or infinite; `fit` catches it, stops, and warns with this message."""

    def __init__(self, epoch: int, where: str, name: str, value: float):
        super().__init__(f"{name} was {value} at epoch {epoch}, {where}")
        self.name = name


class NonFiniteLossWarning(RuntimeWarning):
    """Training stopped because a loss became NaN or infinite (see `fit`)."""


class EpochLog:
    """One epoch's per-step metrics, kept as tensors and checked for NaN/inf every `every` steps.

    A check is one `torch.isfinite` over the steps since the last check, hence one host sync.
    Under torch.distributed the values are first averaged over the processes (one all-reduce),
    so that every process records the same values and stops at the same step.
    """

    def __init__(self, epoch: int, steps: int, every: int):
        self.epoch, self.steps, self.every = epoch, steps, every
        self.metrics: list[Metrics] = []
        self.sizes: list[int] = []
        self.checked = 0
        self.recorded = False  # True once the epoch is in the history
        self.start = time.perf_counter()

    def add(self, metrics: Metrics, size: int) -> None:
        """Record one step's metrics; check the unchecked ones when `every` have accumulated."""
        self.metrics.append(metrics)
        self.sizes.append(size)
        if len(self.metrics) - self.checked >= self.every:
            self.check()

    def check(self) -> None:
        """Raise NonFiniteLoss naming the first unchecked step with a non-finite metric."""
        fresh = self.metrics[self.checked :]
        names = list(fresh[0]) if fresh else []
        if names:
            values = torch.stack([torch.stack([m[n] for n in names]) for m in fresh])  # (S, M)
            values = mean_over_processes(values)  # (S, M), as is in a single process
            self.metrics[self.checked :] = [dict(zip(names, row, strict=True)) for row in values]
            bad = ~torch.isfinite(values)  # (S, M)
            if bool(bad.any()):
                row = int(bad.any(dim=1).nonzero()[0])
                column = int(bad[row].nonzero()[0])
                self.metrics = self.metrics[: self.checked + row]  # keep only the finite steps
                where = f"step {len(self.metrics) + 1} of {self.steps}"
                raise NonFiniteLoss(self.epoch, where, names[column], float(values[row, column]))
        self.checked = len(self.metrics)


def check_results(epoch: int, results: dict[str, float | torch.Tensor]) -> None:
    """Raise NonFiniteLoss if an end-of-epoch evaluation metric (a number) is not finite."""
    for name, value in results.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise NonFiniteLoss(epoch, "in the evaluation after it", f"test_{name}", value)


def end_epoch(
    log: EpochLog,
    history: History,
    evaluate: Callable[[], dict[str, float | torch.Tensor]] | None,
    checkpoint: Checkpointer | None,
    order: torch.Generator,
) -> None:
    """Check the epoch just run, evaluate, extend the history, and save a checkpoint of it."""
    log.check()
    results = evaluate() if evaluate else {}
    check_results(log.epoch, results)
    if checkpoint and not checkpoint.weights_are_finite():
        raise NonFiniteLoss(log.epoch, "after its last step", "a weight", math.nan)
    for name, values in epoch_means(log.metrics, log.sizes).items():
        history[name].extend(values)
    for name, value in results.items():
        history[f"test_{name}"].append(value)
    history["seconds"].append(time.perf_counter() - log.start)
    log.recorded = True
    if checkpoint:
        checkpoint.save(log.epoch, history, order)


def record_partial_epoch(history: History, log: EpochLog, message: str) -> None:
    """After a stop: add the unfinished epoch's (finite) step values and say why it stopped."""
    for name, values in step_values([] if log.recorded else log.metrics).items():
        history[f"step_{name}"].extend(values.tolist())
    history["stopped"] = [message]


def checkpoint_note(checkpoint: Checkpointer | None) -> str:
    """Where the last good state of the run is, for the messages of a stopped run."""
    if checkpoint is None or checkpoint.saved_epoch is None:
        return "No checkpoint was saved (pass checkpoint_path= to the fit_* recipes to keep one)."
    return f"The checkpoint {checkpoint.path} holds the run after epoch {checkpoint.saved_epoch}."


def interrupted(history: History, log: EpochLog, checkpoint: Checkpointer | None) -> None:
    """Ctrl+C / the stop button: print one line saying where the run is and how to resume it."""
    resume = " Resume with resume=True and the same checkpoint_path." if checkpoint else ""
    message = f"Interrupted at epoch {log.epoch}, after step {len(log.metrics)} of {log.steps}."
    if log.recorded:
        message = f"Interrupted after epoch {log.epoch}."
    record_partial_epoch(history, log, message)
    print(f"{message} {checkpoint_note(checkpoint)}{resume}")


def diverged(
    history: History,
    log: EpochLog,
    fault: NonFiniteLoss,
    checkpoint: Checkpointer | None,
    order: torch.Generator,
) -> None:
    """A NaN/inf metric: keep the last good checkpoint, reload it, and warn once, clearly."""
    record_partial_epoch(history, log, f"Non-finite {fault}.")
    finite = history.get(f"step_{fault.name}") or history.get(fault.name)
    last = f"; the last finite value was {finite[-1]}" if finite else ""
    note = checkpoint_note(checkpoint)
    if checkpoint is not None and checkpoint.saved_epoch is not None:
        checkpoint.restore(order)
        note += " Its weights and optimizer states were loaded back into the models."
    warnings.warn(
        f"Training stopped: {fault}{last}. {note} "
        "Try a lower learning rate. The history up to the last finite step is returned.",
        NonFiniteLossWarning,
        stacklevel=3,
    )


def fit(
    step: Callable[..., Metrics],
    data: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    epochs: int,
    batch_size: int = 128,
    evaluate: Callable[[], dict[str, float | torch.Tensor]] | None = None,
    seed: int = 0,
    progress: bool | None = None,
    checkpoint: Checkpointer | None = None,
    monitor: Callable[[History], None] | None = None,
) -> History:
    """Run `step` over shuffled minibatches of `data` for `epochs` epochs; return the history.

    `step(*batch)` does one update (e.g. `lambda x: vae_step(model, optimizer, x)`); `evaluate()`
    runs after each epoch (e.g. on the test split). The history maps `train_<metric>` and
    `test_<metric>` to one value per epoch, `step_<metric>` to one value per step, and
    `seconds` to each epoch's wall time. `checkpoint` saves the run after every epoch (and
    resumes it if asked); `monitor(history)` runs after every epoch (e.g. a GANMonitor).

    When it goes wrong, `fit` stops and returns the history so far, with a `stopped` entry:
    - a NaN or infinite metric: on the CPU every step is checked, so training stops right after
      the first bad step; on a GPU the steps are checked together every 32 steps (one host sync
      each) and at the end of each epoch, so up to 31 more steps may run. A NonFiniteLossWarning
      names the first bad epoch and step and the last finite value; the last good checkpoint is
      kept and loaded back into the models. An evaluation metric or weight that is not finite
      at the end of an epoch stops training the same way, before that epoch is saved.
    - KeyboardInterrupt (Ctrl+C, Jupyter's stop button): one line says where the checkpoint is.

    Under torch.distributed (see `labutils.distributed`), each process trains on its share of
    every batch of `batch_size` examples and records metrics averaged over the processes; only
    process 0 prints, shows progress, runs `monitor` and writes checkpoints.
    """
    require_positive_int("epochs", epochs)
    require_positive_int("batch_size", batch_size)
    tensors = data if isinstance(data, tuple) else (data,)
    order = torch.Generator().manual_seed(seed)
    done, saved = checkpoint.start(order) if checkpoint else (0, {})
    history: History = defaultdict(list, saved)
    steps = math.ceil(tensors[0].shape[0] / batch_size)
    every = 1 if tensors[0].device.type == "cpu" else GPU_CHECK_EVERY
    show = progress if progress is not None else os.environ.get(PROGRESS_ENV, "1") != "0"
    show, monitor = show and is_main(), monitor if is_main() else None
    log = EpochLog(done + 1, steps, every)
    try:
        epoch_range = range(done + 1, epochs + 1)
        for epoch in tqdm(epoch_range, "epochs", epochs, initial=done, disable=not show):
            log = EpochLog(epoch, steps, every)
            for batch in shard_batches(tensors, batch_size, order):
                log.add(step(*batch), batch[0].shape[0])
            end_epoch(log, history, evaluate, checkpoint, order)
            if is_main():
                print(epoch_summary(epoch, epochs, history))
            if monitor:
                monitor(history)
    except KeyboardInterrupt:
        interrupted(history, log, checkpoint)
    except NonFiniteLoss as fault:
        diverged(history, log, fault, checkpoint, order)
    return dict(history)


def epoch_summary(epoch: int, epochs: int, history: History) -> str:
    """One line per epoch: the epoch's train and test metrics and its duration."""
    parts = [f"epoch {epoch:>2}/{epochs}"]
    for name, values in history.items():
        if name.startswith(("train_", "test_")) and isinstance(values[-1], float):
            parts.append(f"{name} {values[-1]:.4g}")
    parts.append(f"({history['seconds'][-1]:.1f} s)")
    return "  ".join(parts)


def make_checkpointer(
    path: str | Path | None,
    resume: bool,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> Checkpointer | None:
    """The recipes' per-epoch checkpoint at `path`, or None when no path is given."""
    if path is None:
        if resume:
            raise ValueError("resume=True needs the checkpoint_path of the run to resume.")
        return None
    return Checkpointer(Path(path), models, optimizers, resume=resume)


def adam(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam for the fully connected models; the fused kernel made a VAE epoch ~1.2x faster on the
    CPU (benchmarks/README.md), with the same update up to rounding."""
    return torch.optim.Adam(model.parameters(), lr=require_positive_float("lr", lr), fused=True)


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
    """The course's autoencoder recipe: Adam on the MSE per pixel, evaluated on the test split.

    With `checkpoint_path` the run is saved after every epoch; `resume=True` continues it.
    """
    optimizer = adam(model, lr)
    net = wrap(model)  # in DistributedDataParallel when distributed
    return fit(
        lambda x: ae_step(net, optimizer, x),
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
    """The course's VAE recipe: Adam on the negative ELBO, evaluated on the test split.

    With `checkpoint_path` the run is saved after every epoch; `resume=True` continues it.
    """
    optimizer = adam(model, lr)
    net = wrap(model)  # in DistributedDataParallel when distributed
    return fit(
        lambda x: vae_step(net, optimizer, x, beta),
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
    With `checkpoint_path` the run is saved after every epoch; `resume=True` continues it.
    """
    if is_distributed():
        raise NotImplementedError("fit_dcgan does not support torch.distributed training yet.")
    lr = require_positive_float("lr", lr)
    lr_d = lr if lr_d is None else require_positive_float("lr_d", lr_d)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=(0.5, 0.999))

    @torch.inference_mode()
    def snapshot() -> dict[str, torch.Tensor]:
        generator.eval()
        return {"samples": generator(fixed_noise).cpu()}  # (N, 1, 28, 28)

    on_cpu = train_images.device.type == "cpu"  # channels-last was measured on the CPU only
    with channels_last(generator, discriminator, enabled=on_cpu):
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
