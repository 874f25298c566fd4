"""Time labutils' training loops against reference-style loops and the bare compute floor.

One process, one run, the same data and the same models:

1. VAE (784-400-20, batch 128, Adam 1e-3), one full epoch each of
   - the reference loop, written the way pytorch/examples `vae/main.py` writes it (torchvision
     MNIST + ToTensor + DataLoader, sigmoid outputs, summed BCE, `loss.item()` every step);
   - labutils' `fit` with `vae_step` on device-resident images from `load_mnist`;
   - the compute floor: the same forward/backward/Adam work on pre-sliced batches, nothing else.
2. DCGAN (`Generator(nz=100, width=W)`, `Discriminator(width=W)`, batch 64, Adam 2e-4, beta1 0.5;
   the book's W = 24 and batch 64, from book/03-dcgan.ipynb):
   training throughput in images/s of labutils' `fit_dcgan` and of the pytorch/examples `dcgan`
   loop structure (ToTensor + Normalize((0.5,), (0.5,)) + DataLoader; D on real, D on
   fake.detach(), then G; `.item()` of the losses every step), on a fraction of an epoch.
3. Variants (skip with --no-variants): candidate speed-ups, each timed against its baseline in
   interleaved rounds (A, B, C, A, B, C, ...) so that a change in the machine's load hits them
   alike; the medians are reported.

Every time is taken as wall-clock and as CPU seconds (see `Timing`).

Prints a table and writes it as JSON (default benchmarks/results/latest.json, or quick.json
with --quick). Run from anywhere: `python benchmarks/bench.py [--width 24] [--quick]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

import labutils

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / "data"
RESULTS = REPO / "benchmarks" / "results"
BATCH_SIZE = 128  # the VAE's, as in pytorch/examples vae/main.py
GAN_BATCH_SIZE = 64  # chapter 3's BATCH_SIZE
BOOK_GAN_WIDTH = 24  # chapter 3's WIDTH
LATENT_DIM = 20
NZ = 100
VAE_LR = 1e-3
GAN_LR = 2e-4
GAN_BETAS = (0.5, 0.999)
EXTRA_WIDTHS = (32,)  # reported besides --width
Gan = tuple[labutils.Generator, labutils.Discriminator, torch.optim.Adam, torch.optim.Adam]


class Sizes:
    """How much work each measurement does: full epochs and 40 DCGAN batches, or a tiny run."""

    def __init__(self, quick: bool):
        self.train_images = 1024 if quick else None  # None: the whole 60,000-image training split
        self.warmup_steps = 1 if quick else 5
        self.gan_batches = 2 if quick else 40
        self.rounds = 1 if quick else 5  # interleaved rounds per variant comparison
        self.vae_block_steps = 2 if quick else 40  # VAE steps per variant block
        self.gan_block_batches = 1 if quick else 6  # DCGAN batches per variant block
        self.eval_images = 500 if quick else 10000


# ---------------------------------------------------------------------------------------------
# Timing helpers


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a wall-clock time covers it (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timing(NamedTuple):
    """Wall-clock seconds, the process's CPU seconds summed over its threads, and what the timed
    function returned. On a busy machine a one-thread run's CPU time still says what an idle
    machine's wall time would be."""

    wall: float
    cpu: float
    value: object = None


def timed(run: Callable[[], object], device: torch.device) -> Timing:
    """Time `run()`, including the device work it queued."""
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    value = run()
    synchronize(device)
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, value)


def interleaved(
    blocks: dict[str, Callable[[], object]], rounds: int, device: torch.device
) -> dict[str, dict[str, float | list[float]]]:
    """Time each block once per round, alternating the blocks within a round.

    Returns each block's median wall and CPU seconds and the wall times' spread (max / min - 1
    over the rounds): the spread says how noisy the machine was while the comparison ran.
    """
    timings: dict[str, list[Timing]] = {name: [] for name in blocks}
    for _ in range(rounds):
        for name, block in blocks.items():
            timings[name].append(timed(block, device))
    results = {}
    for name, values in timings.items():
        walls = [t.wall for t in values]
        results[name] = {
            "median_s": statistics.median(walls),
            "median_cpu_s": statistics.median(t.cpu for t in values),
            "spread": max(walls) / min(walls) - 1,
            "all_s": walls,
        }
    return results


@contextlib.contextmanager
def num_threads(count: int) -> Iterator[None]:
    """Run the enclosed code with `count` intra-op threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def cycle(batches: list[torch.Tensor]) -> Iterator[torch.Tensor]:
    """Endless iteration over pre-sliced batches (the variants run more steps than there are)."""
    while True:
        yield from batches


# ---------------------------------------------------------------------------------------------
# Data: torchvision's dataset for the reference loops, labutils' tensors for labutils


def reference_loader(
    transform: transforms.Compose, limit: int | None, device: torch.device, batch_size: int
) -> DataLoader:
    """`DataLoader(MNIST(root="data", train=True, transform=...), batch_size, shuffle=True)`,
    with pytorch/examples' extra arguments on CUDA (one worker, pinned memory)."""
    dataset = datasets.MNIST(root=str(DATA_ROOT), train=True, download=False, transform=transform)
    if limit is not None:
        dataset = Subset(dataset, range(limit))
    extra = {"num_workers": 1, "pin_memory": True} if device.type == "cuda" else {}
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, **extra)


def presliced(images: torch.Tensor, seed: int = 0) -> list[torch.Tensor]:
    """The images shuffled once and cut into contiguous batches (N <= 128, 1, 28, 28)."""
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))
    return list(images[order.to(images.device)].split(BATCH_SIZE))


# ---------------------------------------------------------------------------------------------
# VAE: the reference loop (pytorch/examples vae/main.py style), labutils, and the floor


class ReferenceVAE(nn.Module):
    """The VAE of pytorch/examples `vae/main.py`: 784-400-20 encoder, 20-400-784 decoder with
    sigmoid outputs. Same layers and parameter count as `labutils.VAE(20)`."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, LATENT_DIM)
        self.fc22 = nn.Linear(400, LATENT_DIM)
        self.fc3 = nn.Linear(LATENT_DIM, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pixel means (N, 784), mu and log sigma^2 (N, 20) of images (N, 1, 28, 28)."""
        hidden = F.relu(self.fc1(x.view(-1, 784)))  # (N, 400)
        mu, logvar = self.fc21(hidden), self.fc22(hidden)  # (N, 20) each
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # (N, 20)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar  # (N, 784)


def reference_vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """The example's loss: BCE summed over pixels and batch, plus the KL term."""
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def reference_vae_epoch(
    model: ReferenceVAE, optimizer: torch.optim.Optimizer, loader: DataLoader, device: torch.device
) -> float:
    """One epoch of the example's `train()`: move, zero, forward, backward, `.item()`, step.

    Returns the mean loss per image (the example prints it; its per-batch log lines are left out).
    """
    model.train()
    train_loss = 0.0
    for data, _ in loader:
        data = data.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = reference_vae_loss(recon, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(loader.dataset)


def labutils_vae_epoch(images: torch.Tensor, device: torch.device) -> float:
    """One epoch of `labutils.fit` with `vae_step` (no evaluation, no progress bar); the mean
    training loss per image."""
    model, optimizer = new_vae(device)
    with contextlib.redirect_stdout(io.StringIO()):  # fit prints one summary line per epoch
        history = labutils.fit(
            lambda x: labutils.vae_step(model, optimizer, x), images, epochs=1, progress=False
        )
    return history["train_total"][0]


def floor_vae_steps(
    model: labutils.VAE,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[torch.Tensor],
    steps: int,
) -> None:
    """The bare work of `steps` VAE updates: zero, forward, loss, backward, step; nothing else."""
    for _, x in zip(range(steps), batches, strict=False):
        optimizer.zero_grad(set_to_none=True)
        logits, mu, logvar = model(x)
        labutils.vae_loss(logits, x, mu, logvar).total.backward()
        optimizer.step()


def new_vae(device: torch.device, **adam: object) -> tuple[labutils.VAE, torch.optim.Adam]:
    """A fresh, seeded labutils.VAE(20) in training mode and its Adam optimizer."""
    labutils.seed_everything(0)
    model = labutils.VAE(LATENT_DIM).to(device).train()
    return model, torch.optim.Adam(model.parameters(), lr=VAE_LR, **adam)


def warm_up(images: torch.Tensor, device: torch.device, steps: int) -> None:
    """A few throwaway VAE steps, so that the first timed loop does not pay for library start-up
    (thread pool, MKL and allocator initialisation)."""
    model, optimizer = new_vae(device)
    floor_vae_steps(model, optimizer, cycle(presliced(images[: 4 * BATCH_SIZE])), steps)


def measure_vae(images: torch.Tensor, sizes: Sizes, device: torch.device) -> dict[str, float]:
    """Seconds of one epoch over `images` of the reference loop (over the same images from
    torchvision's dataset), of labutils' loop, and of the floor."""
    loader = reference_loader(transforms.ToTensor(), sizes.train_images, device, BATCH_SIZE)
    warm_up(images, device, sizes.warmup_steps)

    labutils.seed_everything(0)
    reference_model = ReferenceVAE().to(device)
    assert count_parameters(reference_model) == count_parameters(labutils.VAE(LATENT_DIM))
    optimizer = torch.optim.Adam(reference_model.parameters(), lr=VAE_LR)
    reference = timed(
        lambda: reference_vae_epoch(reference_model, optimizer, loader, device), device
    )

    ours = timed(lambda: labutils_vae_epoch(images, device), device)

    model, optimizer = new_vae(device)
    batches = presliced(images)
    floor = timed(lambda: floor_vae_steps(model, optimizer, iter(batches), len(batches)), device)
    return {
        "images": images.shape[0],
        "reference_train_loss": reference.value,  # per image: the two loops learn alike
        "labutils_train_loss": ours.value,
        "reference_epoch_s": reference.wall,
        "labutils_epoch_s": ours.wall,
        "floor_epoch_s": floor.wall,
        "reference_epoch_cpu_s": reference.cpu,
        "labutils_epoch_cpu_s": ours.cpu,
        "floor_epoch_cpu_s": floor.cpu,
    }


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# DCGAN: labutils' gan_step and the pytorch/examples dcgan loop structure, same models


def new_gan(
    width: int, device: torch.device, layout: torch.memory_format | None = None, **adam: object
) -> Gan:
    """A seeded generator/discriminator pair of `width` and their Adam optimizers (DCGAN recipe);
    the models in PyTorch's default memory layout unless `layout` names another."""
    labutils.seed_everything(0)
    generator = labutils.Generator(nz=NZ, width=width).to(device)
    discriminator = labutils.Discriminator(width=width).to(device)
    if layout is not None:
        generator.to(memory_format=layout)
        discriminator.to(memory_format=layout)
    opt_g = torch.optim.Adam(generator.parameters(), lr=GAN_LR, betas=GAN_BETAS, **adam)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=GAN_LR, betas=GAN_BETAS, **adam)
    return generator, discriminator, opt_g, opt_d


def gan_batches(
    gan: Gan,
    batches: Iterator[tuple[torch.Tensor, ...]],
    count: int,
    step: Callable[..., dict[str, torch.Tensor]] = labutils.gan_step,
) -> list[dict[str, torch.Tensor]]:
    """`count` calls of `step` (labutils' `gan_step` unless told), one per batch; their metrics
    stay tensors, as in `fit`."""
    return [step(*gan, images) for _, (images,) in zip(range(count), batches, strict=False)]


def labutils_gan_batches(gan: Gan, images: torch.Tensor, count: int) -> None:
    """`count` batches of `labutils.fit_dcgan` (one epoch of `count` x 64 images, no monitor), as
    chapter 3 trains; it makes its own Adam optimizers with the same settings as `new_gan`'s."""
    generator, discriminator, _, _ = gan
    fixed_noise = torch.randn(64, NZ, device=images.device)  # (64, nz), its per-epoch snapshot
    with contextlib.redirect_stdout(io.StringIO()):  # fit prints one summary line per epoch
        labutils.fit_dcgan(
            generator,
            discriminator,
            images[: count * GAN_BATCH_SIZE],
            epochs=1,
            fixed_noise=fixed_noise,
            batch_size=GAN_BATCH_SIZE,
            monitor=False,
        )


def reference_gan_batches(
    gan: Gan,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    count: int,
    device: torch.device,
) -> None:
    """`count` iterations of the pytorch/examples dcgan loop: D on real, D on fake.detach(), one
    D step, then G on D(fake); `.item()` of D(x), D(G(z)) and the losses every iteration (the
    example prints them). Its D ends in a sigmoid with BCELoss; ours outputs logits, so the loss
    here is BCEWithLogitsLoss, the same computation."""
    generator, discriminator, opt_g, opt_d = gan
    criterion = nn.BCEWithLogitsLoss()
    for _, (data, _labels) in zip(range(count), batches, strict=False):
        discriminator.zero_grad()
        real = data.to(device)  # (N, 1, 28, 28) in [-1, 1], from Normalize((0.5,), (0.5,))
        label = torch.full((real.shape[0],), 1.0, device=device)  # (N,)
        output = discriminator(real)  # (N,)
        err_d_real = criterion(output, label)
        err_d_real.backward()
        d_x = output.mean().item()
        noise = torch.randn(real.shape[0], NZ, device=device)  # (N, nz)
        fake = generator(noise)  # (N, 1, 28, 28)
        label.fill_(0.0)
        output = discriminator(fake.detach())
        err_d_fake = criterion(output, label)
        err_d_fake.backward()
        d_g_z1 = output.mean().item()
        err_d = err_d_real + err_d_fake
        opt_d.step()

        generator.zero_grad()
        label.fill_(1.0)
        output = discriminator(fake)
        err_g = criterion(output, label)
        err_g.backward()
        d_g_z2 = output.mean().item()
        opt_g.step()
        _ = (err_d.item(), err_g.item(), d_x, d_g_z1, d_g_z2)  # what the example logs


def endless_loader(loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of a DataLoader, starting a new (reshuffled) epoch when one ends."""
    while True:
        yield from loader


def endless_minibatches(images: torch.Tensor) -> Iterator[tuple[torch.Tensor, ...]]:
    """labutils' shuffled minibatches of device-resident images, epoch after epoch."""
    order = torch.Generator().manual_seed(0)
    while True:
        yield from labutils.minibatches(images, batch_size=GAN_BATCH_SIZE, generator=order)


def gan_timing(run: Callable[[int], object], sizes: Sizes, device: torch.device) -> Timing:
    """Time `run(count)` over `sizes.gan_batches` batches, after `sizes.warmup_steps` untimed
    ones."""
    run(sizes.warmup_steps)
    return timed(lambda: run(sizes.gan_batches), device)


def measure_dcgan(
    width: int, images: torch.Tensor, sizes: Sizes, device: torch.device
) -> dict[str, float]:
    """DCGAN training throughput of labutils and of the reference loop at one width."""
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = endless_loader(reference_loader(normalize, sizes.train_images, device, GAN_BATCH_SIZE))
    gan = new_gan(width, device)
    reference = gan_timing(lambda n: reference_gan_batches(gan, loader, n, device), sizes, device)
    gan = new_gan(width, device)
    ours = gan_timing(lambda n: labutils_gan_batches(gan, images, n), sizes, device)
    count = sizes.gan_batches * GAN_BATCH_SIZE
    return {
        "width": width,
        "labutils_images_per_s": count / ours.wall,
        "reference_images_per_s": count / reference.wall,
        "ratio_to_reference": reference.wall / ours.wall,
        "labutils_images_per_cpu_s": count / ours.cpu,
        "reference_images_per_cpu_s": count / reference.cpu,
    }


# ---------------------------------------------------------------------------------------------
# Variants: what might make labutils' loops faster, each against its baseline in the same run


def vae_variants(images: torch.Tensor, sizes: Sizes, device: torch.device) -> dict:
    """Floor-style VAE steps with Adam's default implementation (on the CPU a for-loop over the
    parameters; foreach is the default on CUDA only), with fused=True, with foreach=True, and
    the default with a single intra-op thread."""
    batches = presliced(images)
    runs = {
        "adam_default": new_vae(device),
        "adam_fused": new_vae(device, fused=True),
        "adam_foreach": new_vae(device, foreach=True),
    }
    blocks: dict[str, Callable[[], object]] = {
        name: block_of_vae_steps(model, optimizer, batches, sizes.vae_block_steps)
        for name, (model, optimizer) in runs.items()
    }
    single = block_of_vae_steps(*new_vae(device), batches, sizes.vae_block_steps)
    blocks["one_thread"] = lambda: with_threads(1, single)
    return per_epoch(interleaved(blocks, sizes.rounds, device), sizes.vae_block_steps, batches)


def block_of_vae_steps(
    model: labutils.VAE, optimizer: torch.optim.Optimizer, batches: list, steps: int
) -> Callable[[], None]:
    """A block of `steps` floor-style VAE updates that continues where the last block stopped."""
    stream = cycle(batches)
    return lambda: floor_vae_steps(model, optimizer, stream, steps)


def with_threads(count: int, block: Callable[[], object]) -> object:
    """Run `block()` with `count` intra-op threads."""
    with num_threads(count):
        return block()


def per_epoch(results: dict, steps: int, batches: list) -> dict:
    """Add each block's time scaled to a full epoch of `len(batches)` steps."""
    for result in results.values():
        result["epoch_s"] = result["median_s"] / steps * len(batches)
    return results


def gather_variants(images: torch.Tensor, sizes: Sizes, device: torch.device) -> dict:
    """labutils' data path per epoch: one index gather per batch (minibatches) against one
    shuffled copy per epoch cut into contiguous slices; both only produce the batches."""
    order = torch.Generator().manual_seed(0)

    def gather() -> None:
        for (batch,) in labutils.minibatches(images, batch_size=BATCH_SIZE, generator=order):
            batch.sum()  # touch the batch, as the first layer would

    def copy_then_slice() -> None:
        perm = torch.randperm(images.shape[0], generator=order).to(images.device)
        for batch in images[perm].split(BATCH_SIZE):
            batch.sum()

    blocks = {"index_per_batch": gather, "copy_per_epoch": copy_then_slice}
    return interleaved(blocks, sizes.rounds, device)


def evaluation_variants(sizes: Sizes, device: torch.device) -> dict:
    """`evaluate_vae` on the test split at several batch sizes (labutils' default is 2000)."""
    test_images, _ = labutils.load_mnist("test", device, limit=sizes.eval_images, root=DATA_ROOT)
    model, _ = new_vae(device)
    blocks = {
        f"batch_{size}": (lambda s=size: labutils.evaluate_vae(model, test_images, batch_size=s))
        for size in (2000, 128, 500, 10000)
    }
    return interleaved(blocks, sizes.rounds, device)


def gan_step_all_gradients(
    generator: labutils.Generator,
    discriminator: labutils.Discriminator,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """`labutils.gan_step` as it was before it passed `inputs=` to G's backward: G's loss then
    also computes D's weight gradients, which the next `zero_grad` throws away. Same updates."""
    real = images * 2 - 1  # (N, 1, 28, 28)
    fake = generator(torch.randn(real.shape[0], generator.nz, device=real.device))  # (N, 1, 28, 28)
    discriminator_optimizer.zero_grad(set_to_none=True)
    loss_d = labutils.discriminator_loss(discriminator(real), discriminator(fake.detach()))
    loss_d.backward()
    discriminator_optimizer.step()
    generator_optimizer.zero_grad(set_to_none=True)
    loss_g = labutils.generator_loss(discriminator(fake))
    loss_g.backward()
    generator_optimizer.step()
    return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}


def gan_variants(width: int, images: torch.Tensor, sizes: Sizes, device: torch.device) -> dict:
    """`gan_step` on channels-last models (as `fit_dcgan` trains on the CPU), on models in the
    default NCHW layout, computing D's gradients in G's update too, both of those (labutils
    before this change), with fused Adam, and with one thread; in images/s."""
    count = sizes.gan_block_batches
    batches = endless_minibatches(images)
    cl = torch.channels_last
    candidates = {
        "labutils": (labutils.gan_step, new_gan(width, device, layout=cl)),
        "nchw_models": (labutils.gan_step, new_gan(width, device)),
        "d_gradients_too": (gan_step_all_gradients, new_gan(width, device, layout=cl)),
        "nchw_and_d_gradients": (gan_step_all_gradients, new_gan(width, device)),
        "adam_fused": (labutils.gan_step, new_gan(width, device, layout=cl, fused=True)),
        "one_thread": (labutils.gan_step, new_gan(width, device, layout=cl)),
    }
    blocks: dict[str, Callable[[], object]] = {
        name: (lambda step=step, gan=gan: gan_batches(gan, batches, count, step))
        for name, (step, gan) in candidates.items()
    }
    one = blocks["one_thread"]
    blocks["one_thread"] = lambda: with_threads(1, one)
    for block in blocks.values():  # untimed warm-up of each (allocations, first-call kernels)
        block()
    results = interleaved(blocks, sizes.rounds, device)
    for result in results.values():
        result["images_per_s"] = count * GAN_BATCH_SIZE / result["median_s"]
    return results


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, object]:
    """What ran the benchmark: CPU model, cores, versions, device, threads, load."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
        "device": str(labutils.get_device()),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "load_average_start": load_average(),
    }


def cpu_model() -> str:
    """The `model name` line of /proc/cpuinfo, else what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages: above the core count, other work competed for them."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def table(results: dict) -> str:
    """The headline numbers, their ratios and the variants as a text table."""
    return "\n\n".join(
        [vae_table(results), dcgan_table(results["dcgan"]), *variant_tables(results)]
    )


def vae_table(results: dict) -> str:
    """VAE epoch seconds (wall and CPU) of the three loops and labutils' two ratios."""
    vae = results["vae"]
    rows = [
        f"VAE, one epoch of {vae['images']} images      wall s    CPU s   ratio (wall)",
        row("reference loop (DataLoader)", vae["reference_epoch_s"], vae["reference_epoch_cpu_s"]),
        row("labutils fit + vae_step", vae["labutils_epoch_s"], vae["labutils_epoch_cpu_s"])
        + f"   {results['vae_epoch_ratio_to_reference']:.2f} x reference",
        row("compute floor (pre-sliced)", vae["floor_epoch_s"], vae["floor_epoch_cpu_s"])
        + f"   labutils = {results['vae_epoch_ratio_to_floor']:.2f} x floor",
    ]
    return "\n".join(rows)


def row(name: str, wall: float, cpu: float) -> str:
    """One line of the VAE table."""
    return f"  {name:<32}{wall:9.2f}{cpu:9.2f}"


def dcgan_table(gans: list[dict]) -> str:
    """DCGAN images/s of labutils and the reference at each width, and their ratio."""
    rows = ["DCGAN training, images/s       labutils  reference  labutils/reference  (per CPU s)"]
    for gan in gans:
        rows.append(
            f"  width {gan['width']:<22}{gan['labutils_images_per_s']:9.0f}"
            f"{gan['reference_images_per_s']:11.0f}{gan['ratio_to_reference']:20.2f}"
            f"  ({gan['labutils_images_per_cpu_s']:.0f} / {gan['reference_images_per_cpu_s']:.0f})"
        )
    return "\n".join(rows)


def variant_tables(results: dict) -> list[str]:
    """One table per variant group: each candidate's time (or images/s) and its speed relative
    to the group's first row, by wall time and by CPU time, with the wall times' spread."""
    tables = []
    for group, variants in results.get("variants", {}).items():
        rows = [f"variants: {group}{'speed vs first row: wall  CPU  spread':>{78 - len(group)}}"]
        base = next(iter(variants.values()))
        for name, result in variants.items():
            value, unit = variant_value(result)
            rows.append(
                f"  {name:<22}{value:10.2f} {unit:<13}"
                f"{base['median_s'] / result['median_s']:14.2f}"
                f"{base['median_cpu_s'] / result['median_cpu_s']:6.2f}{result['spread']:7.0%}"
            )
        tables.append("\n".join(rows))
    return tables


def variant_value(result: dict) -> tuple[float, str]:
    """The number a variant is shown by: images/s, seconds per epoch, or seconds per block."""
    if "images_per_s" in result:
        return result["images_per_s"], "images/s"
    if "epoch_s" in result:
        return result["epoch_s"], "s per epoch"
    return result["median_s"], "s"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=BOOK_GAN_WIDTH, help="DCGAN width (book: 24)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--no-variants", action="store_true", help="headline numbers only")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's)")
    parser.add_argument("--output", type=Path, help="JSON path (default: results/latest.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run every measurement, print the table, write the JSON; return the results."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = Sizes(args.quick)
    os.environ[labutils.train.PROGRESS_ENV] = "0"  # no progress bars inside timed fits
    device = labutils.get_device()
    labutils.prepare_mnist(DATA_ROOT)
    start = time.perf_counter()
    results: dict = {"machine": machine(), "quick": args.quick}

    images, _ = labutils.load_mnist("train", device, limit=sizes.train_images, root=DATA_ROOT)
    results["vae"] = measure_vae(images, sizes, device)
    vae = results["vae"]
    results["vae_epoch_ratio_to_reference"] = vae["labutils_epoch_s"] / vae["reference_epoch_s"]
    results["vae_epoch_ratio_to_floor"] = vae["labutils_epoch_s"] / vae["floor_epoch_s"]
    results["vae_epoch_cpu_ratio_to_reference"] = (
        vae["labutils_epoch_cpu_s"] / vae["reference_epoch_cpu_s"]
    )
    results["vae_epoch_cpu_ratio_to_floor"] = vae["labutils_epoch_cpu_s"] / vae["floor_epoch_cpu_s"]

    widths = [args.width, *(w for w in EXTRA_WIDTHS if w != args.width)]
    results["dcgan"] = [measure_dcgan(w, images, sizes, device) for w in widths]
    results["dcgan_batches_timed"] = sizes.gan_batches

    if not args.no_variants:
        results["variants"] = {
            "vae_optimizer_and_threads": vae_variants(images, sizes, device),
            "minibatch_data_path": gather_variants(images, sizes, device),
            "vae_evaluation_batch_size": evaluation_variants(sizes, device),
            f"dcgan_width_{args.width}": gan_variants(args.width, images, sizes, device),
        }
    results["machine"]["load_average_end"] = load_average()
    results["seconds_total"] = time.perf_counter() - start

    print(table(results))
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\n{results['seconds_total']:.0f} s in all; written to {output}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
