"""The DCGAN benchmark at chapter 3's settings: images/s of `fit_dcgan`, of `fit_dcgan` without
its one speed trick (`labutils.recipes.channels_last`, CPU only), and of the pytorch/examples
`dcgan` loop, each over the same number of batches."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from unittest import mock

import torch
from torch import nn
from torch.utils.benchmark import Measurement
from torch.utils.data import DataLoader
from torchvision import transforms

import labutils
from labutils.course import COURSE_MODELS

from .timing import Sizes, measure, quiet, reference_loader

DCGAN = COURSE_MODELS["dcgan"]  # chapter 3's nz, width and batch size
GAN_LR = 2e-4  # Radford et al.'s, as in fit_dcgan
GAN_BETAS = (0.5, 0.999)
Gan = tuple[labutils.Generator, labutils.Discriminator]


def new_gan(device: torch.device) -> Gan:
    """A seeded generator/discriminator pair at chapter 3's settings."""
    labutils.seed_everything(0)
    generator = labutils.Generator(nz=DCGAN["nz"], width=DCGAN["width"]).to(device)
    return generator, labutils.Discriminator(width=DCGAN["width"]).to(device)


def labutils_gan_run(gan: Gan, images: torch.Tensor) -> None:
    """One epoch of `fit_dcgan` over `images`, as chapter 3 trains (no monitor)."""
    noise = torch.randn(64, DCGAN["nz"], device=images.device)  # (64, nz), the epoch's snapshot
    quiet(
        lambda: labutils.fit_dcgan(
            *gan, images, epochs=1, fixed_noise=noise, batch_size=DCGAN["batch_size"], monitor=False
        )
    )


def without_channels_last(run: Callable[[], object]) -> Callable[[], object]:
    """`run` with `labutils.recipes.channels_last` switched off: the models keep PyTorch's
    default memory layout while `fit_dcgan` trains."""

    def patched() -> object:
        with mock.patch(
            "labutils.recipes.channels_last", return_value=contextlib.nullcontext()
        ) as switch:
            result = run()
        if not switch.called:
            raise RuntimeError(
                "fit_dcgan no longer calls labutils.recipes.channels_last: update "
                "benchmarks/dcgan.py's channels-last comparison to what fit_dcgan does now."
            )
        return result

    return patched


def reference_gan_run(
    gan: Gan, batches: Iterator[tuple[torch.Tensor, torch.Tensor]], count: int
) -> None:
    """`count` iterations of the pytorch/examples dcgan loop: D on real, D on fake.detach(), one
    D step, then G on D(fake); `.item()` of D(x), D(G(z)) and the losses every iteration (the
    example prints them). Its D ends in a sigmoid with BCELoss; ours outputs logits, so the loss
    here is BCEWithLogitsLoss, the same computation."""
    generator, discriminator = gan
    device = next(generator.parameters()).device
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=GAN_LR, betas=GAN_BETAS)
    opt_g = torch.optim.Adam(generator.parameters(), lr=GAN_LR, betas=GAN_BETAS)
    criterion = nn.BCEWithLogitsLoss()
    for _, (data, _labels) in zip(range(count), batches, strict=False):
        discriminator.zero_grad()
        real = data.to(device)  # (N, 1, 28, 28) in [-1, 1], from Normalize((0.5,), (0.5,))
        label = torch.full((real.shape[0],), 1.0, device=device)  # (N,)
        output = discriminator(real)  # (N,)
        err_d_real = criterion(output, label)
        err_d_real.backward()
        d_x = output.mean().item()
        fake = generator(torch.randn(real.shape[0], DCGAN["nz"], device=device))  # (N, 1, 28, 28)
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


def endless(loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of a DataLoader, starting a new (reshuffled) epoch when one ends."""
    while True:
        yield from loader


def measure_dcgan(
    images: torch.Tensor, sizes: Sizes, threads: int
) -> tuple[dict, list[Measurement]]:
    """Images/s of `fit_dcgan`, of `fit_dcgan` without channels-last (on the CPU, where it
    applies), and of the reference loop, over `sizes.gan_batches` batches each; and the Timer's
    measurements."""
    count = sizes.gan_batches * DCGAN["batch_size"]
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    batches = endless(reference_loader(normalize, sizes, DCGAN["batch_size"]))
    ours, plain, reference = (new_gan(images.device) for _ in range(3))
    runs = {"labutils fit_dcgan": lambda: labutils_gan_run(ours, images[:count])}
    if images.device.type == "cpu":
        runs["fit_dcgan without channels_last"] = without_channels_last(
            lambda: labutils_gan_run(plain, images[:count])
        )
    runs["reference loop (DataLoader)"] = lambda: reference_gan_run(
        reference, batches, sizes.gan_batches
    )
    group = f"DCGAN width {DCGAN['width']}, {sizes.gan_batches} batches of {DCGAN['batch_size']}"
    times = [measure(run, group, name, threads, sizes.gan_min_run_s) for name, run in runs.items()]
    images_per_s = {m.task_spec.sub_label: count / m.median for m in times}
    results = {
        "width": DCGAN["width"],
        "batch_size": DCGAN["batch_size"],
        "batches_per_run": sizes.gan_batches,
        "images_per_s": images_per_s,
        "runs_s": {m.task_spec.sub_label: m.times for m in times},  # each timed run
    }
    return results, times


def dcgan_speedups(images_per_s: dict[str, float]) -> dict[str, float]:
    """fit_dcgan's speed relative to the reference loop and to itself without channels-last."""
    ours = images_per_s["labutils fit_dcgan"]
    speedups = {"fit_dcgan / reference": ours / images_per_s["reference loop (DataLoader)"]}
    if "fit_dcgan without channels_last" in images_per_s:
        speedups["channels_last"] = ours / images_per_s["fit_dcgan without channels_last"]
    return speedups
