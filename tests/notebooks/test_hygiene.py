"""Chapter notebooks follow the course's conventions (CONTRIBUTING.md) and are stored clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_committed_without_outputs(notebook: Path) -> None:
    for cell in cells(notebook):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_only_the_parameters_cell_reads_the_environment(notebook: Path) -> None:
    """One parameters cell (papermill's), and no other cell the reader sees reads os.environ."""
    tags = [c.metadata.get("tags", []) for c in cells(notebook)]
    assert sum("parameters" in t for t in tags) == 1
    readers = [
        c.source[:60]
        for c, t in zip(cells(notebook), tags, strict=True)
        if "os.environ" in c.source and "parameters" not in t and "remove-cell" not in t
    ]
    assert readers == []


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_objectives_runtime_and_at_least_three_exercises(notebook: Path) -> None:
    text = "\n".join(c.source for c in cells(notebook) if c.cell_type == "markdown")
    assert re.search(r"objectives", text, re.IGNORECASE)
    assert re.search(r"runtime|run time|takes about", text, re.IGNORECASE)
    assert len(re.findall(r"\{admonition\} Exercise", text)) >= 3


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_every_solution_is_hidden_in_the_book(notebook: Path) -> None:
    """Solution code behind a hide-input toggle; a solution's discussion in a closed dropdown."""
    for cell in cells(notebook):
        if "solution" not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            assert "hide-input" in cell.metadata.tags, cell.source[:60]
        else:
            lines = cell.source.splitlines()
            assert lines[0].startswith(":::{admonition}"), cell.source[:60]
            assert lines[1] == ":class: dropdown" and lines[-1] == ":::", cell.source[:60]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_every_figure_has_caption_and_alt_text(notebook: Path) -> None:
    for cell in cells(notebook):
        figure = cell.metadata.get("mystnb", {})
        if "figure" in figure or "image" in figure:
            assert figure["figure"].get("caption") and figure["image"].get("alt"), cell.source[:60]


def test_vae_kl_check_output_is_stable_under_nbval(tmp_path: Path) -> None:
    """nbval --nbval-lax re-runs the VAE chapter and compares the cells marked NBVAL_CHECK_OUTPUT
    with the outputs of a reference run (papermill, smoke mode)."""
    env = dict(
        os.environ,
        LABUTILS_SMOKE="1",
        LABUTILS_CHECKPOINTS=str(tmp_path / "checkpoints"),
    )
    source = ROOT / "book" / "02-vae.ipynb"
    assert "NBVAL_CHECK_OUTPUT" in source.read_text()
    reference = tmp_path / "02-vae.ipynb"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(source),
            str(reference),
            "--cwd",
            str(source.parent),
            "--no-progress-bar",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            str(reference),
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
        ],
        env=env,
        cwd=source.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
