"""Every chapter really ran in the book build: myst-nb executed it (run time > 0, no failure),
every code cell was executed, in order, none with an error unless tagged `raises-exception`, and
the introduction's execution table shows each chapter's run time from this very build.

pytorch/tutorials fails its build when a tutorial's recorded duration is zero; this is the same
proof for the course, read from the build's Sphinx environment and its executed notebooks.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import nbformat
import pytest
from booktoc import is_notebook, toc_pages
from myst_nb.sphinx_ import NbMetadataCollector

CHAPTERS = [page for page in toc_pages() if is_notebook(page)]
EXPECTED_ERROR = "raises-exception"  # the tag Jupyter Book uses for a cell meant to fail


def build_folder(html: Path) -> Path:
    """The build's `_build` folder, which holds html/, .doctrees/ and jupyter_execute/."""
    return html.parent


@pytest.fixture(scope="module")
def exec_data(smoke_book: Path) -> dict[str, dict]:
    """myst-nb's record of each chapter's execution in this build (docname -> exec data)."""
    environment = build_folder(smoke_book) / ".doctrees" / "environment.pickle"
    env = pickle.loads(environment.read_bytes())
    return {page: NbMetadataCollector.get_exec_data(env, page) for page in CHAPTERS}


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_build_executed_the_chapter(exec_data, chapter: str) -> None:
    data = exec_data[chapter]
    assert data is not None, f"{chapter} was not executed by this build"
    assert data["succeeded"] and data["method"] != "cache", data
    assert data["runtime"] > 0, f"{chapter}: recorded run time {data['runtime']}"


def executed_cells(cells: list) -> list:
    """The code cells that hold code (an empty cell has nothing to execute)."""
    return [cell for cell in cells if cell.cell_type == "code" and cell.source.strip()]


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_code_cell_ran_in_order_without_an_unexpected_error(
    smoke_book: Path, chapter: str
) -> None:
    path = build_folder(smoke_book) / "jupyter_execute" / f"{chapter}.ipynb"
    cells = executed_cells(nbformat.read(path, as_version=4).cells)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{chapter}: execution counts {counts}"
    failed = [
        cell.id
        for cell in cells
        if any(out.output_type == "error" for out in cell.outputs)
        and EXPECTED_ERROR not in cell.metadata.get("tags", [])
    ]
    assert failed == [], f"{chapter}: cells with an error: {failed}"


@pytest.mark.xdist_group("book")
def test_the_introduction_shows_each_chapters_run_time_from_this_build(
    smoke_book: Path, exec_data
) -> None:
    html = (smoke_book / "book" / "intro.html").read_text()
    rows = {
        re.sub(r"<[^>]+>", "", cells[0]).strip(): [re.sub(r"<[^>]+>", "", c) for c in cells]
        for cells in (
            re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.DOTALL)
        )
        if cells
    }
    for chapter in CHAPTERS:
        shown = rows.get(chapter) or rows.get(Path(chapter).name)
        assert shown, f"no row for {chapter} in the execution table"
        assert str(round(exec_data[chapter]["runtime"], 2)) in shown, (chapter, shown)
