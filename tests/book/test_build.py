"""The whole book builds with warnings as errors, and every chapter page carries its figures."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from booktoc import ROOT, is_notebook, toc_pages

CHAPTERS = [page for page in toc_pages() if is_notebook(page)]


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("page", toc_pages())
def test_every_toc_page_is_built(smoke_book: Path, page: str) -> None:
    assert (smoke_book / f"{page}.html").exists()


def letters(text: str) -> str:
    """Only the letters and digits of `text`: HTML turns quotes curly and wraps lines."""
    return re.sub(r"[^A-Za-z0-9]", "", text)


def figure_captions(chapter: str) -> list[str]:
    """The captions of the figure cells a chapter notebook declares in its metadata."""
    notebook = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    figures = [cell.metadata.get("mystnb", {}).get("figure") for cell in notebook.cells]
    return [figure["caption"] for figure in figures if figure]


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_shows_its_executed_figures(smoke_book: Path, chapter: str) -> None:
    html = (smoke_book / f"{chapter}.html").read_text()
    text = letters(re.sub(r"<[^>]+>", " ", html))
    captions = figure_captions(chapter)
    images = re.findall(r'<img[^>]+src="[^"]*_images/[^"]+\.png"', html)
    assert captions, f"{chapter} declares no figures"
    assert len(images) >= len(captions), f"{chapter}: {len(images)} images, {len(captions)} figures"
    for caption in captions:
        assert letters(caption)[:30] in text, f"{chapter}: caption missing: {caption[:60]}"
    assert "Traceback" not in html


@pytest.mark.xdist_group("book")
def test_intro_reports_build_facts_and_runtimes(smoke_book: Path) -> None:
    html = (smoke_book / "book" / "intro.html").read_text()
    assert "torch 2." in html and "smoke" in html
    for chapter in CHAPTERS:
        assert Path(chapter).name in html  # a row of the execution table
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    # the training-times table: one row per checkpoint the smoke build saved, with its seconds
    assert "vae-latent20 VAE(latent_dim=20, hidden=[400]) 1" in text
    assert re.search(
        r"dcgan Generator\(nz=100, width=24\), Discriminator\(width=24\) 1 \d+ s", text
    )


@pytest.mark.xdist_group("book")
def test_markdown_outputs_render_their_tables(smoke_book: Path) -> None:
    """Chapter 4 prints its metrics table as Markdown: the page must show a table, not pipes."""
    html = (smoke_book / "book" / "04-comparison.html").read_text()
    tables = re.findall(r"<table.*?</table>", html, re.DOTALL)
    assert any("FID" in table and "DCGAN" in table for table in tables)
    assert "<p>| samples |" not in html  # the Markdown source printed as a paragraph
