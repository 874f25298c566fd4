"""The student-notebook generator (tools/), on a fixture chapter with two code exercises and a
question."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.editions import stale_files, write_editions
from tools.myst_markdown import ColabError
from tools.platforms import PLATFORMS
from tools.student_notebooks import StudentError, exercise_of, task_of

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "notebooks" / "fixtures" / "01-exercises.ipynb"
NAME = FIXTURE.name


def executed_fixture() -> nbformat.NotebookNode:
    """The fixture chapter as an executed one looks: with outputs and execution counts."""
    chapter = nbformat.read(FIXTURE, as_version=4)
    for count, cell in enumerate(c for c in chapter.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
        cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00"}
    return chapter


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A miniature repository: the real _config.yml and a book/ holding the fixture chapter."""
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path)
    nbformat.write(executed_fixture(), tmp_path / "book" / NAME)
    return tmp_path


def generated(course: Path) -> nbformat.NotebookNode:
    write_editions(course)
    return nbformat.read(course / "student" / NAME, as_version=4)


def cells_by_id(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {cell.id: cell for cell in notebook.cells}


def test_solutions_become_visible_stubs_that_raise(course):
    cells = cells_by_id(generated(course))
    square, total, why = cells["solution-square"], cells["solution-sum"], cells["solution-why"]
    assert 'raise NotImplementedError("Exercise 1.1: write my_square(x) -- see' in square.source
    assert "Exercise 1.2: write your code for 'Sum of squares'" in total.source
    assert why.cell_type == "markdown" and why.source == "**Exercise 1.3:** write your answer here."
    for stub in (square, total, why):
        assert not {"solution", "hide-input"} & set(stub.metadata.get("tags", []))


def test_no_solution_code_or_output_survives(course):
    chapter, student = nbformat.read(FIXTURE, as_version=4), generated(course)
    solutions = [c.source for c in chapter.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) == 3
    text = "\n".join(cell.source for cell in student.cells)
    for line in "\n".join(solutions).splitlines():
        if line.strip():
            assert line.strip() not in text, line
    assert all(cell.get("outputs", []) == [] for cell in student.cells)


def test_everything_else_is_kept_outputs_stripped(course):
    chapter, student = executed_fixture(), generated(course)
    nbformat.validate(student)
    assert student.metadata.kernelspec == chapter.metadata.kernelspec
    assert [c.id for c in student.cells] == [c.id for c in chapter.cells[:2]] + [
        "student-version-note"
    ] + [c.id for c in chapter.cells[2:]]
    kept = cells_by_id(chapter)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert "execution" not in cell.metadata
        if cell.id in kept and "solution" not in kept[cell.id].metadata.get("tags", []):
            assert cell.source == kept[cell.id].source
            assert cell.metadata.get("tags") == kept[cell.id].metadata.get("tags")


def test_stubs_are_formatted_as_ruff_formats_them(course):
    generated(course)
    ruff = Path(sys.executable).parent / "ruff"
    notebook = course / "student" / NAME
    command = [ruff, "format", "--check", "--config", ROOT / "pyproject.toml", notebook]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generation_is_deterministic_and_idempotent(course, tmp_path_factory):
    first = write_editions(course)
    assert {p.relative_to(course).as_posix() for p in first} == {
        f"student/{NAME}",
        f"colab/book/{NAME}",
        f"colab/student/{NAME}",
        f"colab/kaggle/{NAME}",
        f"colab/studiolab/{NAME}",
        "book/student-notebooks.md",
    }
    written = (course / "student" / NAME).read_bytes()
    assert write_editions(course) == []  # a second run changes nothing
    assert (course / "student" / NAME).read_bytes() == written
    elsewhere = tmp_path_factory.mktemp("again")
    shutil.copytree(course / "book", elsewhere / "book")
    shutil.copy(course / "_config.yml", elsewhere)
    write_editions(elsewhere)
    assert (elsewhere / "student" / NAME).read_bytes() == written


def test_stale_and_orphaned_notebooks_are_found_and_fixed(course):
    write_editions(course)
    assert stale_files(course) == []
    chapter = nbformat.read(course / "book" / NAME, as_version=4)
    chapter.cells[3].source = "base = 4"
    nbformat.write(chapter, course / "book" / NAME)
    orphan = course / "student" / "09-removed.ipynb"
    orphan.write_text("{}")
    editions = [course / "colab" / edition / NAME for edition in ("book", "student", *PLATFORMS)]
    assert stale_files(course) == [course / "student" / NAME, *editions, orphan]
    write_editions(course)
    assert stale_files(course) == [] and not orphan.exists()


def test_download_page_links_each_notebook(course):
    config = yaml.safe_load((course / "_config.yml").read_text())
    fork = {"url": "https://github.com/example-org/example-course", "branch": "spring"}
    config["repository"].update(fork)
    (course / "_config.yml").write_text(yaml.safe_dump(config))  # a fork's repository
    write_editions(course)
    page = (course / "book" / "student-notebooks.md").read_text()
    assert f"{{download}}`{NAME} <../student/{NAME}>`" in page
    colab = "https://colab.research.google.com/github/example-org/example-course"
    assert f"[open chapter 1]({colab}/blob/spring/colab/book/{NAME})" in page
    assert f"[open student chapter 1]({colab}/blob/spring/colab/student/{NAME})" in page
    assert "| 1. A fixture chapter |" in page


def test_solution_without_an_exercise_is_an_error(course):
    chapter = nbformat.read(course / "book" / NAME, as_version=4)
    chapter.cells[3].metadata["tags"] = ["solution"]  # before any exercise admonition
    nbformat.write(chapter, course / "book" / NAME)
    with pytest.raises(StudentError, match="cell 3 is tagged 'solution'"):
        write_editions(course)


def test_exercise_and_task_are_read_from_the_cells():
    admonition = ":::{admonition} Exercise 2.3: The beta-VAE\n:class: tip"
    assert exercise_of(admonition) == ("2.3", "The beta-VAE")
    assert exercise_of("Some text about Exercise 2.3.") is None  # not an admonition
    code = "import torch\n\ndef my_kl(\n    mu, logvar,\n) -> torch.Tensor:\n    return mu"
    assert task_of(code) == "my_kl(mu, logvar)"
    hinted = "def add_noise(images: Tensor, std, generator: G | None = None) -> Tensor:\n    ..."
    assert task_of(hinted) == "add_noise(images, std, generator=None)"  # no type hints
    assert task_of("%time x = 1\ndef f(x):\n    pass") == "f(...)"  # not plain Python
    assert task_of("model = train()") is None


def test_a_listing_of_a_missing_object_names_the_chapter(course):
    chapter = nbformat.read(course / "book" / NAME, as_version=4)
    chapter.cells[1].source += "\n\n```{literalinclude} ../labutils/models.py\n:pyobject: Nope\n```"
    nbformat.write(chapter, course / "book" / NAME)
    (course / "labutils").mkdir()
    shutil.copy(ROOT / "labutils" / "models.py", course / "labutils")
    with pytest.raises(ColabError, match=rf"book/{NAME}: .*models.py has no Nope"):
        write_editions(course)
