"""The book's pages as `_toc.yml` lists them: what the build test and the browser check cover."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_pages() -> list[str]:
    """Every document in _toc.yml, root first, as paths without suffix (e.g. book/02-vae)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def is_notebook(page: str) -> bool:
    """Whether a toc page is a chapter notebook (which has a Colab button) or a Markdown page."""
    return (ROOT / f"{page}.ipynb").exists()
