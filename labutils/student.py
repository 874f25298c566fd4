"""Student notebooks: the chapters with each exercise's solution replaced by a stub to fill in.

The chapters in `book/` are the solution notebooks. Each exercise's solution is a cell tagged
`solution` (hidden behind a toggle in the book), right after the exercise's admonition
(`:::{admonition} Exercise N.k: title`). The student version of a chapter is the same notebook,
outputs stripped, with every solution cell replaced by a visible stub that raises
`NotImplementedError("Exercise N.k: write name(args) -- see the text above.")`, so that running
the notebook stops at the first exercise left to do.

    python -m labutils.student          # (or `make student`) write student/*.ipynb and the
                                        # download page book/student-notebooks.md
    python -m labutils.student --check  # exit 1 if a written file is not what the chapters give

The output depends only on the chapters and `_config.yml`: running it twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

from .paths import repository_root

SOLUTION_TAG = "solution"
REMOVED_TAGS = {SOLUTION_TAG, "hide-input"}  # the stub is for the learner to see and fill in
EXERCISE = re.compile(r"Exercise\s+(\d+(?:\.\d+)*)\s*:?[ \t]*(.*)")
DEFINITION = re.compile(r"^def\s+(\w+)", re.MULTILINE)
NOTE_ID = "student-version-note"
PAGE = "book/student-notebooks.md"
COLAB = "https://colab.research.google.com/github"
LINE_LENGTH = 100  # ruff's, from pyproject.toml


class StudentError(ValueError):
    """A chapter does not follow the exercise conventions the generator relies on."""


def exercise_of(markdown: str) -> tuple[str, str] | None:
    """Number and title of the exercise an admonition introduces, e.g. ("2.2", "The KL term")."""
    for line in markdown.splitlines():
        if "admonition" in line and (match := EXERCISE.search(line)):
            return match.group(1), match.group(2).strip()
    return None


def task_of(solution: str) -> str | None:
    """What a solution defines, as `name(args)` (without type hints) from its first top-level
    `def`, if any."""
    try:
        tree = ast.parse(solution)
    except SyntaxError:  # e.g. an IPython magic: fall back to the name alone
        match = DEFINITION.search(solution)
        return f"{match.group(1)}(...)" if match else None
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if function is None:
        return None
    arguments = copy.deepcopy(function.args)
    for argument in ast.walk(arguments):
        if isinstance(argument, ast.arg):
            argument.annotation = None
    return f"{function.name}({ast.unparse(arguments)})"


def stub_source(number: str, title: str, solution: str, markdown: bool) -> str:
    """The stub that replaces a solution: the task in words, then (for code) the error that stops
    the notebook until the learner writes the solution there. Laid out as `ruff format` would."""
    if markdown:
        return f"**Exercise {number}:** write your answer here."
    task = task_of(solution)
    plain_title = re.sub(r"[$\\]", "", title)  # no math markup in a Python message
    what = f"write {task}" if task else f"write your code for '{plain_title}'"
    message = json.dumps(f"Exercise {number}: {what} -- see the text above.", ensure_ascii=False)
    comment = f"# Exercise {number}: replace this cell with your code, then run the cells below it."
    one_line = f"raise NotImplementedError({message})"
    if len(one_line) <= LINE_LENGTH:
        return f"{comment}\n{one_line}"
    return f"{comment}\nraise NotImplementedError(\n    {message}\n)"


def stub_cell(cell: dict, exercise: tuple[str, str]) -> dict:
    """A stub in place of solution `cell`: same id and kind, visible (hiding tags removed)."""
    metadata = copy.deepcopy(dict(cell.get("metadata", {})))
    tags = [tag for tag in metadata.get("tags", []) if tag not in REMOVED_TAGS]
    if tags:
        metadata["tags"] = tags
    else:
        metadata.pop("tags", None)
    markdown = cell["cell_type"] == "markdown"
    source = stub_source(*exercise, cell["source"], markdown)
    make = nbformat.v4.new_markdown_cell if markdown else nbformat.v4.new_code_cell
    stub = make(source, metadata=metadata)
    stub["id"] = cell.get("id", "")  # the solution's id; dropped below for ids-less notebooks
    return stub


def stripped(cell: dict) -> dict:
    """A copy of `cell` without outputs, execution counts or execution metadata."""
    cell = copy.deepcopy(cell)
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    for key in ("execution", "papermill", "collapsed", "scrolled"):
        cell.get("metadata", {}).pop(key, None)
    return cell


def note_cell(chapter: str) -> dict:
    """The note at the top of a student notebook: what it is and how to use it."""
    cell = nbformat.v4.new_markdown_cell(
        "> **Student version.** Each exercise's solution is replaced by a cell that raises "
        "`NotImplementedError`: write your code there, then run the checker cell below it. "
        "Running the whole notebook stops at the first exercise left to do. "
        f"The solutions are in the book. (Generated by `make student` from `book/{chapter}`.)"
    )
    cell["id"] = NOTE_ID
    return cell


def student_notebook(chapter: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student version of `chapter` (file name `name`): solutions replaced by stubs, outputs
    stripped, a note after the title cell."""
    notebook = copy.deepcopy(chapter)
    for key in ("papermill", "widgets"):
        notebook.metadata.pop(key, None)
    cells, exercise = [], None
    for index, cell in enumerate(chapter.cells):
        if cell["cell_type"] == "markdown":
            exercise = exercise_of(cell["source"]) or exercise
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            if exercise is None:
                raise StudentError(
                    f"{name}: cell {index} is tagged '{SOLUTION_TAG}' but no "
                    "':::{admonition} Exercise N.k: title' cell comes before it."
                )
            cell = stub_cell(cell, exercise)
        cells.append(stripped(cell))
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), -1)
    cells.insert(title + 1, note_cell(name))
    if (notebook.nbformat, notebook.nbformat_minor) < (4, 5):  # cell ids came with nbformat 4.5
        for cell in cells:
            cell.pop("id", None)
    notebook.cells = cells
    nbformat.validate(notebook)
    return notebook


def chapter_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The chapter's `# N. Title` heading, or `fallback`."""
    for cell in notebook.cells:
        if cell["cell_type"] == "markdown":
            for line in cell["source"].splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def repository_slug(root: Path) -> tuple[str, str]:
    """`owner/name` and branch of the repository named in `_config.yml`."""
    repository = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["repository"]
    slug = repository["url"].removeprefix("https://github.com/").strip("/")
    return slug, repository.get("branch", "main")


def download_page(titles: dict[str, str], root: Path) -> str:
    """The book page that offers each student notebook for download and opens it in Colab."""
    slug, branch = repository_slug(root)
    rows = [
        f"| {title} | {{download}}`{name} <../student/{name}>` "
        f"| [Open in Colab]({COLAB}/{slug}/blob/{branch}/student/{name}) |"
        for name, title in titles.items()
    ]
    return "\n".join(
        [
            "# Student notebooks",
            "",
            "Each chapter also comes as a *student notebook*: the same notebook, with the "
            "solution of every exercise replaced by a cell that raises `NotImplementedError`. "
            "Write your solution there, then run the checker cell below it: it tells you whether "
            "your code behaves like the reference, and if not, which mistake it looks like. "
            "Where an exercise trains a model, `check_on_track` compares your loss curve with "
            "the reference run's after the first epoch.",
            "",
            "Open a notebook in Colab, or download it and run it in Jupyter from a checkout of "
            "the repository (where `labutils` and the MNIST files are).",
            "",
            "| Chapter | Download | Colab |",
            "|---|---|---|",
            *rows,
            "",
            "The student notebooks are generated from the chapters by `make student`; a test "
            "checks that the committed ones are up to date.",
            "",
        ]
    )


def generated_files(root: Path) -> dict[Path, str]:
    """Every file the generator writes, path -> text, from the chapters `book/0*.ipynb`."""
    files, titles = {}, {}
    for path in sorted((root / "book").glob("0*.ipynb")):
        chapter = nbformat.read(path, as_version=4)
        notebook = student_notebook(chapter, path.name)
        files[root / "student" / path.name] = nbformat.writes(notebook) + "\n"
        titles[path.name] = chapter_title(chapter, path.stem)
    files[root / PAGE] = download_page(titles, root)
    return files


def orphans(root: Path, expected: dict[Path, str]) -> list[Path]:
    """Student notebooks whose chapter is gone."""
    return sorted(set((root / "student").glob("*.ipynb")) - set(expected))


def differs(path: Path, text: str) -> bool:
    """Whether `path` is missing or holds something other than `text`."""
    return not path.exists() or path.read_text(encoding="utf-8") != text


def stale_files(root: Path) -> list[Path]:
    """Generated files that are missing or out of date, and orphaned student notebooks."""
    expected = generated_files(root)
    return [p for p, text in expected.items() if differs(p, text)] + orphans(root, expected)


def write_student_notebooks(root: Path) -> list[Path]:
    """Write the student notebooks and the download page, and remove orphaned student
    notebooks. Returns the paths that changed (none on a second run)."""
    expected = generated_files(root)
    changed = [path for path, text in expected.items() if differs(path, text)]
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path], encoding="utf-8")
    for path in orphans(root, expected):
        path.unlink()
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: write the files, or with --check report stale ones (exit status 1)."""
    parser = argparse.ArgumentParser(description="Generate the student notebooks.")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    root = repository_root()
    if root is None:
        raise SystemExit("Run this from a checkout of the repository (it reads book/).")
    if args.check:
        stale = stale_files(root)
        for path in stale:
            print(f"stale: {path.relative_to(root)} (run `make student`)")
        return 1 if stale else 0
    for path in write_student_notebooks(root):
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
