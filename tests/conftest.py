"""Shared fixtures: slices of the real MNIST test split, and the book built once in smoke mode.

Tests that use `smoke_book` (tests/book, tests/browser) carry `@pytest.mark.xdist_group("book")`,
so that under `pytest -n 2 --dist loadgroup` one worker runs them all. The build itself happens
once per test run under a lock on its folder, which keeps it whole even when the grouping does
not hold: two builds writing one folder at once corrupted a doctree pickle (issue 18).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from labutils import load_mnist

ROOT = Path(__file__).resolve().parents[1]
SMOKE_BUILD = ROOT / "_build" / "smoke"
BUILD_LOG = ROOT / "_build" / "smoke-build.log"
BUILD_RUN = ROOT / "_build" / "smoke-build.run"  # which test run built it, and its exit status
KERNELSPECS = ROOT / "jupyter"  # the course's python3 kernelspec: see jupyter/README.md


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


@contextmanager
def exclusive(folder: Path) -> Iterator[int]:
    """Hold an exclusive lock on `folder` (a lock file beside it); yield the lock's descriptor.

    Sphinx writes its pickles in place (`open(..., "wb")`), so two builds of one folder at once
    interleave their writes into corrupt doctrees. The lock makes a second build of the folder
    (another xdist worker, another pytest session in this checkout) wait for the first instead.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            print(f"waiting for {holder} to finish its build of {folder}", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.truncate(0)
        lock.write(f"pid {os.getpid()} (pytest {os.getenv('PYTEST_XDIST_WORKER', 'session')})")
        lock.flush()
        yield lock.fileno()


def unreadable_doctrees(build: Path) -> list[str]:
    """The pickles of Sphinx's build environment under `build` that cannot be loaded, each with
    its error: a damaged environment, not a failing page."""
    damaged = []
    for path in sorted((build / "_build" / ".doctrees").rglob("*.*")):
        if path.suffix in (".doctree", ".pickle"):
            try:
                pickle.loads(path.read_bytes())
            except Exception as error:  # any unpickling error means the file is damaged
                damaged.append(f"{path.relative_to(build)}: {type(error).__name__}: {error}")
    return damaged


def build_book(env: dict[str, str], lock: int) -> int:
    """Build the whole book from scratch with -W into SMOKE_BUILD; return the exit status.

    The log goes to BUILD_LOG. The build inherits the lock's descriptor, so that the folder stays
    locked for as long as the build runs, even if the test session that started it has died.
    """
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
    with open(BUILD_LOG, "w") as log:
        build = subprocess.run(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock,)
        )
    return build.returncode


def keep_for_diagnosis() -> Path:
    """Move a damaged build and its log aside (replacing an older one); return where they are."""
    kept = SMOKE_BUILD.with_name(f"{SMOKE_BUILD.name}-damaged")
    shutil.rmtree(kept, ignore_errors=True)
    SMOKE_BUILD.rename(kept)
    BUILD_LOG.rename(kept / BUILD_LOG.name)
    return kept


def build_book_retrying_damage(env: dict[str, str], lock: int) -> int:
    """Build the book; if it failed on a damaged Sphinx environment (an unreadable pickle), keep
    that build for diagnosis and build once more from scratch, with a warning that says so.

    A failing notebook or a Sphinx warning damages no pickle, so it is never built twice."""
    status = build_book(env, lock)
    damaged = unreadable_doctrees(SMOKE_BUILD) if status != 0 else []
    if damaged:
        kept = keep_for_diagnosis()
        warnings.warn(
            "the smoke book build failed on a damaged Sphinx environment "
            f"({'; '.join(damaged)}); it was built again from scratch. The damaged build and its "
            f"log are kept in {kept}.",
            stacklevel=1,
        )
        status = build_book(env, lock)
    return status


def build_book_once_per_run(env: dict[str, str], lock: int) -> int:
    """The exit status of this test run's smoke build, building it if no worker has yet.

    Under pytest-xdist every worker that runs a book or browser test asks for the build (they
    should share one worker, but pytest 9.2 broke `--dist loadgroup`: pytest-xdist#1386); the
    workers share a run id, so the first one builds and the others reuse its build.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run and BUILD_RUN.exists():
        built_by, status = BUILD_RUN.read_text().split()
        if built_by == run and SMOKE_BUILD.exists():
            return int(status)
    BUILD_RUN.unlink(missing_ok=True)
    status = build_book_retrying_damage(env, lock)
    if run:
        BUILD_RUN.write_text(f"{run} {status}")
    return status


@pytest.fixture(scope="session")
def smoke_book(book_env, tmp_path_factory) -> Path:
    """Build the whole book with -W in smoke mode, once per test run; return the HTML folder."""
    env = dict(
        book_env,
        LABUTILS_SMOKE="1",
        LABUTILS_PROGRESS="0",
        LABUTILS_CHECKPOINTS=str(tmp_path_factory.mktemp("checkpoints")),
    )
    with exclusive(SMOKE_BUILD) as lock:
        status = build_book_once_per_run(env, lock)
    assert status == 0, f"book build failed (log: {BUILD_LOG}):\n{BUILD_LOG.read_text()[-9000:]}"
    return SMOKE_BUILD / "_build" / "html"
