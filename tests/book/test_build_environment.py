"""The shared smoke build stays whole: one build per test run, under a lock that a running build
keeps, and a damaged Sphinx environment is detected, kept for diagnosis and built again once.
Fake builds stand in for jupyter-book here; tests/book/test_build.py runs the real one."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys

import bookbuild
import pytest
from bookbuild import BuildFolder, build_once_per_run, exclusive, unreadable_pickles
from docutils import nodes


def doctree_pickle(seconds: str) -> bytes:
    """A doctree of a few hundred kB, as Sphinx pickles it; `seconds` varies like a timing line."""
    section = nodes.section()
    for index in range(4000):
        section += nodes.paragraph(text=f"epoch {index}: loss 0.{index:04d} ({seconds} s)")
    return pickle.dumps(section, pickle.HIGHEST_PROTOCOL)


def interleaved(first: bytes, second: bytes) -> bytes:
    """What two processes writing one file at once leave: the first one's opening frame (its
    first write), then the rest of the second one's pickle, from its second frame on."""
    end_of_first_frame = 11 + struct.unpack("<Q", second[3:11])[0]  # PROTO 2 + FRAME 9 + data
    return first[:end_of_first_frame] + second[end_of_first_frame:]


def test_interleaved_writes_are_found_and_intact_pickles_are_not(tmp_path):
    a, b = doctree_pickle("1.2"), doctree_pickle("10.87")
    assert len(a) > 3 * 65536 and a[2] == b[2] == pickle.FRAME[0]  # several frames
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "02-vae.doctree").write_bytes(a)
    (tmp_path / "book" / "04-comparison.doctree").write_bytes(interleaved(a, b))
    (tmp_path / "environment.pickle").write_bytes(pickle.dumps({"version": 1}))
    damaged = unreadable_pickles(tmp_path)
    assert len(damaged) == 1 and damaged[0].startswith("book/04-comparison.doctree: ")


class FakeBuilds:
    """Stands in for `bookbuild.build_book`: counts builds, each failing with a damaged doctree
    or with a failing notebook as asked, and writes what a real build would leave behind."""

    def __init__(self, *outcomes: str):
        self.outcomes = list(outcomes)
        self.count = 0

    def __call__(self, folder: BuildFolder, env: dict, lock: int) -> int:
        outcome = self.outcomes[self.count]
        self.count += 1
        folder.doctrees.mkdir(parents=True, exist_ok=True)
        doctree = interleaved(doctree_pickle("1"), doctree_pickle("22"))
        (folder.doctrees / "ch.doctree").write_bytes(
            doctree if outcome == "damaged" else doctree_pickle("1")
        )
        folder.log.write_text(f"build {self.count}: {outcome}")
        return 0 if outcome == "ok" else 1


@pytest.fixture
def folder(tmp_path) -> BuildFolder:
    return BuildFolder(tmp_path / "smoke")


def test_a_damaged_environment_is_kept_and_built_again_once(folder, monkeypatch):
    builds = FakeBuilds("damaged", "ok")
    monkeypatch.setattr(bookbuild, "build_book", builds)
    with pytest.warns(UserWarning, match=r"damaged Sphinx environment \(ch.doctree: ") as warned:
        assert build_once_per_run(folder, {}, -1, run=None) == 0
    assert builds.count == 2
    kept = folder.path.with_name("smoke-damaged")
    assert f"kept in {kept}" in str(warned[0].message)
    assert (kept / "smoke-build.log").read_text() == "build 1: damaged"
    assert unreadable_pickles(kept / "_build" / ".doctrees") != []


def test_a_failing_notebook_is_not_built_twice(folder, monkeypatch):
    builds = FakeBuilds("notebook failed")
    monkeypatch.setattr(bookbuild, "build_book", builds)
    assert build_once_per_run(folder, {}, -1, run=None) == 1
    assert builds.count == 1 and not folder.path.with_name("smoke-damaged").exists()


def test_workers_of_one_run_share_its_build(folder, monkeypatch):
    builds = FakeBuilds("notebook failed", "ok", "ok", "ok")
    monkeypatch.setattr(bookbuild, "build_book", builds)
    assert build_once_per_run(folder, {}, -1, run="run1") == 1
    assert build_once_per_run(folder, {}, -1, run="run1") == 1  # the same result, not rebuilt
    assert builds.count == 1
    assert build_once_per_run(folder, {}, -1, run="run2") == 0  # a new test run builds afresh
    assert build_once_per_run(folder, {}, -1, run=None) == 0  # so does a run without xdist
    assert builds.count == 3


def lock_is_free(folder: BuildFolder) -> bool:
    """Whether another process could take the folder's lock right now."""
    probe = (
        "import fcntl, sys\n"
        f"lock = open({str(folder.lock)!r})\n"
        "try:\n    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", probe]).returncode == 0


def test_a_build_keeps_the_folder_locked_after_its_session_lets_go(folder):
    with exclusive(folder) as lock:
        assert not lock_is_free(folder)
        build = subprocess.Popen(["sleep", "30"], pass_fds=(lock,))  # a build outliving us
    try:
        assert not lock_is_free(folder)
    finally:
        build.kill()
        build.wait()
    assert lock_is_free(folder)
