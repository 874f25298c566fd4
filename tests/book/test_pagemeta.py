"""What each built page says about itself (book/_ext/pagemeta.py): a feedback link that opens a
prefilled GitHub issue naming the page and the commit, the last-verified date from git, Kaggle and
Studio Lab beside Colab on every chapter, and the whole book's PDF in the download menu."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from booktoc import ROOT, is_notebook, toc_pages

REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def source_of(page: str) -> str:
    return f"{page}.ipynb" if is_notebook(page) else f"{page}.md"


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("page", toc_pages())
def test_every_page_has_a_prefilled_feedback_link_and_its_last_verified_date(
    smoke_book: Path, page: str
) -> None:
    text = (smoke_book / f"{page}.html").read_text()
    [link] = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>Feedback on this page</a>', text)
    url = urlsplit(html.unescape(link))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{REPOSITORY['url']}/issues/new"
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    commit = git("rev-parse", "HEAD")  # the smoke build is built from this checkout
    assert f"`{source_of(page)}`" in query["body"] and f"commit: {commit}" in query["body"]
    title = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.DOTALL).group(1)  # the print header
    assert re.sub(r"<[^>]+>", "", title).strip() in query["title"]
    verified, changed = (
        git("log", "-1", "--format=%cs", commit),
        git("log", "-1", "--format=%cs", "--", source_of(page)),
    )
    prose = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    assert f"Last verified {verified}, when the book was built from commit {commit[:12]}" in prose
    assert f"this page last changed {changed}." in prose


@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("page", [page for page in toc_pages() if is_notebook(page)])
def test_kaggle_and_studio_lab_launch_beside_colab(smoke_book: Path, page: str) -> None:
    text = (smoke_book / f"{page}.html").read_text()
    name = Path(page).name
    blob = f"{REPOSITORY['url']}/blob/{REPOSITORY['branch']}".removeprefix("https://github.com/")
    for url in (
        f"https://colab.research.google.com/github/{blob}/colab/book/{name}.ipynb",
        f"https://kaggle.com/kernels/welcome?src=https://github.com/{blob}/colab/kaggle/{name}.ipynb",
        f"https://studiolab.sagemaker.aws/import/github/{blob}/colab/studiolab/{name}.ipynb",
    ):
        assert f'href="{url}"' in text, url


@pytest.mark.xdist_group("book")
def test_the_download_menu_offers_the_books_pdf(smoke_book: Path) -> None:
    text = (smoke_book / "book" / "02-vae.html").read_text()
    assert re.search(r'<a href="\.\./generative-models-lab\.pdf"[^>]*\n?[^>]*download', text)
