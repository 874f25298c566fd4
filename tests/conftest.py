"""Shared fixtures: slices of the real MNIST test split, and the book built once in smoke mode.

Tests that use `smoke_book` (tests/book, tests/browser) carry `@pytest.mark.xdist_group("book")`,
so that under `pytest -n 2 --dist loadgroup` one worker builds the book once for all of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labutils import load_mnist

ROOT = Path(__file__).resolve().parents[1]
SMOKE_BUILD = ROOT / "_build" / "smoke"


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 test images (N, 1, 28, 28) and labels (N,)."""
    return load_mnist("test")


@pytest.fixture(scope="session")
def one_batch(mnist_test) -> torch.Tensor:
    """64 real test images, the batch the 'loss falls' tests overfit."""
    return mnist_test[0][:64]


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    """Build the whole book with -W in smoke mode; return the HTML folder."""
    env = dict(
        os.environ,
        LABUTILS_SMOKE="1",
        LABUTILS_PROGRESS="0",
        LABUTILS_CHECKPOINTS=str(tmp_path_factory.mktemp("checkpoints")),
    )
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        ".",
        "-W",
        "-n",
        "--keep-going",
        "--all",
        "--path-output",
        str(SMOKE_BUILD),
    ]
    shutil.rmtree(SMOKE_BUILD, ignore_errors=True)  # a stale environment would skip execution
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    return SMOKE_BUILD / "_build" / "html"
