"""The smoke book build that the book and browser tests share (the `smoke_book` fixture).

Sphinx writes its pickles in place (`open(..., "wb")`, then `pickle.dump`), so two builds of
one folder at once interleave their writes: a doctree can end up as the first frame of one
build's pickle followed by the rest of the other's, which fails to load ("Memo value not found",
"invalid load key"). That is how `make test` once crashed (issue 18): pytest 9.2 broke
pytest-xdist's `--dist loadgroup` (pytest-xdist#1386), so both workers ran book tests and both
built `_build/smoke` at the same time. Hence: one build per test run, under a lock on the
folder, and a build that still finds its environment damaged is kept aside and built again once.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELSPECS = ROOT / "jupyter"  # the course's python3 kernelspec: see jupyter/README.md


@dataclass(frozen=True)
class BuildFolder:
    """A book build's folder (jupyter-book's --path-output) and the files kept beside it."""

    path: Path

    @property
    def html(self) -> Path:
        return self.path / "_build" / "html"

    @property
    def doctrees(self) -> Path:
        return self.path / "_build" / ".doctrees"

    @property
    def checkpoints(self) -> Path:
        """The checkpoints its chapters trained (LABUTILS_CHECKPOINTS), kept beside the build so
        that tests compare the live figures' exported networks with the models they came from."""
        return self.path.with_name(f"{self.path.name}-checkpoints")

    @property
    def log(self) -> Path:
        return self.path.with_name(f"{self.path.name}-build.log")

    @property
    def run(self) -> Path:
        """Which test run built the folder, and the build's exit status."""
        return self.path.with_name(f"{self.path.name}-build.run")

    @property
    def lock(self) -> Path:
        return self.path.with_name(f"{self.path.name}.lock")


@contextmanager
def exclusive(folder: BuildFolder) -> Iterator[int]:
    """Hold an exclusive lock on `folder`; yield the lock's descriptor.

    A second build of the folder (another xdist worker, another pytest session in this checkout)
    waits for the first. A build started with the descriptor (`pass_fds`) holds the lock too,
    so that a build that outlives its test session still keeps the folder to itself.
    """
    folder.path.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.lock, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            print(f"waiting for {holder} to finish its build of {folder.path}", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.truncate(0)
        lock.write(f"pid {os.getpid()} (pytest {os.getenv('PYTEST_XDIST_WORKER', 'session')})")
        lock.flush()
        yield lock.fileno()


def unreadable_pickles(doctrees: Path) -> list[str]:
    """The pickles of a Sphinx environment (doctrees and environment.pickle) that cannot be
    loaded, each with its error: a damaged environment, not a failing page."""
    damaged = []
    for path in sorted(doctrees.rglob("*")):
        if path.suffix in (".doctree", ".pickle"):
            try:
                pickle.loads(path.read_bytes())
            except Exception as error:  # whatever a damaged pickle raises
                damaged.append(f"{path.relative_to(doctrees)}: {type(error).__name__}: {error}")
    return damaged


def build_book(folder: BuildFolder, env: dict[str, str], lock: int) -> int:
    """Build the whole book from scratch with -W into `folder`, and print its PDF edition
    (tools/pdf.py); return the exit status.

    The log goes to `folder.log`; the build inherits the lock's descriptor.
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
        str(folder.path),
    ]
    shutil.rmtree(folder.path, ignore_errors=True)  # a stale environment would skip execution
    shutil.rmtree(folder.checkpoints, ignore_errors=True)  # ... and stale checkpoints, training
    with open(folder.log, "w") as log:
        build = subprocess.run(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock,)
        )
        if build.returncode != 0:
            return build.returncode
        # The PDF edition, which the pages' download menu links, as `make pdf` prints it.
        pdf = [sys.executable, "-m", "tools.pdf", str(folder.html)]
        printed = subprocess.run(pdf, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return printed.returncode


def keep_for_diagnosis(folder: BuildFolder) -> Path:
    """Move a damaged build and its log aside (replacing an older one); return where they are."""
    kept = folder.path.with_name(f"{folder.path.name}-damaged")
    shutil.rmtree(kept, ignore_errors=True)
    folder.path.rename(kept)
    folder.log.rename(kept / folder.log.name)
    return kept


def build_retrying_damage(folder: BuildFolder, env: dict[str, str], lock: int) -> int:
    """Build the book; if the build failed on a damaged Sphinx environment, keep that build for
    diagnosis and build once more from scratch, with a warning that says so.

    A failing notebook or a Sphinx warning damages no pickle, so it is never built twice.
    """
    status = build_book(folder, env, lock)
    damaged = unreadable_pickles(folder.doctrees) if status != 0 else []
    if damaged:
        kept = keep_for_diagnosis(folder)
        warnings.warn(
            f"the book build in {folder.path} failed on a damaged Sphinx environment "
            f"({'; '.join(damaged)}); it was built again from scratch. The damaged build and "
            f"its log are kept in {kept}.",
            stacklevel=1,
        )
        status = build_book(folder, env, lock)
    return status


def build_once_per_run(folder: BuildFolder, env: dict[str, str], lock: int, run: str | None) -> int:
    """The exit status of test run `run`'s build of `folder`, building it if nobody has yet.

    xdist's workers share a run id (PYTEST_XDIST_TESTRUNUID): the first worker to ask builds,
    the others reuse its build. Without a run id (no xdist) every call builds.
    """
    if run and folder.run.exists() and folder.path.exists():
        built_by, status = folder.run.read_text().split()
        if built_by == run:
            return int(status)
    folder.run.unlink(missing_ok=True)
    status = build_retrying_damage(folder, env, lock)
    if run:
        folder.run.write_text(f"{run} {status}")
    return status
