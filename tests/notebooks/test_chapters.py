"""Every chapter runs top to bottom in smoke mode; its closing assertion cells check its results."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner import run_notebook

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_runs_in_smoke_mode(notebook: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LABUTILS_SMOKE", "1")
    monkeypatch.setenv("LABUTILS_CHECKPOINTS", str(tmp_path / "checkpoints"))  # train afresh
    run_notebook(notebook, tmp_path / notebook.name, timeout=300, cwd=notebook.parent)
