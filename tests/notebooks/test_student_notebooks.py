"""The committed student notebooks: up to date, valid, free of solution code, and executing them
stops at the first exercise left to do."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest
from runner import ENCRYPTED_KERNEL

from labutils.checkers import CHECKERS
from tools.editions import stale_files, write_editions
from tools.student_notebooks import SOLUTION_TAG

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "book").glob("0*.ipynb"))
FIXTURE = ROOT / "tests" / "notebooks" / "fixtures" / "01-exercises.ipynb"


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def test_committed_student_notebooks_and_colab_editions_are_up_to_date():
    stale = [str(path.relative_to(ROOT)) for path in stale_files(ROOT)]
    assert stale == [], f"out of date, run `make student`: {stale}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_student_notebook_is_valid_and_holds_no_solution_code(chapter: Path):
    solution_notebook = nbformat.read(chapter, as_version=4)
    student = nbformat.read(ROOT / "student" / chapter.name, as_version=4)
    nbformat.validate(student)
    assert student.metadata.kernelspec.name == "python3"
    solutions = [c for c in solution_notebook.cells if is_solution(c)]
    assert solutions, f"{chapter.name} has no cell tagged '{SOLUTION_TAG}'"
    elsewhere = {
        line.strip()
        for cell in solution_notebook.cells
        if not is_solution(cell)
        for line in cell.source.splitlines()
    }
    student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    for cell in solutions:
        for line in cell.source.splitlines():
            line = line.strip()
            if line and line not in elsewhere:  # lines the chapter shows outside solutions are fine
                assert line not in student_lines, f"solution line in the student notebook: {line}"
    stubs = [c for c in student.cells if "raise NotImplementedError(" in c.source]
    assert len(stubs) == sum(c.cell_type == "code" for c in solutions)


def solution_functions(chapter: Path) -> dict[str, object]:
    """The functions the chapter's solution cells define, with the chapter's imports (the rest of
    the chapter -- training, figures -- is not run)."""
    namespace: dict[str, object] = {}
    for cell in nbformat.read(chapter, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        keep = (ast.Import, ast.ImportFrom) + ((ast.FunctionDef,) if is_solution(cell) else ())
        body = [node for node in ast.parse(cell.source).body if isinstance(node, keep)]
        exec(compile(ast.Module(body=body, type_ignores=[]), str(chapter), "exec"), namespace)
    return {name: namespace[name] for name in CHECKERS if name in namespace}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_solutions_pass_their_checkers(chapter: Path):
    functions = solution_functions(chapter)
    for name, function in functions.items():
        result = CHECKERS[name](function)
        assert result, result.message


def test_the_chapters_define_every_function_a_checker_expects():
    found = {name for chapter in CHAPTERS for name in solution_functions(chapter)}
    assert set(CHECKERS) <= found


def first_stub_error(notebook: Path, tmp_path: Path, monkeypatch) -> tuple[Exception, str]:
    """Execute a student notebook in smoke mode; return the error and the failing cell's id."""
    monkeypatch.setenv("LABUTILS_SMOKE", "1")
    monkeypatch.setenv("LABUTILS_CHECKPOINTS", str(tmp_path / "checkpoints"))
    output = tmp_path / f"executed-{notebook.name}"
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(
            notebook,
            output,
            cwd=ROOT / "book",  # where the chapters run from
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=300,
            config=ENCRYPTED_KERNEL,  # no transport warning in the log
        )
    executed = nbformat.read(output, as_version=4)
    failed = [
        cell.id
        for cell in executed.cells
        if any(out.get("output_type") == "error" for out in cell.get("outputs", []))
    ]
    assert len(failed) == 1
    return error.value, failed[0]


def first_stub_id(student: Path) -> str:
    notebook = nbformat.read(student, as_version=4)
    return next(c.id for c in notebook.cells if "raise NotImplementedError(" in c.source)


def test_fixture_student_notebook_stops_at_its_first_stub(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    shutil.copy(FIXTURE, tmp_path / "book")
    shutil.copy(ROOT / "_config.yml", tmp_path)
    write_editions(tmp_path)
    student = tmp_path / "student" / FIXTURE.name
    error, cell = first_stub_error(student, tmp_path, monkeypatch)
    assert error.ename == "NotImplementedError" and "Exercise 1.1: write my_square" in error.evalue
    assert cell == first_stub_id(student) == "solution-square"


@pytest.mark.parametrize("chapter", CHAPTERS[:1], ids=lambda path: path.stem)
def test_student_chapter_stops_at_its_first_stub(chapter, tmp_path, monkeypatch):
    student = ROOT / "student" / chapter.name
    error, cell = first_stub_error(student, tmp_path, monkeypatch)
    assert error.ename == "NotImplementedError" and "Exercise" in error.evalue
    assert cell == first_stub_id(student)
