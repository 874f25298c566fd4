"""Where the course keeps its files, wherever a notebook runs from (book/, the root, Colab), and
whether it runs in smoke mode."""

from __future__ import annotations

import os
from pathlib import Path


def repository_root() -> Path | None:
    """The checkout that holds this package (with its shipped `data/`), or None when installed."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "data" / "MD5SUMS.raw").exists() else None


def course_dir(name: str) -> Path:
    """`<repository>/<name>` in a checkout, else `./<name>` (e.g. on Colab)."""
    root = repository_root()
    return root / name if root is not None else Path(name)


def smoke_mode() -> bool:
    """Whether $LABUTILS_SMOKE=1 asks for smoke mode: tiny subsets and one epoch (the tests')."""
    return os.environ.get("LABUTILS_SMOKE", "0") == "1"
