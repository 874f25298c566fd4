"""The PDF edition (tools/pdf.py, `make pdf`), printed from the smoke build: every page of the
book in order behind a title page and a contents page whose numbers are right, bookmarks, every
chapter title and figure caption, equations typeset (no raw TeX), nothing outside the page, and
links that work outside this machine."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import nbformat
import pytest
from booktoc import ROOT, is_notebook, toc_pages
from pypdf import PdfReader

from tools.pdf import NAME, SITE

CHAPTERS = [page for page in toc_pages() if is_notebook(page)]
RAW_TEX = ("\\frac", "\\mathbb", "\\mathcal", "\\begin{", "\\left", "$$")


def letters(text: str) -> str:
    """Only the letters and digits of `text`, ligatures (ﬁ) spelt out: the PDF's text wraps
    lines where the page does."""
    return re.sub(r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def book_pdf(smoke_book: Path) -> tuple[PdfReader, list[str]]:
    """The PDF of the smoke build (tests/bookbuild.py prints it), and each page's text."""
    reader = PdfReader(smoke_book / NAME)
    return reader, [page.extract_text() for page in reader.pages]


def chapter_title(page: str) -> str:
    """A chapter notebook's `# N. Title`."""
    first = nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells
    heading = next(c.source for c in first if c.cell_type == "markdown")
    return heading.split("\n", 1)[0].lstrip("# ").strip()


@pytest.mark.xdist_group("book")
def test_the_page_count_is_that_of_a_whole_book(book_pdf) -> None:
    reader, _ = book_pdf
    assert 60 <= len(reader.pages) <= 300, len(reader.pages)  # 112 from the smoke build


@pytest.mark.xdist_group("book")
def test_contents_and_bookmarks_lead_to_each_chapter(book_pdf) -> None:
    reader, texts = book_pdf
    bookmarks = {
        item.title: reader.get_destination_page_number(item)
        for entry in reader.outline
        for item in (entry if isinstance(entry, list) else [entry])
    }
    for page in CHAPTERS:
        title = chapter_title(page)
        assert title in bookmarks, f"no bookmark for {title}"
        start = bookmarks[title]
        assert letters(title) in letters(texts[start]), f"{title} does not start on its page"
        listed = re.search(rf"{re.escape(title)}\s+(\d+)", texts[1])  # the contents page
        assert listed and int(listed.group(1)) == start + 1, f"contents: {title}"
        assert texts[start].rstrip().endswith(str(start + 1))  # the page's own number


@pytest.mark.xdist_group("book")
def test_every_chapter_title_and_figure_caption_is_in_the_text(book_pdf) -> None:
    _, texts = book_pdf
    text = letters("".join(texts))
    for page in CHAPTERS:
        assert letters(chapter_title(page)) in text
        notebook = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        for cell in notebook.cells:
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption and "solution" not in cell.metadata.get("tags", []):
                words = letters(caption.split("$")[0])[:40]  # MathJax's glyphs are not letters
                assert words in text, f"{page}: caption missing: {caption[:60]}"


@pytest.mark.xdist_group("book")
def test_solutions_are_left_out_and_say_where_they_are(book_pdf) -> None:
    _, texts = book_pdf
    text = " ".join(" ".join(texts).split())
    solutions = [
        cell
        for page in CHAPTERS
        for cell in nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", [])
    ]
    note = "The solution is left out of the printed book: open this chapter online or on Colab."
    assert text.count(note) == len(solutions)
    for solution in solutions:  # its longest line, which the exercise's statement does not quote
        assert letters(max(solution.source.split("\n"), key=len)) not in letters(text)


@pytest.mark.xdist_group("book")
def test_equations_are_typeset_not_raw_tex(book_pdf) -> None:
    _, texts = book_pdf
    for number, text in enumerate(texts, start=1):
        raw = [tex for tex in RAW_TEX if tex in text]
        assert raw == [], f"page {number} shows raw TeX {raw}"


@pytest.mark.xdist_group("book")
def test_no_text_runs_outside_the_page(book_pdf) -> None:
    reader, _ = book_pdf
    outside = []
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, width=width, height=height):
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            scale = abs(cm[0] * tm[0]) or 1
            end = x + 0.45 * size * scale * len(text.rstrip())  # a narrow glyph: 0.45 em
            if text.strip() and not (-1 <= x and end <= width + 1 and -1 <= y <= height + 1):
                outside.append((number, round(x), round(end), round(y), text.strip()[:30]))

        page.extract_text(visitor_text=visit)
    assert outside == [], f"text outside the page box: {outside[:5]}"


@pytest.mark.xdist_group("book")
def test_links_are_kept_and_point_at_the_published_site(book_pdf) -> None:
    reader, _ = book_pdf
    uris = [
        annotation.get_object()["/A"].get("/URI", "")
        for page in reader.pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    ]
    assert any(uri.startswith(SITE + "book/") for uri in uris)  # a link to another page
    assert any(uri.startswith("https://") and not uri.startswith(SITE) for uri in uris)
    assert not [uri for uri in uris if uri.startswith(("file:", "http://127.0.0.1"))]
