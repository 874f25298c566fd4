"""What each page says about itself and where else it can be read.

- At the foot of every page: a "Feedback on this page" link that opens a new GitHub issue with the
  page and the commit the book was built from filled in, and the date the page was last verified:
  the date of that commit (the build executed every chapter from it), with the date the page's
  source last changed, both from git.
- Beside the Colab launch button of each chapter: Kaggle and SageMaker Studio Lab, which open the
  chapter's edition for that platform (`colab/kaggle/`, `colab/studiolab/`, written by
  `make student`; tools/platforms.py).
- In the download menu: the PDF of the whole book (`make pdf` writes it beside the pages).
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from docutils import nodes
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]
PDF = "generative-models-lab.pdf"  # tools/pdf.py writes it into the HTML folder
COLAB_PREFIX = "https://colab.research.google.com/github/"
PLATFORMS = {  # text, URL prefix before owner/repo/blob/branch/path, icon
    "kaggle": (
        "Kaggle",
        "https://kaggle.com/kernels/welcome?src=https://github.com/",
        "fab fa-kaggle",
    ),
    "studiolab": ("Studio Lab", "https://studiolab.sagemaker.aws/import/github/", "fas fa-flask"),
}


@cache
def git(*args: str) -> str:
    """git's output in the repository, stripped; "" when git or the history is unavailable."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def built_commit() -> str:
    """The commit the book is built from: $GITHUB_SHA in the publish workflow, else HEAD."""
    return os.environ.get("GITHUB_SHA") or git("rev-parse", "HEAD") or "unknown"


def feedback_url(repository: str, title: str, page: str, commit: str) -> str:
    """A new GitHub issue about `page`, with the page and the commit filled in."""
    body = (
        f"Page: {title} (`{page}`)\nBuilt from commit: {commit}\n\n"
        "What is wrong, unclear or missing (quote the sentence or the cell):\n\n"
    )
    query = urlencode({"title": f"Feedback on “{title}”", "body": body, "labels": "feedback"})
    return f"{repository.rstrip('/')}/issues/new?{query}"


def page_footer(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Append the feedback link and the verification dates to the page."""
    repository = app.config.html_theme_options.get("repository_url", "")
    if not repository or docname in ("genindex", "search"):
        return
    source = Path(app.env.doc2path(docname))
    title = app.env.titles[docname].astext() if docname in app.env.titles else docname
    commit = built_commit()
    verified = git("log", "-1", "--format=%cs", commit) or "not recorded (no git history)"
    changed = git("log", "-1", "--format=%cs", "--", str(source.relative_to(ROOT)))
    link = nodes.reference(
        "",
        "Feedback on this page",
        refuri=feedback_url(repository, title, source.relative_to(ROOT).as_posix(), commit),
    )
    text = f" (opens a GitHub issue). Last verified {verified}, when the book was built from "
    text += f"commit {commit[:12]}"
    text += f"; this page last changed {changed}." if changed else "."
    footer = nodes.container(classes=["page-meta"])
    footer += nodes.paragraph("", "", link, nodes.Text(text))
    doctree += footer


def extra_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Kaggle and Studio Lab beside Colab; the whole book's PDF in the download menu."""
    for group in context.get("header_buttons", []):
        buttons = group.get("buttons", [])
        if group.get("label") == "download-buttons":
            buttons.append(
                {
                    "type": "link",
                    "url": context["pathto"](PDF, 1),
                    "text": "book .pdf",
                    "tooltip": "The whole book as one PDF",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )
        colab = next((b for b in buttons if b.get("url", "").startswith(COLAB_PREFIX)), None)
        if colab is None:
            continue
        # owner/repo/blob/branch/colab/book/NN-name.ipynb -> .../colab/<platform>/NN-name.ipynb
        folder, _, name = colab["url"].removeprefix(COLAB_PREFIX).rpartition("/")
        editions = folder.rpartition("/")[0]
        for platform, (text, prefix, icon) in PLATFORMS.items():
            buttons.append(
                {
                    "type": "link",
                    "text": text,
                    "tooltip": f"Launch on {text}",
                    "icon": icon,
                    "url": f"{prefix}{editions}/{platform}/{name}",
                }
            )


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-resolved", page_footer)
    app.connect("html-page-context", extra_buttons, priority=600)  # after the theme's (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
