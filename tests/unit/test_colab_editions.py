"""The Colab editions' rewrite of MyST into plain Markdown (tools/myst_markdown.py), construct by
construct, and the hidden cells as Colab forms (tools/colab_editions.py)."""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
import types
from pathlib import Path

import nbformat
import pytest

import labutils
from tools.bibliography import read_bibliography
from tools.colab_editions import colab_edition
from tools.editions import DRIVE_CELL
from tools.myst_markdown import Chapter, ColabError, markdown, python_object

ROOT = Path(__file__).resolve().parents[2]
BIB = """
@article{hinton2006reducing,
  title   = {Reducing the Dimensionality of Data},
  author  = {Hinton, Geoffrey E. and Salakhutdinov, Ruslan R.},
  journal = {Science},
  year    = {2006}
}
@inproceedings{ghosh2020rae,
  title     = {From Variational to Deterministic Autoencoders},
  author    = {Ghosh, Partha and Sajjadi, Mehdi and Sch{\\"o}lkopf, Bernhard},
  booktitle = "ICLR",
  year      = {2020}
}
"""


def chapter(figures: dict[str, int] | None = None) -> Chapter:
    return Chapter(
        folder=ROOT / "book",
        root=ROOT,
        bibliography=read_bibliography(BIB),
        colab_folder="https://colab.example/colab/book",
        figures=dict(figures or {}),
    )


def test_a_quoted_object_is_its_source_as_inspect_reads_it():
    models = ROOT / "labutils" / "models.py"
    assert python_object(models, "VAE") == inspect.getsource(labutils.VAE).rstrip("\n")
    method = textwrap.dedent(inspect.getsource(labutils.VAE.forward)).rstrip("\n")
    assert python_object(models, "VAE.forward") == method
    with pytest.raises(ColabError, match="has no NoSuchModel"):
        python_object(models, "NoSuchModel")


def test_literalinclude_becomes_the_code_in_a_python_fence():
    source = "Before.\n\n```{literalinclude} ../labutils/losses.py\n:pyobject: kl_divergence\n```"
    code = inspect.getsource(labutils.kl_divergence).rstrip("\n")
    assert markdown(source, chapter()) == (
        f"Before.\n\nFrom `labutils/losses.py`:\n\n```python\n{code}\n```"
    )


def test_admonitions_become_quotes_with_a_bold_title_and_dropdowns_disclosures():
    source = (
        ":::{admonition} Exercise 1.1: Square it\n:class: tip\nWrite `f(x)`:\n\n$$\nx^2\n$$\n:::"
    )
    assert markdown(source, chapter()) == (
        "> **Exercise 1.1: Square it**\n>\n> Write `f(x)`:\n>\n> $$\n> x^2\n> $$"
    )
    dropdown = ":::{admonition} Discussion\n:class: dropdown\nWhy it works.\n:::"
    assert markdown(dropdown, chapter()) == (
        "<details>\n<summary>Discussion</summary>\n\nWhy it works.\n\n</details>"
    )
    note = "```{important}\n**Read this.** Twice.\n```"
    assert markdown(note, chapter()) == "> **Important**\n>\n> **Read this.** Twice."


def test_citations_are_author_year_and_listed_at_the_end():
    book = chapter()
    text = markdown(
        "As shown {cite}`ghosh2020rae`; Hinton and\nSalakhutdinov {cite}`hinton2006reducing` did.",
        book,
    )
    assert text == "As shown (Ghosh et al., 2020); Hinton and\nSalakhutdinov (2006) did."
    assert book.cited == ["ghosh2020rae", "hinton2006reducing"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")])
    notebook.cells[0]["id"] = "title"
    references = colab_edition(notebook, book, []).cells[-1].source
    assert references == (
        "## References\n\n"
        "- Partha Ghosh, Mehdi Sajjadi and Bernhard Schölkopf (2020). From Variational to "
        "Deterministic Autoencoders. *ICLR*.\n"
        "- Geoffrey E. Hinton and Ruslan R. Salakhutdinov (2006). Reducing the Dimensionality of "
        "Data. *Science*."
    )
    with pytest.raises(ColabError, match="no such entry"):
        markdown("{cite}`nobody2030`", chapter())


def test_cross_references_become_text_and_labels_go():
    book = chapter(figures={"fig-samples": 3})
    source = (
        "(failure-modes)=\n## Failure modes\n\nSee {numref}`fig-samples`, "
        "{ref}`the samples <fig-samples>`, {ref}`failure-modes` and [chapter 2](02-vae.ipynb)."
    )
    book.sections["failure-modes"] = "Failure modes"
    assert markdown(source, book) == (
        "## Failure modes\n\nSee Figure 3, the samples, the section “Failure modes” and "
        "[chapter 2](https://colab.example/colab/book/02-vae.ipynb)."
    )
    with pytest.raises(ColabError, match="no figure named fig-gone"):
        markdown("{numref}`fig-gone`", book)


def test_code_fences_are_left_alone_and_unknown_directives_are_refused():
    fenced = "```python\nprint('{cite}`x`')\n```"
    assert markdown(fenced, chapter()) == fenced
    with pytest.raises(ColabError, match=r"directive \{tab-set\} has no rendering"):
        markdown("::::{tab-set}\nA\n::::", chapter())


def fixture_edition() -> nbformat.NotebookNode:
    chapter_notebook = nbformat.read(
        ROOT / "tests" / "notebooks" / "fixtures" / "01-exercises.ipynb", as_version=4
    )
    figure = nbformat.v4.new_code_cell("fig = plot()")
    figure["id"] = "figure"
    figure.metadata["mystnb"] = {"figure": {"caption": "Squares, $x^2$.", "name": "fig-sq"}}
    chapter_notebook.cells.insert(4, figure)
    note = nbformat.v4.new_markdown_cell("> **Colab edition.**")
    note["id"] = "note"
    return colab_edition(chapter_notebook, chapter(), [note])


def test_solutions_and_hidden_cells_become_colab_forms():
    cells = {cell.id: cell for cell in fixture_edition().cells}
    square = cells["solution-square"]
    assert square.metadata["cellView"] == "form"
    assert square.source.startswith("# @title Exercise 1.1: a solution\ndef my_square(")
    install = cells["colab"]
    assert install.metadata["cellView"] == "form" and install.source.startswith("# @title Code ")
    why = cells["solution-why"]
    assert why.source.startswith("<details>\n<summary>Exercise 1.3: a solution</summary>")
    assert "hidden answer text" in why.source
    assert "cellView" not in cells["check-square"].metadata  # what is shown in the book stays


def test_figure_captions_are_printed_under_their_figures_and_the_note_under_the_title():
    edition = fixture_edition()
    ids = [cell.id for cell in edition.cells]
    caption = edition.cells[ids.index("figure") + 1]
    assert caption.cell_type == "markdown" and caption.source == "**Figure 1.** Squares, $x^2$."
    assert ids[:3] == ["title", "note", "colab"]  # the install cell after the preface
    assert edition.cells[1].source == "> **Colab edition.**"
    nbformat.validate(edition)


@pytest.mark.parametrize("ticked", [False, True])
def test_the_drive_checkbox_points_the_checkpoints_at_the_learners_drive(ticked, monkeypatch):
    mounted = []
    drive = types.ModuleType("google.colab.drive")
    drive.mount = mounted.append
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    sys.modules["google.colab"].drive = drive
    monkeypatch.setenv("LABUTILS_CHECKPOINTS", "")  # so that monkeypatch restores it afterwards
    monkeypatch.delenv("LABUTILS_CHECKPOINTS")
    assert "KEEP_IN_DRIVE = False  # @param" in DRIVE_CELL
    exec(DRIVE_CELL.replace("KEEP_IN_DRIVE = False", f"KEEP_IN_DRIVE = {ticked}"), {})
    assert mounted == (["/content/drive"] if ticked else [])
    folder = os.environ.get("LABUTILS_CHECKPOINTS")
    assert folder == ("/content/drive/MyDrive/generative-models-lab" if ticked else None)
