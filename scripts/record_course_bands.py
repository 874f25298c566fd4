"""Record the bands that `labutils.doctor.diagnose` compares a chapter's training run with.

Each chapter's run (chapter 1's autoencoder "ae", chapter 2's VAE "vae", chapter 3's DCGAN
"dcgan") is trained as its chapter trains it (`labutils.course`), from several seeds, in smoke and
in full mode. For every metric the run records, the band of each epoch is the mean over the seeds
+- max(3 standard deviations, 5% of the mean), as for the exercises' bands
(`scripts/record_bands.py`); the per-step curve of the main metric gets a band too, over windows of
steps, for the figure. For the DCGAN it also records the class entropy of 1,000 samples per seed.
The result is written to `labutils/course_bands.json`, which ships with the package.

    .venv/bin/python scripts/record_course_bands.py                  # both modes
    .venv/bin/python scripts/record_course_bands.py --modes smoke    # re-record smoke mode only

Full mode records only the first epochs (`FULL_EPOCHS`) of each run, to keep the recording short;
the doctor compares a longer run at the last epoch its band covers. Runs on the CPU with one thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from labutils import load_mnist, seed_everything
from labutils.bands import BAND_FLOOR, BAND_SPREAD, band_from_curves
from labutils.course import build, course_settings, recipe
from labutils.doctor import MAIN_METRIC, sample_coverage, volatility
from labutils.loop import History

ROOT = Path(__file__).resolve().parents[1]
BANDS = ROOT / "labutils" / "course_bands.json"
CURVES = ROOT / "tests" / "unit" / "fixtures" / "course_runs_full.pt"  # the full-mode seeds' curves
RUNS = ("ae", "vae", "dcgan")
FULL_EPOCHS = {"ae": 2, "vae": 2, "dcgan": 1}  # of the chapters' 10, 10 and 2
SEEDS = {"smoke": 5, "full": 3}
WINDOWS = 40  # the step curve's band is drawn over at most this many windows


def train_run(name: str, mode: str, seed: int) -> tuple[History, dict[str, nn.Module], dict]:
    """Train chapter run `name` in `mode` from `seed` on the CPU: its history, its models (named
    as in its checkpoint) and its settings."""
    smoke = mode == "smoke"
    settings = course_settings(name, smoke)
    if not smoke:
        settings["epochs"] = FULL_EPOCHS[name]
    seed_everything(seed)
    train_images, _ = load_mnist("train", limit=settings["train_limit"])  # (N, 1, 28, 28)
    test_images, _ = load_mnist("test", limit=1_000 if smoke else None)
    models = build(name, settings, "cpu")
    history = recipe(name, models, settings, train_images, test_images)(seed=seed)
    if name == "dcgan":
        history["class_entropy"] = [sample_coverage(models["generator"], seed)[0].entropy]
        history["volatility"] = [volatility(history["step_loss_g"])]
    return history, models, settings


def windows_of(values: list[float], size: int) -> list[float]:
    """Means of consecutive windows of `size` steps (the last, partial window dropped)."""
    return [statistics.fmean(values[i : i + size]) for i in range(0, len(values) - size + 1, size)]


def record(name: str, mode: str) -> dict:
    """Train the seeds of run `name` in `mode` and summarise them as bands."""
    started = time.perf_counter()
    runs = [train_run(name, mode, seed) for seed in range(SEEDS[mode])]
    histories, settings = [h for h, _, _ in runs], runs[0][2]
    metric = MAIN_METRIC[name]
    steps = len(histories[0][f"step_{metric}"])
    size = max(1, steps // WINDOWS)
    names = [key[len("train_") :] for key in histories[0] if key.startswith("train_")]
    result = {
        "metric": metric,
        "settings": {k: v for k, v in settings.items() if k not in ("checkpoint", "cpu_seconds")},
        "seeds": len(histories),
        "steps_per_epoch": steps // len(histories[0][f"train_{metric}"]),
        "metrics": {m: band_from_curves([h[f"train_{m}"] for h in histories]) for m in names},
        "windows": {
            "size": size,
            **band_from_curves([windows_of(h[f"step_{metric}"], size) for h in histories]),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    if name == "dcgan":
        for extra in ("class_entropy", "volatility"):
            result[extra] = band_from_curves([h[extra] for h in histories])
    if mode == "full":
        save_curves(name, histories)
    return result


def save_curves(name: str, histories: list[History]) -> None:
    """Keep the full-mode seeds' curves (float32) for tests/unit/test_doctor.py, which diagnoses
    every one of them: a healthy run must be diagnosed healthy."""
    runs = torch.load(CURVES, weights_only=True) if CURVES.exists() else {}
    runs[name] = [
        {
            k: torch.tensor(v, dtype=torch.float32)
            for k, v in h.items()
            if k.startswith(("train_", "step_"))
        }
        for h in histories
    ]
    torch.save(runs, CURVES)


def main() -> None:
    """Record the requested modes, keep the others from the existing file, write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=["smoke", "full"], default=["smoke", "full"])
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    args = parser.parse_args()
    torch.set_num_threads(1)  # also keeps runs repeatable across machines' thread counts
    bands = json.loads(BANDS.read_text()) if BANDS.exists() else {"runs": {}}
    bands["about"] = (
        "Per-epoch bands of the chapters' training runs (mean over seeds "
        f"+- max({BAND_SPREAD:g} sd, {BAND_FLOOR:.0%} of the mean)); written by "
        "scripts/record_course_bands.py, read by labutils.doctor.diagnose."
    )
    for name in args.runs:
        for mode in args.modes:
            bands["runs"].setdefault(name, {})[mode] = record(name, mode)
            print(name, mode, bands["runs"][name][mode]["seconds"], "s", flush=True)
            BANDS.write_text(json.dumps(bands, indent=1, sort_keys=True) + "\n")
    print(f"Wrote {BANDS}")


if __name__ == "__main__":
    main()
