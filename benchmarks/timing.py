"""How the benchmarks time a run and feed the reference loops: the sizes of a full and a quick
run, PyTorch's Timer, the `DataLoader` of pytorch/examples, and silencing `fit`'s lines."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.benchmark import Measurement, Timer
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO / "data"


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
