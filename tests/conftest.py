"""Shared fixtures: slices of the real MNIST test split, and the book built once in smoke mode.

Tests that use `smoke_book` (tests/book, tests/browser) carry `@pytest.mark.xdist_group("book")`,
so that under `pytest -n 2 --dist loadgroup` one worker runs them all. The build itself happens
once per test run under a lock on its folder, which keeps it whole even when the grouping does
not hold (tests/bookbuild.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from bookbuild import KERNELSPECS, ROOT, BuildFolder, build_once_per_run, exclusive

from labutils import load_mnist

SMOKE_BUILD = BuildFolder(ROOT / "_build" / "smoke")


@pytest.fixture(scope="session")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 test images (N, 1, 28, 28) and labels (N,)."""
    return load_mnist("test")


@pytest.fixture(scope="session")
def one_batch(mnist_test) -> torch.Tensor:
    """64 real test images, the batch the 'loss falls' tests overfit."""
    return mnist_test[0][:64]


@pytest.fixture(scope="session")
def book_env() -> dict[str, str]:
    """The environment of a book build, as `make book` sets it: the course's kernelspec first."""
    kernelspecs = filter(None, [str(KERNELSPECS), os.getenv("JUPYTER_PATH")])
    return dict(os.environ, JUPYTER_PATH=os.pathsep.join(kernelspecs))


@pytest.fixture(scope="session")
def smoke_book(book_env) -> Path:
    """Build the whole book with -W in smoke mode, once per test run; return the HTML folder.

    See tests/bookbuild.py for how the build stays whole when several workers ask for it.
    """
    env = dict(book_env, LABUTILS_SMOKE="1", LABUTILS_CHECKPOINTS=str(SMOKE_BUILD.checkpoints))
    with exclusive(SMOKE_BUILD) as lock:
        status = build_once_per_run(SMOKE_BUILD, env, lock, os.getenv("PYTEST_XDIST_TESTRUNUID"))
    log = SMOKE_BUILD.log
    assert status == 0, f"book build failed (log: {log}):\n{log.read_text()[-9000:]}"
    return SMOKE_BUILD.html


@pytest.fixture(scope="session")
def smoke_checkpoints(smoke_book: Path) -> Path:
    """The checkpoints the smoke build's chapters trained (LABUTILS_CHECKPOINTS/smoke)."""
    return SMOKE_BUILD.checkpoints / "smoke"
