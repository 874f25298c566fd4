"""Re-target the course at a fork: `make fork REPO=owner/name BRANCH=main`.

The repository is named once, in `_config.yml` (`repository.url` and `repository.branch`): the
book's repository and Colab buttons read it there. A notebook opened on Colab cannot read
`_config.yml`, so each chapter's first cell carries the URL and branch as literals; that cell is
written by `install_cell` below, and CONTRIBUTING.md quotes it. The README names the book's
GitHub Pages address, and `labutils/reference.py` the address of the book's trained models
there. This script rewrites all of them from the new name; `make fork` then
regenerates the student notebooks, whose download page links to the repository.

Run from the repository root: `python -m tools.fork owner/name [branch]`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

GITHUB = "https://github.com/"
CHAPTERS = "book/*.ipynb"
README = "README.md"
CONTRIBUTING = "CONTRIBUTING.md"
CONFIG = "_config.yml"
REFERENCE = "labutils/reference.py"  # REFERENCE_SITE: the trained models on GitHub Pages
# Written from the chapters and _config.yml by `make student` (which `make fork` runs).
GENERATED = ("student/", "book/student-notebooks.md", "colab/")
SLUG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
BRANCH = re.compile(r"[A-Za-z0-9._/-]+")


def install_cell(url: str, branch: str) -> str:
    """The source of every chapter's first cell: on Colab only, pip-install labutils from `url`.

    Colab's own PyTorch, torchvision, numpy and matplotlib satisfy labutils' lower bounds, so pip
    keeps them and installs only what is missing (tests/unit/test_packaging.py checks this).
    """
    return (
        "# On Google Colab only: install the course's library from its repository. Colab's own\n"
        "# PyTorch, torchvision, numpy and matplotlib are recent enough, so pip keeps them.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        "# The repository and branch that `make fork` points a copy of the course at.\n"
        f'REPOSITORY = "{url}"\n'
        f'BRANCH = "{branch}"\n'
        'if "google.colab" in sys.modules:\n'
        '    cmd = [sys.executable, "-m", "pip", "install", "-q", f"git+{REPOSITORY}@{BRANCH}"]\n'
        "    subprocess.run(cmd, check=True)"
    )


def pages_url(url: str) -> str:
    """Where GitHub Pages serves the book built from the repository at `url`."""
    owner, name = url.removeprefix(GITHUB).strip("/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def reference_site(url: str) -> str:
    """The line of `labutils/reference.py` that names where the book's trained models are."""
    return f'REFERENCE_SITE = "{pages_url(url)}models"'


def generated(path: str) -> bool:
    """Whether `path` (relative to the root) is regenerated after a fork rather than rewritten."""
    return path.startswith(GENERATED)


def configured(root: Path) -> tuple[str, str]:
    """The repository URL and branch that `_config.yml` names (the one source)."""
    repository = yaml.safe_load((root / CONFIG).read_text(encoding="utf-8"))["repository"]
    return repository["url"], repository["branch"]


def indented(text: str, prefix: str = "   ") -> str:
    """`text` with every non-empty line indented, as in a Markdown list item."""
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def copies(root: Path) -> dict[str, bool]:
    """Each place that repeats the repository's name, and whether it agrees with `_config.yml`."""
    url, branch = configured(root)
    cell = install_cell(url, branch)
    found = {
        path.relative_to(root).as_posix(): nbformat.read(path, as_version=4).cells[0].source == cell
        for path in sorted(root.glob(CHAPTERS))
    }
    found[CONTRIBUTING] = indented(cell) in (root / CONTRIBUTING).read_text(encoding="utf-8")
    found[README] = pages_url(url) in (root / README).read_text(encoding="utf-8")
    found[REFERENCE] = reference_site(url) in (root / REFERENCE).read_text(encoding="utf-8")
    return found


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace `old` by `new` in `path`, which must contain it."""
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(
            f"{path.name} does not contain the text to rewrite:\n{old}\n"
            "Restore it from git, or make it agree with tools/fork.py, then run this again."
        )
    path.write_text(text.replace(old, new), encoding="utf-8")


def retarget(root: Path, slug: str, branch: str) -> None:
    """Point every copy of the repository URL and branch under `root` at `slug` and `branch`."""
    if not SLUG.fullmatch(slug):
        raise SystemExit(f"REPO must look like owner/name (GitHub's spelling), not {slug!r}.")
    if not BRANCH.fullmatch(branch):
        raise SystemExit(f"BRANCH must be a git branch name, not {branch!r}.")
    old_url, old_branch = configured(root)
    new_url = GITHUB + slug
    config = root / CONFIG
    old_lines = f"  url: {old_url}\n  branch: {old_branch}\n"
    replace_once(config, old_lines, f"  url: {new_url}\n  branch: {branch}\n")
    for path in sorted(root.glob(CHAPTERS)):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells[0].source = install_cell(new_url, branch)
        nbformat.write(notebook, path)
    old_cell, new_cell = install_cell(old_url, old_branch), install_cell(new_url, branch)
    replace_once(root / CONTRIBUTING, indented(old_cell), indented(new_cell))
    replace_once(root / README, pages_url(old_url), pages_url(new_url))
    replace_once(root / REFERENCE, reference_site(old_url), reference_site(new_url))


def main(argv: list[str]) -> None:
    if len(argv) not in (1, 2):
        raise SystemExit("usage: python -m tools.fork owner/name [branch]")
    root = Path.cwd()
    if not (root / CONFIG).is_file():
        raise SystemExit(f"Run this from the repository root (where {CONFIG} is).")
    slug, branch = argv[0], argv[1] if len(argv) == 2 else "main"
    retarget(root, slug, branch)
    print(f"Now {GITHUB}{slug} @ {branch}; the book will be served at {pages_url(GITHUB + slug)}")


if __name__ == "__main__":
    main(sys.argv[1:])
