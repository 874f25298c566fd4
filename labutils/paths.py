"""Where the course's shipped files are, wherever a notebook runs from (book/, the root, Colab)."""

from __future__ import annotations

from pathlib import Path


def repository_root() -> Path | None:
    """The checkout that holds this package (with its shipped `data/`), or None when installed."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "data" / "MD5SUMS.raw").exists() else None


def course_dir(name: str) -> Path:
    """`<repository>/<name>` in a checkout, else `./<name>` (e.g. on Colab)."""
    root = repository_root()
    return root / name if root is not None else Path(name)
