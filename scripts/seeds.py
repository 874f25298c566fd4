"""Train the models behind chapter 4's conclusions from several seeds, measure their samples as
chapter 4 does, and write the receipt the chapter reads (labutils/seeds.json).

    make seeds                 # or: python scripts/seeds.py

The models are the fully connected VAE with the convolutional VAE's training budget, the
convolutional VAE and DCGAN, each trained in full mode from seeds 0, 1 and 2 (seed 0 is the run the
chapters make) with the course's recipes, then sampled (10,000 images, the chapter's sampling
seeds) and scored against the 10,000 test images: FID, precision, recall, density, coverage. The
spread over seeds is the training noise that chapter 4's per-part intervals do not contain.

The receipt records, besides the numbers, the SHA-256 of the source files that determine them
(`SOURCES`); tests/unit/test_seeds.py fails when that hash no longer matches the code, so that the
chapter never quotes numbers of code that has changed since. The training does not fit in the
book's 10-minute build, hence a separate target. Every model is trained afresh (into
checkpoints/seeds/), never loaded from a checkpoint that older code may have written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import time
from pathlib import Path

import torch

from labutils.classifier import classifier_outputs, load_classifier
from labutils.course import SEED_RECEIPT, trained
from labutils.data import load_mnist
from labutils.device import get_device
from labutils.metrics import fit_gaussian, manifold, sample_scores
from labutils.sampling import sample_dcgan, sample_vae

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("vae_matched", "conv_vae", "dcgan")
SEEDS = (0, 1, 2)
SAMPLES = 10_000
SAMPLING_SEEDS = {"vae_matched": 2, "conv_vae": 2, "dcgan": 3}  # chapter 4's seeded(...)
# What the numbers depend on: data, models, objectives, training, the course's settings, the
# measuring instrument and the measurements, and this script.
SOURCES = [
    "labutils/data.py",
    "labutils/device.py",
    "labutils/models.py",
    "labutils/losses.py",
    "labutils/steps.py",
    "labutils/loop.py",
    "labutils/recipes.py",
    "labutils/course.py",
    "labutils/metrics.py",
    "labutils/sampling.py",
    "labutils/classifier.py",
    "labutils/mnist_classifier.pt",
    "scripts/seeds.py",
]


def source_hash(root: Path = ROOT) -> str:
    """SHA-256 over the files in `SOURCES`, each as its path and its bytes (line endings made
    \\n, so that a Windows checkout hashes the same)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0")
        digest.update((root / name).read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def commit() -> str | None:
    """The checkout's commit, with '+changes' when a source file differs from it (None outside
    a git checkout)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", *SOURCES],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if changed else "")


def processor() -> str:
    """The CPU's model name (Linux), or what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def draw(name: str, model: torch.nn.Module) -> torch.Tensor:
    """SAMPLES images from a trained model, with chapter 4's sampling seed for it."""
    generator = torch.Generator().manual_seed(SAMPLING_SEEDS[name])
    sampler = sample_dcgan if name == "dcgan" else sample_vae
    return sampler(model, SAMPLES, generator)


def main() -> None:
    """Train, sample and score every model from every seed; write the receipt."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: a GPU if present)")
    parser.add_argument("--output", type=Path, default=SEED_RECEIPT, help="the receipt (JSON)")
    args = parser.parse_args()
    start = time.perf_counter()
    device = get_device(args.device)
    train_images, _ = load_mnist("train", device)
    test_images, _ = load_mnist("test", device)
    classifier = load_classifier(device)
    test_features, _ = classifier_outputs(classifier, test_images)  # (10000, 64)
    reference, real = fit_gaussian(test_features), manifold(test_features)
    runs: dict[str, list[dict]] = {name: [] for name in MODELS}
    for seed in SEEDS:
        for name in MODELS:
            began = time.perf_counter()
            model = trained(
                name,
                train_images,
                test_images,
                checkpoints=ROOT / "checkpoints" / "seeds",
                smoke=False,
                retrain=True,
                seed=seed,
            ).model
            seconds = time.perf_counter() - began
            features, _ = classifier_outputs(classifier, draw(name, model))  # (SAMPLES, 64)
            scores = sample_scores(features, reference, real)
            runs[name].append({"seed": seed, **scores, "training_seconds": round(seconds, 1)})
            print(
                f"seed {seed} {name:<12} "
                + ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
                + f" ({seconds:.0f} s of training)",
                flush=True,
            )
    receipt = {
        "written_by": "make seeds (scripts/seeds.py)",
        "source_sha256": source_hash(),
        "sources": SOURCES,
        "commit": commit(),
        "processor": processor(),
        "device": str(device),
        "torch": torch.__version__,
        "samples": SAMPLES,
        "test_images": len(test_images),
        "k": real.k,
        "seeds": list(SEEDS),
        "seconds": round(time.perf_counter() - start),
        "models": runs,
    }
    args.output.write_text(json.dumps(receipt, indent=1) + "\n")
    print(f"Wrote {args.output} in {receipt['seconds']} s on {receipt['processor']}.")


if __name__ == "__main__":
    main()
