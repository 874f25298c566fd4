"""The committed Colab, Kaggle and Studio Lab editions in colab/: free of MyST, every listing
present, solutions hidden (or stubs), and where the book's rocket button sends a learner. That
they are up to date is checked with the student notebooks
(tests/notebooks/test_student_notebooks.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.editions import colab_folder
from tools.platforms import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("0*.ipynb"))
EDITIONS = sorted((ROOT / "colab").glob("*/0*.ipynb"))
MYST = {
    "role": re.compile(r"\{[a-z][\w:-]*\}`"),
    "directive": re.compile(r"^\s*(?:>\s*)?(?:`{3,}|:{3,})\{", re.MULTILINE),
    "colon fence": re.compile(r"^\s*(?:>\s*)?:::", re.MULTILINE),
    "label": re.compile(r"^\s*\([\w:-]+\)=\s*$", re.MULTILINE),
    "directive option": re.compile(r"^\s*(?:>\s*)?:(?:class|pyobject|name|label):", re.MULTILINE),
}
LISTING = re.compile(r"```\{literalinclude\} (?P<file>\S+)\n:pyobject: (?P<name>[\w.]+)")


def test_every_chapter_has_its_colab_student_kaggle_and_studio_lab_editions():
    names = [chapter.name for chapter in CHAPTERS]
    assert [(p.parent.name, p.name) for p in EDITIONS] == [
        (edition, name) for edition in sorted(["book", "student", *PLATFORMS]) for name in names
    ]


@pytest.mark.parametrize("edition", EDITIONS, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_no_myst_syntax_is_left(edition: Path):
    for index, cell in enumerate(nbformat.read(edition, as_version=4).cells):
        if cell.cell_type == "markdown":
            for kind, pattern in MYST.items():
                match = pattern.search(cell.source)
                assert match is None, f"cell {index}: MyST {kind} left: {match and match.group()}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_listing_is_shown_in_both_editions(chapter: Path):
    text = "\n".join(c.source for c in nbformat.read(chapter, as_version=4).cells)
    listings = [
        (m.group("file").removeprefix("../"), m.group("name")) for m in LISTING.finditer(text)
    ]
    assert listings, f"{chapter.name} quotes no library code"
    for edition in ("book", "student"):
        notebook = nbformat.read(ROOT / "colab" / edition / chapter.name, as_version=4)
        shown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        for file, name in listings:
            definition = rf"From `{re.escape(file)}`:\n\n```python\n(@.*\n)*(class|def) {name}\b"
            assert re.search(definition, shown), f"{edition}/{chapter.name}: {file} {name}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_solutions_are_hidden_forms_and_student_stubs_are_visible(chapter: Path):
    cells = nbformat.read(chapter, as_version=4).cells
    solutions = [c for c in cells if "solution" in c.metadata.get("tags", [])]
    code = [c for c in solutions if c.cell_type == "code"]
    assert code, f"{chapter.name} has no solution code"
    edition = {c.id: c for c in nbformat.read(ROOT / "colab" / "book" / chapter.name, 4).cells}
    for solution in solutions:
        hidden = edition[solution.id]
        if solution.cell_type == "code":
            assert hidden.metadata["cellView"] == "form"
            assert hidden.source.startswith("# @title Exercise ")
        else:
            assert hidden.source.startswith("<details>\n<summary>")
    student = nbformat.read(ROOT / "colab" / "student" / chapter.name, as_version=4).cells
    stubs = [c for c in student if "raise NotImplementedError(" in c.source]
    assert len(stubs) == len(code)
    assert not any("cellView" in c.metadata for c in stubs)


def test_the_rocket_button_opens_the_colab_edition():
    """Jupyter Book's launch button opens `<path_to_book>/<page>.ipynb` on Colab, and the page
    of book/NN-name.ipynb is book/NN-name (sphinx_book_theme's header_buttons/launch.py)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    path_to_book = config["repository"]["path_to_book"]
    for chapter in CHAPTERS:
        opened = ROOT / path_to_book / chapter.relative_to(ROOT)
        assert opened == ROOT / colab_folder(ROOT) / "book" / chapter.name
        assert opened.exists()
