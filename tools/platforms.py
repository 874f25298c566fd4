"""The Kaggle and SageMaker Studio Lab editions: a chapter's Colab edition with another preface.

Neither platform has Colab's `google.colab` module or Google Drive, so their editions replace the
Colab preface (note and Drive checkbox) with a setup cell that detects its platform and, there
only:

- clones the course's repository (its code and the MNIST files of `data/`), installs `labutils`
  from the clone and copies `data/` beside the notebook, where `labutils` looks for MNIST;
- points the chapters' checkpoints ($LABUTILS_CHECKPOINTS, read by their parameters cell) at the
  folder the platform keeps: Kaggle keeps `/kaggle/working`, the folder its notebooks start in,
  as the notebook's output; Studio Lab keeps the user's home.

The editions are `<path_to_book>/kaggle/NN-name.ipynb` and `<path_to_book>/studiolab/NN-name.ipynb`
(`make student` writes them); each chapter page's launch menu opens them (book/_ext/pagemeta.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat


@dataclass(frozen=True)
class Platform:
    """A hosted notebook service, as its edition's setup cell recognises and uses it."""

    name: str
    marker: str  # a Python condition that holds on the platform only
    why: str  # why it does
    clone: str  # an expression: where the course's repository is cloned
    checkpoints: str  # an expression: a folder the platform keeps between sessions
    note: str  # what the learner must do or know there


PLATFORMS = {
    "kaggle": Platform(
        name="Kaggle",
        marker='"KAGGLE_KERNEL_RUN_TYPE" in os.environ',
        why="Kaggle sets it in every notebook",
        clone='Path(tempfile.gettempdir()) / "generative-models-lab"',
        checkpoints='Path.cwd() / "checkpoints"',  # in /kaggle/working, the notebook's output
        note=(
            "Turn on *Internet* in the notebook's settings (right-hand panel) before you run it: "
            "the first code cell downloads the course's library and data. A GPU accelerator "
            "trains faster. The trained models are kept in `/kaggle/working/checkpoints`, which "
            "Kaggle saves with the notebook's output."
        ),
    ),
    "studiolab": Platform(
        name="SageMaker Studio Lab",
        marker='Path.home().name == "studio-lab-user"',
        why="the one user of every Studio Lab machine",
        clone='Path.home() / "generative-models-lab"',
        checkpoints='Path.home() / "generative-models-lab-checkpoints"',
        note=(
            "The first code cell downloads the course's library and data into your home folder, "
            "which Studio Lab keeps between sessions, and the chapters keep their trained models "
            "in `~/generative-models-lab-checkpoints`, so that the next session loads them."
        ),
    ),
}
NOTE = (
    "> **{platform} edition** of a chapter of the *Generative Models Lab*, made from "
    "`book/{name}`. Run it from the top. {note} Each exercise's solution is in a hidden cell "
    "under it. "
    "To skip training, set `REFERENCE = True` in the settings cell: the chapter then downloads "
    "the book's trained models (checked against their SHA-256 sums) and trains only if that "
    "fails."
)


def setup_cell(platform: Platform, repository: str, branch: str) -> str:
    """The code that installs the course on `platform` and keeps its models; nothing elsewhere."""
    return f"""# @title Set up {platform.name}: install the course's library and data
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = "{repository}"
BRANCH = "{branch}"
if {platform.marker}:  # {platform.why}
    clone = {platform.clone}
    if not clone.exists():
        git = ["git", "clone", "-q", "--depth", "1", "--branch", BRANCH, REPOSITORY, str(clone)]
        subprocess.run(git, check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", str(clone)], check=True)
    if not Path("data").exists():  # MNIST, where labutils looks for it
        shutil.copytree(clone / "data", "data")
    # The chapters' parameters cell reads this: trained models go where {platform.name} keeps files.
    os.environ["LABUTILS_CHECKPOINTS"] = str({platform.checkpoints})"""


def preface(key: str, name: str, repository: str, branch: str) -> list[dict]:
    """The cells under the title of chapter `name`'s edition for platform `key`."""
    platform = PLATFORMS[key]
    note = nbformat.v4.new_markdown_cell(
        NOTE.format(platform=platform.name, name=name, note=platform.note)
    )
    note["id"] = f"{key}-edition-note"
    setup = nbformat.v4.new_code_cell(setup_cell(platform, repository, branch))
    setup["id"] = f"{key}-setup"
    return [note, setup]
