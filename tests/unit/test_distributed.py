"""scripts/ddp_vae.py: two CPU processes (gloo) train one autoencoder together and agree with one.

With DistributedDataParallel the gradients are averaged over the two halves of each batch, which
is the gradient of the whole batch: the two-process run must match a one-process run with the
same global batch up to float rounding (the sums are taken in another order).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ddp_vae.py"
RUN = ["--model", "autoencoder", "--limit", "256", "--epochs", "2", "--batch-size", "64"]
TOLERANCE = dict(rtol=1e-4, atol=1e-5)  # measured: weights differ by at most ~1e-6


def train(folder: Path, processes: int) -> list[dict]:
    """Run the script with `processes` processes; return what each saved."""
    save = folder / f"p{processes}"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes)]
    command = (launcher if processes > 1 else [sys.executable]) + [str(SCRIPT), *RUN]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [*command, "--save", str(save)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(f"{save}.rank{r}.pt", weights_only=True) for r in range(processes)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, list[dict]]:
    folder = tmp_path_factory.mktemp("ddp")
    return {1: train(folder, 1), 2: train(folder, 2)}


def test_the_loss_falls_and_both_processes_hold_the_same_weights(runs):
    first, second = runs[2]
    assert first["losses"][-1] < 0.8 * first["losses"][0]
    for name, value in first["weights"].items():
        assert torch.equal(value, second["weights"][name]), name  # bit for bit
    assert first["losses"] == second["losses"]  # averaged over the processes


def test_two_processes_match_one_with_the_same_global_batch(runs):
    (alone,), (first, _) = runs[1], runs[2]
    for name, value in alone["weights"].items():
        torch.testing.assert_close(first["weights"][name], value, **TOLERANCE)
    torch.testing.assert_close(
        torch.tensor(first["losses"]), torch.tensor(alone["losses"]), **TOLERANCE
    )
