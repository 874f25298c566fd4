"""Every edition of the chapters that `make student` writes, and the page that links them.

From each chapter `book/NN-name.ipynb` (the solution notebook, the source of truth):

- `student/NN-name.ipynb`: the student notebook, solutions replaced by stubs, for Jupyter;
- `colab/book/NN-name.ipynb`: the Colab edition, plain Markdown, solutions in hidden form cells,
  which the book's rocket button opens; under its title, a note and a KEEP_IN_DRIVE checkbox
  (trained models kept in the learner's Google Drive, for the next session);
- `colab/student/NN-name.ipynb`: the Colab edition of the student notebook;
- `colab/kaggle/NN-name.ipynb`, `colab/studiolab/NN-name.ipynb`: the chapter's Kaggle and
  SageMaker Studio Lab editions, with a setup cell for that platform instead of the Drive
  checkbox (`tools.platforms`);
- `book/student-notebooks.md`: the book page that links them.

The Colab folder is `repository.path_to_book` in `_config.yml`: Jupyter Book's launch button opens
`<path_to_book>/<page>.ipynb` on Colab, and the page of `book/NN-name.ipynb` is `book/NN-name`.

    python -m tools.editions          # (or `make student`) write the files
    python -m tools.editions --check  # exit 1 if a written file is not what the chapters give

The output depends only on the chapters, `_config.yml`, `book/references.bib` and the library
files the chapters quote: running it twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

from .bibliography import BibliographyError, read_bibliography
from .colab_editions import colab_edition
from .myst_markdown import Chapter, ColabError
from .platforms import PLATFORMS
from .platforms import preface as platform_preface
from .student_notebooks import chapter_title, student_notebook

ROOT = Path(__file__).resolve().parents[1]
PAGE = "book/student-notebooks.md"
COLAB = "https://colab.research.google.com/github"
DRIVE_FOLDER = "/content/drive/MyDrive/generative-models-lab"
# Each Colab session is a fresh machine: without this, chapter 4 trains chapters 1-3's models again.
KEEP_MODELS = (
    "Each Colab session starts on a fresh machine, so the models a chapter trains are gone when "
    "the session ends, and chapter 4 trains the models of chapters 1 to 3 again (a few minutes "
    "on a CPU) unless it finds them. To keep them, tick `KEEP_IN_DRIVE` in the first code cell "
    "of the Colab edition before you run it: the chapters then save their trained models in your "
    "Google Drive (`MyDrive/generative-models-lab`) and load them from there the next time."
)
COLAB_NOTE = (
    "> **Colab edition** of a chapter of the *Generative Models Lab*, made from `book/{name}`. "
    "Run it from the top (*Runtime → Run all*): a code cell installs the course's library. "
    "A GPU runtime (*Runtime → Change runtime type*) trains faster.{solutions} To skip "
    "training, set `REFERENCE = True` in the settings cell: the chapter then downloads the "
    "book's trained models, checked against their SHA-256 sums, and trains only if that fails.\n"
    ">\n"
    f"> **Keep your trained models.** {KEEP_MODELS}"
)
SOLUTIONS_NOTE = (
    " Each exercise's solution is in a hidden cell under it: click *Show code* to open it."
)
# The chapters read $LABUTILS_CHECKPOINTS in their parameters cell, which runs after this one.
DRIVE_CELL = f"""# @title Keep the trained models in your Google Drive
import os

KEEP_IN_DRIVE = False  # @param {{type:"boolean"}}
if KEEP_IN_DRIVE:  # the chapters then save and load their trained models there
    from google.colab import drive

    drive.mount("/content/drive")
    os.environ["LABUTILS_CHECKPOINTS"] = "{DRIVE_FOLDER}"
""".rstrip("\n")


def preface(name: str, solutions: str) -> list[dict]:
    """The cells under a Colab edition's title: the note, and the Drive checkbox."""
    note = nbformat.v4.new_markdown_cell(COLAB_NOTE.format(name=name, solutions=solutions))
    note["id"] = "colab-edition-note"
    drive = nbformat.v4.new_code_cell(DRIVE_CELL, metadata={"cellView": "form"})
    drive["id"] = "colab-keep-in-drive"
    return [note, drive]


def configuration(root: Path) -> dict:
    """The repository's `_config.yml`."""
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def colab_url(root: Path, path: str) -> str:
    """Where Colab opens the repository's file `path` (on the configured branch)."""
    repository = configuration(root)["repository"]
    slug = repository["url"].removeprefix("https://github.com/").strip("/")
    return f"{COLAB}/{slug}/blob/{repository.get('branch', 'main')}/{path}"


def github_url(root: Path, path: str) -> str:
    """The repository's file `path` on GitHub (on the configured branch)."""
    repository = configuration(root)["repository"]
    return f"{repository['url'].rstrip('/')}/blob/{repository.get('branch', 'main')}/{path}"


def colab_folder(root: Path) -> str:
    """The folder of the Colab editions: where the launch button looks (see the module doc)."""
    return configuration(root)["repository"]["path_to_book"].strip("/")


def bibliography(root: Path) -> dict[str, dict[str, str]]:
    """The book's `book/references.bib`, read for author-year citations (empty if absent)."""
    path = root / "book" / "references.bib"
    return read_bibliography(path.read_text(encoding="utf-8")) if path.exists() else {}


def edition(
    notebook: nbformat.NotebookNode, root: Path, folder: str, cells: list[dict], on_colab=True
) -> str:
    """The Colab edition of `notebook` (a chapter or student notebook) as file text; its links
    to other chapters open their editions in `folder` (on Colab, or else on GitHub)."""
    chapter = Chapter(
        folder=root / "book",
        root=root,
        bibliography=bibliography(root),
        colab_folder=(colab_url if on_colab else github_url)(root, folder),
    )
    return nbformat.writes(colab_edition(notebook, chapter, cells)) + "\n"


def platform_edition(chapter: nbformat.NotebookNode, root: Path, key: str, name: str) -> str:
    """The edition of `chapter` for platform `key` (tools.platforms), solutions hidden."""
    repository = configuration(root)["repository"]
    cells = platform_preface(key, name, repository["url"], repository.get("branch", "main"))
    return edition(chapter, root, f"{colab_folder(root)}/{key}", cells, on_colab=False)


def download_page(titles: dict[str, str], root: Path) -> str:
    """The book page that opens each chapter's Colab editions and offers its student notebook."""
    colab = colab_folder(root)
    rows = []
    for name, title in titles.items():
        number, book, student = (
            name[:2].lstrip("0"),
            f"{colab}/book/{name}",
            f"{colab}/student/{name}",
        )
        rows.append(
            f"| {title} | [open chapter {number}]({colab_url(root, book)}) "
            f"| [open student chapter {number}]({colab_url(root, student)}) "
            f"| {{download}}`{name} <../student/{name}>` |"
        )
    return "\n".join(
        [
            "# Student notebooks",
            "",
            "Each chapter also comes as a *student notebook*: the same notebook, with the "
            "solution of every exercise replaced by a cell that raises `NotImplementedError`. "
            "Write your solution there, then run the checker cell below it: it tells you whether "
            "your code behaves like the reference, and if not, which mistake it looks like. "
            "Where an exercise trains a model, `check_on_track` compares your training loss with "
            "a reference run's band: the loss of the last completed epoch that the band covers, "
            "and the shape of the curve. You can call it as soon as one epoch is done; the "
            "exercise states the settings (optimiser, learning rate, batch size) the reference "
            "run used, and a run with others is reported as not comparable or off the band.",
            "",
            "On Colab, open a chapter's *Colab edition*: the chapter with the solutions in hidden "
            "cells (the rocket button at the top of each chapter opens it too), or its student "
            "edition. Both show the library code the chapter quotes, and the first cell installs "
            "the library. Or download the student notebook and run it in Jupyter from a checkout "
            "of the repository (where `labutils` and the MNIST files are).",
            "",
            "The launch menu at the top of each chapter also opens it on Kaggle or on SageMaker "
            "Studio Lab: the same edition, whose first cell installs the library and the MNIST "
            "files there and keeps the trained models where that platform keeps files (Kaggle's "
            "working folder, Studio Lab's home). On Kaggle, turn on *Internet* in the notebook's "
            "settings first.",
            "",
            "| Chapter | On Colab, solutions hidden | On Colab, student edition | For Jupyter |",
            "|---|---|---|---|",
            *rows,
            "",
            f"**Keep your trained models.** {KEEP_MODELS}",
            "",
            "The student notebooks and the Colab editions are generated from the chapters by "
            "`make student`; a test checks that the committed ones are up to date.",
            "",
        ]
    )


def generated_files(root: Path) -> dict[Path, str]:
    """Every file the generator writes, path -> text, from the chapters `book/0*.ipynb`."""
    files, titles, colab = {}, {}, colab_folder(root)
    for path in sorted((root / "book").glob("0*.ipynb")):
        name = path.name
        chapter = nbformat.read(path, as_version=4)
        student = student_notebook(chapter, name)
        files[root / "student" / name] = nbformat.writes(student) + "\n"
        try:
            files[root / colab / "book" / name] = edition(
                chapter, root, f"{colab}/book", preface(name, SOLUTIONS_NOTE)
            )
            files[root / colab / "student" / name] = edition(
                student, root, f"{colab}/student", preface(name, "")
            )
            for key in PLATFORMS:
                files[root / colab / key / name] = platform_edition(chapter, root, key, name)
        except (ColabError, BibliographyError) as error:
            raise ColabError(f"book/{name}: {error}") from error
        titles[name] = chapter_title(chapter, path.stem)
    files[root / PAGE] = download_page(titles, root)
    return files


def orphans(root: Path, expected: dict[Path, str]) -> list[Path]:
    """Generated notebooks whose chapter is gone."""
    colab = colab_folder(root)
    folders = [root / "student", *(root / colab / key for key in ("book", "student", *PLATFORMS))]
    written = {path for folder in folders for path in folder.glob("*.ipynb")}
    return sorted(written - set(expected))


def differs(path: Path, text: str) -> bool:
    """Whether `path` is missing or holds something other than `text`."""
    return not path.exists() or path.read_text(encoding="utf-8") != text


def stale_files(root: Path = ROOT) -> list[Path]:
    """Generated files that are missing or out of date, and orphaned notebooks."""
    expected = generated_files(root)
    return [p for p, text in expected.items() if differs(p, text)] + orphans(root, expected)


def write_editions(root: Path = ROOT) -> list[Path]:
    """Write every edition and the page, and remove orphaned notebooks. Returns the paths that
    changed (none on a second run)."""
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
    parser = argparse.ArgumentParser(
        description="Generate the student notebooks and Colab editions."
    )
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(ROOT)
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run `make student`)")
        return 1 if stale else 0
    for path in write_editions(ROOT):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
