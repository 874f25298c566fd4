"""Record the loss bands that `labutils.checkers.check_on_track` compares a learner's run with.

For each exercise that trains a model (Exercise 1.2's denoising autoencoder, Exercise 2.3's
beta-VAE), the reference solution is trained from several seeds, in smoke and in full mode, with
the settings below -- the settings the exercises use. The band of each epoch is the mean training
loss over the seeds +- max(3 standard deviations, 5% of the mean). The result is written to
`labutils/checkers/reference_bands.json`, which ships with the package.

    .venv/bin/python scripts/record_bands.py                  # both modes, 5 seeds
    .venv/bin/python scripts/record_bands.py --modes smoke    # re-record smoke mode only

Runs on the CPU, so that the bands do not depend on a GPU's arithmetic.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from labutils import VAE, Autoencoder, fit, fit_vae, load_mnist, seed_everything
from labutils.bands import BAND_FLOOR, BAND_SPREAD, band_from_curves
from labutils.loop import History

ROOT = Path(__file__).resolve().parents[1]
BANDS = ROOT / "labutils" / "checkers" / "reference_bands.json"
CHAPTER = ROOT / "book" / "01-autoencoders.ipynb"  # Exercise 1.2's solution: the denoising run
SOLUTION_NAMES = ("add_noise", "NOISE_STD", "denoising_step")


def chapter_solution(names: tuple[str, ...] = SOLUTION_NAMES) -> dict:
    """The definitions `names` from Exercise 1.2's solution cell in chapter 1, executed: the
    reference runs train exactly the solution the book shows (the cell's training is left out)."""
    cells = json.loads(CHAPTER.read_text())["cells"]
    source = next(
        "".join(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code" and "def add_noise(" in "".join(cell["source"])
    )
    tree = ast.parse(source)
    wanted = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in names)
        or (
            isinstance(node, ast.Assign)
            and {getattr(t, "id", None) for t in node.targets} & set(names)
        )
    ]
    namespace = {"torch": torch, "nn": nn, "F": F}
    code = compile(ast.Module(body=wanted, type_ignores=[]), str(CHAPTER), "exec")
    exec(code, namespace)  # the course's own notebook, the same code the book build runs
    missing = [name for name in names if name not in namespace]
    if missing:
        raise RuntimeError(f"Exercise 1.2's solution in {CHAPTER} no longer defines {missing}.")
    return {name: namespace[name] for name in names}


SOLUTION = chapter_solution()
add_noise = SOLUTION["add_noise"]  # the reference answer to Exercise 1.2
denoising_step = SOLUTION["denoising_step"]  # its training step, with the chapter's NOISE_STD


COMMON = {"latent_dim": 20, "lr": 1e-3, "batch_size": 128}
SMOKE = {"limit": 2000, "epochs": 1}  # as the chapters' smoke mode
FULL = {"limit": None, "epochs": 3}
RUNS = {
    "denoising-ae": {"metric": "loss", "noise_std": SOLUTION["NOISE_STD"]},  # Exercise 1.2
    "beta-vae": {"metric": "total", "beta": 4.0},  # Exercise 2.3
}


def settings(run: str, mode: str) -> dict:
    """Everything that defines reference run `run` in `mode` ("smoke" or "full")."""
    extra = {k: v for k, v in RUNS[run].items() if k != "metric"}
    return {**COMMON, **(SMOKE if mode == "smoke" else FULL), **extra}


def train_run(run: str, mode: str, seed: int, lr_scale: float = 1.0) -> History:
    """Train reference run `run` in `mode` from `seed` on the CPU and return its history;
    `lr_scale` multiplies the learning rate (the tests use it to make a run too slow)."""
    s = settings(run, mode)
    seed_everything(seed)
    images, _ = load_mnist("train", limit=s["limit"])  # (N, 1, 28, 28)
    lr = s["lr"] * lr_scale
    if run == "denoising-ae":
        model = Autoencoder(latent_dim=s["latent_dim"])
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        return fit(
            lambda x: denoising_step(model, optimizer, x),
            images,
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            seed=seed,
        )
    test_images, _ = load_mnist("test", limit=s["limit"])
    return fit_vae(
        VAE(latent_dim=s["latent_dim"]),
        images,
        test_images,
        epochs=s["epochs"],
        lr=lr,
        batch_size=s["batch_size"],
        beta=s["beta"],
        seed=seed,
    )


def band(run: str, mode: str, seeds: int) -> dict:
    """Train `seeds` reference runs and summarise their per-epoch losses as a band."""
    metric = RUNS[run]["metric"]
    histories = [train_run(run, mode, seed) for seed in range(seeds)]
    curves = [h[f"train_{metric}"] for h in histories]  # seeds x epochs
    return {
        "metric": metric,
        "settings": settings(run, mode),
        "seeds": seeds,
        "steps_per_epoch": len(histories[0][f"step_{metric}"]) // len(curves[0]),
        **band_from_curves(curves),
    }


def main() -> None:
    """Record the requested modes, keep the others from the existing file, write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=["smoke", "full"], default=["smoke", "full"])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)  # also keeps runs repeatable across machines' thread counts
    bands = json.loads(BANDS.read_text()) if BANDS.exists() else {"runs": {}}
    bands["about"] = (
        "Per-epoch training-loss bands of the exercises' reference runs (mean over seeds "
        f"+- max({BAND_SPREAD:g} sd, {BAND_FLOOR:.0%} of the mean)); written by "
        "scripts/record_bands.py, read by labutils.checkers.check_on_track."
    )
    for run in RUNS:
        for mode in args.modes:
            bands["runs"].setdefault(run, {})[mode] = band(run, mode, args.seeds)
            print(run, mode, bands["runs"][run][mode])
    BANDS.write_text(json.dumps(bands, indent=1, sort_keys=True) + "\n")
    print(f"Wrote {BANDS}")


if __name__ == "__main__":
    main()
