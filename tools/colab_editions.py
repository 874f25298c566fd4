"""Colab editions: the chapters in plain Markdown (`tools.myst_markdown`), hidden cells as forms.

A Colab edition of a chapter is the same notebook with every MyST construct rewritten as what the
book shows in its place (see `tools.myst_markdown`), and:

- a figure's caption (cell metadata) is printed in a Markdown cell under the figure;
- cells the book hides become Colab form cells (`# @title`, `cellView: form`), code hidden until a
  click on "Show code": each exercise's solution, and the Colab install cell; so do hidden
  Markdown solutions, as `<details>` disclosures;
- the chapter ends with the list of the references it cites.

`colab_edition` makes an edition from a notebook: from a chapter, the edition with solutions
hidden; from a student notebook (`tools.student_notebooks`), the student edition. The Kaggle and
Studio Lab editions are the same, with another preface (`tools.platforms`).
"""

from __future__ import annotations

import copy

import nbformat

from .bibliography import reference_line, surnames
from .myst_markdown import LABEL, Chapter, disclosure, markdown
from .student_notebooks import SOLUTION_TAG, exercise_of, stripped

HIDDEN_TAGS = {SOLUTION_TAG, "hide-input", "remove-input", "remove-cell"}


def figure_of(cell: dict) -> dict | None:
    """A figure cell's `mystnb.figure` metadata (caption, name), or None."""
    if cell["cell_type"] != "code":
        return None
    return cell.get("metadata", {}).get("mystnb", {}).get("figure")


def number_figures_and_sections(notebook: nbformat.NotebookNode, chapter: Chapter) -> None:
    """Record each named figure's number (in order, as the book numbers them per chapter) and
    the heading under each `(label)=`."""
    figures = [figure_of(cell) for cell in notebook.cells]
    for number, figure in enumerate((f for f in figures if f is not None), start=1):
        if "name" in figure:
            chapter.figures[figure["name"]] = number
    for cell in notebook.cells:
        if cell["cell_type"] == "markdown":
            lines = cell["source"].split("\n")
            for line, following in zip(lines, lines[1:], strict=False):
                if (match := LABEL.match(line)) and following.startswith("#"):
                    chapter.sections[match.group("label")] = following.lstrip("#").strip()


def form_title(cell: dict, exercise: tuple[str, str] | None) -> str:
    """The title a hidden cell shows in Colab: the exercise's, else the cell's first comment."""
    if SOLUTION_TAG in cell["metadata"].get("tags", []) and exercise:
        return f"Exercise {exercise[0]}: a solution"
    first = cell["source"].split("\n", 1)[0]
    if first.startswith("#"):
        return first.lstrip("# ").split(". ")[0].rstrip(".")
    return "Code hidden in the book"


def form_cell(cell: dict, title: str) -> dict:
    """A Colab form cell: only `title` shows, the code opens with a click on "Show code"."""
    cell = copy.deepcopy(cell)
    cell["source"] = f"# @title {title}\n{cell['source']}"
    cell["metadata"]["cellView"] = "form"
    return cell


def caption_cell(cell: dict, number: int, chapter: Chapter) -> dict:
    """The Markdown cell that prints figure `number`'s caption under its cell."""
    caption = markdown(figure_of(cell).get("caption", ""), chapter)
    printed = nbformat.v4.new_markdown_cell(f"**Figure {number}.** {caption}".rstrip())
    printed["id"] = f"{cell.get('id', 'figure')}-caption"[:64]
    return printed


def hidden_markdown(cell: dict, title: str, chapter: Chapter) -> dict:
    """A Markdown cell the book hides, behind a disclosure (unless it is one already)."""
    cell = copy.deepcopy(cell)
    body = markdown(cell["source"], chapter)
    cell["source"] = body if body.startswith("<details>") else disclosure(title, body)
    return cell


def edition_cells(notebook: nbformat.NotebookNode, chapter: Chapter) -> list[dict]:
    """The notebook's cells in Colab form: Markdown rewritten, hidden cells as forms, captions
    under their figures."""
    cells, exercise, figures = [], None, 0
    for original in notebook.cells:
        cell = stripped(original)
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "markdown":
            exercise = exercise_of(cell["source"]) or exercise
            if tags & HIDDEN_TAGS:
                cells.append(hidden_markdown(cell, form_title(cell, exercise), chapter))
            else:
                cells.append({**cell, "source": markdown(cell["source"], chapter)})
            continue
        cells.append(form_cell(cell, form_title(cell, exercise)) if tags & HIDDEN_TAGS else cell)
        if figure_of(cell) is not None:
            figures += 1
            cells.append(caption_cell(cell, figures, chapter))
    return cells


def references_cell(chapter: Chapter) -> dict:
    """The chapter's reference list, by first author, as the book's references page orders it."""
    keys = sorted(chapter.cited, key=lambda k: (surnames(chapter.bibliography[k]), k))
    lines = [f"- {reference_line(chapter.bibliography[key])}" for key in keys]
    cell = nbformat.v4.new_markdown_cell("## References\n\n" + "\n".join(lines))
    cell["id"] = "colab-references"
    return cell


def colab_edition(
    notebook: nbformat.NotebookNode, chapter: Chapter, preface: list[dict]
) -> nbformat.NotebookNode:
    """`notebook` (a chapter or a student notebook) in plain Markdown and Colab forms, outputs
    stripped, with the `preface` cells under its title and its references at the end."""
    edition = copy.deepcopy(notebook)
    for key in ("papermill", "widgets"):
        edition.metadata.pop(key, None)
    number_figures_and_sections(notebook, chapter)
    cells = edition_cells(notebook, chapter)
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), 0)
    # The title and the preface first, then the code that came before the title (install cell).
    cells = [cells[title], *preface, *cells[:title], *cells[title + 1 :]]
    if chapter.cited:
        cells.append(references_cell(chapter))
    edition.cells = [nbformat.from_dict(cell) for cell in cells]
    nbformat.validate(edition)
    return edition
