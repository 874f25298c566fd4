"""Time labutils' training loops against pytorch/examples-style loops and the compute floor.

One process, one run, the same MNIST training images and the same models:

1. VAE (784-400-20, batch 128, Adam 1e-3), one epoch of
   - the reference loop, written the way pytorch/examples `vae/main.py` writes it (torchvision
     MNIST + ToTensor + DataLoader, sigmoid outputs, summed BCE, `loss.item()` every step);
   - labutils' `fit` with `vae_step`, on the device-resident tensor from `load_mnist`;
   - the compute floor: the same forward/backward/Adam work on pre-sliced batches, nothing else.
   The course's target: labutils' epoch takes at most half the reference's.
2. DCGAN at chapter 3's settings (`COURSE_MODELS["dcgan"]`): images/s of `fit_dcgan`, of
   `fit_dcgan` without its one speed trick (`labutils.recipes.channels_last`, CPU only), and of
   the pytorch/examples `dcgan` loop structure, each over the same number of batches.

Each is timed by `torch.utils.benchmark.Timer.blocked_autorange`: one untimed run (warm-up),
then runs until `min_run_time` seconds have passed, at a fixed thread count, synchronising the
GPU around each run; the median run is reported. A VAE epoch is long: it is timed once after its
warm-up. A DCGAN run (40 batches) is repeated for at least 10 s.

Prints the table and writes it as JSON (benchmarks/results/latest.json, or quick.json with
--quick). Run from the repository root: `python -m benchmarks.bench [--quick] [--threads N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.benchmark import Compare, Measurement, Timer
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

import labutils
from labutils.course import COURSE_MODELS

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / "data"
RESULTS = REPO / "benchmarks" / "results"
DCGAN = COURSE_MODELS["dcgan"]  # chapter 3's nz, width and batch size
VAE_BATCH_SIZE = 128  # pytorch/examples vae/main.py's, and labutils' default
LATENT_DIM = 20
VAE_LR = 1e-3
GAN_LR = 2e-4  # Radford et al.'s, as in fit_dcgan
GAN_BETAS = (0.5, 0.999)
Gan = tuple[labutils.Generator, labutils.Discriminator]


class Sizes(NamedTuple):
    """How much work the measurements do."""

    train_images: int | None  # None: all 60,000 training images
    gan_batches: int  # DCGAN batches per timed run
    gan_min_run_s: float  # DCGAN runs are repeated for at least this long


FULL = Sizes(train_images=None, gan_batches=40, gan_min_run_s=10.0)
QUICK = Sizes(train_images=1024, gan_batches=2, gan_min_run_s=0.0)  # checks that it works


def measure(
    run: Callable[[], object], group: str, name: str, threads: int, min_run_s: float
) -> Measurement:
    """Time `run()` with PyTorch's Timer: one untimed run, then runs for `min_run_s` seconds (at
    least one). The Measurement's `median` is the seconds of one run."""
    timer = Timer(
        "run()",
        globals={"run": run},
        label=group,
        sub_label=name,
        description="median time per run",
        num_threads=threads,
    )
    return timer.blocked_autorange(min_run_time=min_run_s)


def reference_loader(transform: transforms.Compose, sizes: Sizes, batch_size: int) -> DataLoader:
    """`DataLoader(MNIST(root="data", train=True, transform=...), batch_size, shuffle=True)`,
    with pytorch/examples' extra arguments on CUDA (one worker, pinned memory)."""
    dataset = datasets.MNIST(root=str(DATA_ROOT), train=True, download=False, transform=transform)
    if sizes.train_images is not None:
        dataset = Subset(dataset, range(sizes.train_images))
    extra = {"num_workers": 1, "pin_memory": True} if torch.cuda.is_available() else {}
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, **extra)


def quiet(run: Callable[[], object]) -> object:
    """`run()` without its printed lines (`fit` prints one summary line per epoch)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run()


# ---------------------------------------------------------------------------------------------
# VAE: the reference loop (pytorch/examples vae/main.py style), labutils, and the floor


class ReferenceVAE(nn.Module):
    """The VAE of pytorch/examples `vae/main.py`: 784-400-20 encoder, 20-400-784 decoder with
    sigmoid outputs. The same layers as `labutils.VAE(20)`."""

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


def reference_vae_epoch(
    model: ReferenceVAE, optimizer: torch.optim.Optimizer, loader: DataLoader, device: torch.device
) -> float:
    """One epoch of the example's `train()`: move, zero, forward, loss (summed BCE + KL),
    backward, `.item()`, step. Returns the mean loss per image, as the example prints it."""
    model.train()
    train_loss = 0.0
    for data, _ in loader:
        data = data.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        bce = F.binary_cross_entropy(recon, data.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(loader.dataset)


def new_vae(device: torch.device) -> tuple[labutils.VAE, torch.optim.Adam]:
    """A fresh, seeded labutils.VAE(20) and its Adam optimizer."""
    labutils.seed_everything(0)
    model = labutils.VAE(LATENT_DIM).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=VAE_LR)


def labutils_vae_epoch(
    model: labutils.VAE, optimizer: torch.optim.Optimizer, images: torch.Tensor
) -> float:
    """One epoch of `labutils.fit` with `vae_step`; the mean training loss per image."""
    history = quiet(
        lambda: labutils.fit(lambda x: labutils.vae_step(model, optimizer, x), images, epochs=1)
    )
    return history["train_total"][0]


def floor_vae_epoch(
    model: labutils.VAE, optimizer: torch.optim.Optimizer, batches: list[torch.Tensor]
) -> None:
    """The bare work of an epoch of VAE updates: zero, forward, loss, backward, step."""
    for x in batches:
        optimizer.zero_grad(set_to_none=True)
        logits, mu, logvar = model(x)
        labutils.vae_loss(logits, x, mu, logvar).total.backward()
        optimizer.step()


def measure_vae(images: torch.Tensor, sizes: Sizes, threads: int) -> tuple[dict, list[Measurement]]:
    """Seconds of one epoch of the three loops over the same images, and the first epoch's mean
    loss of the two real loops (they agree when both do the same learning); and the Timer's
    measurements."""
    device = images.device
    labutils.seed_everything(0)
    reference_model = ReferenceVAE().to(device)
    reference_optimizer = torch.optim.Adam(reference_model.parameters(), lr=VAE_LR)
    loader = reference_loader(transforms.ToTensor(), sizes, VAE_BATCH_SIZE)
    model, optimizer = new_vae(device)
    floor_model, floor_optimizer = new_vae(device)
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
    batches = list(images[order.to(device)].split(VAE_BATCH_SIZE))  # (<= 128, 1, 28, 28) each

    losses: dict[str, list[float]] = {"reference": [], "labutils": []}
    runs = {
        "reference loop (DataLoader)": lambda: losses["reference"].append(
            reference_vae_epoch(reference_model, reference_optimizer, loader, device)
        ),
        "labutils fit + vae_step": lambda: losses["labutils"].append(
            labutils_vae_epoch(model, optimizer, images)
        ),
        "compute floor (pre-sliced)": lambda: floor_vae_epoch(
            floor_model, floor_optimizer, batches
        ),
    }
    group = f"VAE, one epoch of {images.shape[0]} images"
    times = {name: measure(run, group, name, threads, 0.0) for name, run in runs.items()}
    reference, ours, floor = times.values()
    results = {
        "images": images.shape[0],
        "reference_epoch_s": reference.median,
        "labutils_epoch_s": ours.median,
        "floor_epoch_s": floor.median,
        "reference_first_epoch_loss": losses["reference"][0],
        "labutils_first_epoch_loss": losses["labutils"][0],
        "runs_s": {name: m.times for name, m in times.items()},  # each timed run
    }
    return results, list(times.values())


# ---------------------------------------------------------------------------------------------
# DCGAN: fit_dcgan, with and without channels-last, and the pytorch/examples dcgan loop


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
                "benchmarks/bench.py's channels-last comparison to what fit_dcgan does now."
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


# ---------------------------------------------------------------------------------------------
# Report


def machine(threads: int, device: torch.device) -> dict[str, object]:
    """What ran the benchmark. The CPU is described by what decides PyTorch's CPU kernels: the
    architecture and the vector instructions PyTorch dispatches to (e.g. AVX2, AVX512)."""
    return {
        "cpu_architecture": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "threads": threads,
        "load_average_start": load_average(),
    }


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages: above the core count, other work competed for them."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def summary(results: dict) -> str:
    """The ratios the course reports, under the Timer's table."""
    vae, gan = results["vae"], results["dcgan"]["images_per_s"]
    lines = [
        f"VAE epoch, labutils / reference: {results['vae_epoch_ratio_to_reference']:.2f}"
        " (target <= 0.5)",
        f"VAE epoch, labutils / floor:     {results['vae_epoch_ratio_to_floor']:.2f}",
        f"VAE first-epoch loss per image:  reference {vae['reference_first_epoch_loss']:.1f},"
        f" labutils {vae['labutils_first_epoch_loss']:.1f}",
    ]
    lines += [f"DCGAN images/s, {name + ':':<33}{speed:8.0f}" for name, speed in gan.items()]
    lines += [f"{name}: x{ratio:.2f}" for name, ratio in results["dcgan_speedups"].items()]
    return "\n".join(lines)


def dcgan_speedups(images_per_s: dict[str, float]) -> dict[str, float]:
    """fit_dcgan's speed relative to the reference loop and to itself without channels-last."""
    ours = images_per_s["labutils fit_dcgan"]
    speedups = {"fit_dcgan / reference": ours / images_per_s["reference loop (DataLoader)"]}
    if "fit_dcgan without channels_last" in images_per_s:
        speedups["channels_last"] = ours / images_per_s["fit_dcgan without channels_last"]
    return speedups


def positive_int(text: str) -> int:
    """A thread count from the command line: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number, e.g. 1 or 2")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny run that checks the script")
    parser.add_argument(
        "--threads", type=positive_int, help="intra-op threads (default: PyTorch's)"
    )
    parser.add_argument("--output", type=Path, help="JSON path (default: results/latest.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run every measurement, print the tables, write the JSON; return the results."""
    args = parse_args(argv)
    threads = args.threads or torch.get_num_threads()
    sizes = QUICK if args.quick else FULL
    device = labutils.get_device()
    labutils.prepare_mnist(DATA_ROOT)
    start = time.perf_counter()
    results: dict = {"machine": machine(threads, device), "quick": args.quick}

    images, _ = labutils.load_mnist("train", device, limit=sizes.train_images, root=DATA_ROOT)
    results["vae"], vae_times = measure_vae(images, sizes, threads)
    results["dcgan"], dcgan_times = measure_dcgan(images, sizes, threads)
    vae = results["vae"]
    results["vae_epoch_ratio_to_reference"] = vae["labutils_epoch_s"] / vae["reference_epoch_s"]
    results["vae_epoch_ratio_to_floor"] = vae["labutils_epoch_s"] / vae["floor_epoch_s"]
    results["dcgan_speedups"] = dcgan_speedups(results["dcgan"]["images_per_s"])
    results["machine"]["load_average_end"] = load_average()
    results["seconds_total"] = time.perf_counter() - start

    print(Compare(vae_times + dcgan_times), summary(results), sep="\n")
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\n{results['seconds_total']:.0f} s in all; written to {output}")
    return results


if __name__ == "__main__":
    main()
