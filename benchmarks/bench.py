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
The measurements are in `vae.py` and `dcgan.py`, how a run is timed in `timing.py`; this module
runs them and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.benchmark import Compare

import labutils

from .dcgan import dcgan_speedups, measure_dcgan
from .timing import DATA_ROOT, FULL, QUICK, REPO
from .vae import measure_vae

RESULTS = REPO / "benchmarks" / "results"


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
