"""The built book as a reader meets it in a real browser, offline: every page of _toc.yml loads
without console errors or requests to other hosts, its math is typeset, its images have alt text,
its headings do not skip a level, its links resolve, its Colab button opens this chapter of the
configured repository, its hidden solutions open, and its widgets are drawn.

Each page is loaded once (the `visits` fixture, conftest.py); these tests judge the records.
"""

from __future__ import annotations

import functools
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml
from booktoc import ROOT, is_notebook, toc_pages
from pagevisits import SCREENSHOTS, Visit

pytestmark = pytest.mark.xdist_group("book")  # share the one smoke build (tests/book)

PAGES = toc_pages()
GENERIC_ALT = {
    *("image", "img", "figure", "fig", "picture", "photo", "plot", "graph", "chart", "output"),
    *("png", "jpg", "jpeg", "svg", "gif", "untitled", "logo", "icon", "none", "null"),
}


def meaningful(alt: str | None) -> bool:
    """Alt text that describes something: not missing or empty, not a file name or a path, not
    a generic word like "png" or "image", and at least two words."""
    text = (alt or "").strip()
    if text.lower() in GENERIC_ALT or re.fullmatch(r"\S*[./]\S*", text):
        return False
    return len(re.findall(r"[^\W\d_]{2,}", text)) >= 2


def colab_url(page: str) -> str:
    """Where the page's Colab button must point, from the one repository in _config.yml: the
    page's Colab edition, under `path_to_book` (colab/book/NN-name.ipynb)."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    github = repository["url"].removeprefix("https://github.com/")
    path = f"{repository['branch']}/{repository['path_to_book']}/{page}.ipynb"
    return f"https://colab.research.google.com/github/{github}/blob/{path}"


@functools.cache
def fetch(url: str) -> tuple[int, frozenset[str]]:
    """HTTP status of a same-site URL, and the ids in it that a #fragment can point to."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode("utf-8", "replace")
            return response.status, frozenset(re.findall(r'\sid="([^"]+)"', body))
    except urllib.error.HTTPError as error:
        return error.code, frozenset()


def test_meaningful_alt_rejects_what_a_screen_reader_cannot_use():
    assert meaningful("A 10 by 10 grid of handwritten digits sampled from the VAE.")
    assert meaningful("Colab logo")
    for bad in (None, "", "  ", "png", "Image", "fig-vae.png", "../_images/3f2a9c.png", "x"):
        assert not meaningful(bad), bad


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_without_errors(visits: dict[str, Visit], page: str):
    visit = visits[page]
    assert visit.status == 200
    assert visit.console_errors == [], "JavaScript console errors"
    assert visit.foreign_requests == [], "requests to hosts other than 127.0.0.1"
    assert visit.failed_requests == []
    broken = [image["src"] for image in visit.facts["images"] if not image["loaded"]]
    assert broken == [], "images that did not load"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(visits: dict[str, Visit], page: str):
    facts = visits[page].facts
    assert facts["typeset"] == facts["math"], "math elements without MathJax output"
    assert facts["mathErrors"] == 0, "MathJax could not parse some TeX"
    assert facts["rawMath"] == [], "TeX delimiters left in the visible text"


@pytest.mark.parametrize("page", PAGES)
def test_images_have_meaningful_alt_text(visits: dict[str, Visit], page: str):
    bad = [(image["src"], image["alt"]) for image in visits[page].facts["images"]]
    assert [(src, alt) for src, alt in bad if not meaningful(alt)] == []


@pytest.mark.parametrize("page", PAGES)
def test_headings_do_not_skip_a_level(visits: dict[str, Visit], page: str):
    headings = visits[page].facts["headings"]
    levels = [level for level, _ in headings]
    assert levels[:1] == [1] and levels.count(1) == 1, f"one h1 first: {headings}"
    skips = [(a, b) for a, b in zip(headings, headings[1:], strict=False) if b[0] > a[0] + 1]
    assert skips == []


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(visits: dict[str, Visit], site: str, page: str):
    broken = []
    for link in visits[page].facts["links"]:
        if not link.startswith(site):
            continue  # another site: not fetched (the check runs offline)
        address, _, fragment = link.partition("#")
        status, ids = fetch(address)
        if status != 200:
            broken.append(f"{link}: HTTP {status}")
        elif fragment and urllib.parse.unquote(fragment) not in ids:
            broken.append(f"{link}: no element with id {fragment!r}")
    assert broken == []


@pytest.mark.parametrize("page", PAGES)
def test_colab_button_opens_this_chapter(visits: dict[str, Visit], page: str):
    links = visits[page].facts["links"]
    colab = {link for link in links if link.startswith("https://colab.research.google.com")}
    launch = {link for link in colab if link.endswith(f"/{page}.ipynb")}  # its launch button
    assert launch == ({colab_url(page)} if is_notebook(page) else set())


@pytest.mark.parametrize("page", PAGES)
def test_hidden_solutions_open_on_click(visits: dict[str, Visit], page: str):
    solutions = visits[page].solutions
    if not solutions:
        pytest.skip("no hidden solution on this page")
    for solution in solutions:
        assert not solution["before"], "a solution's code is visible before its toggle is clicked"
        assert solution["after"] and solution["text"].strip(), "the toggle did not show the code"


@pytest.mark.parametrize("page", PAGES)
def test_widgets_are_drawn(visits: dict[str, Visit], page: str):
    facts = visits[page].facts
    if not facts["widgetViews"]:
        pytest.skip("no widget on this page")
    widgets = facts["widgets"]
    assert len(widgets) == facts["widgetViews"], "each embedded widget gets one drawing area"
    for widget in widgets:
        assert widget["drawn"] and not widget["failed"], "the widget manager could not draw it"
        assert widget["visible"] and all(widget["images"]), "the widget or its images are not shown"


@pytest.mark.parametrize("page", PAGES)
def test_screenshot_is_saved(visits: dict[str, Visit], page: str):
    assert (SCREENSHOTS / f"{page.replace('/', '-')}.png").stat().st_size > 10_000


def test_sphinx_extensions_keep_every_local_extension():
    """_config.yml lists Sphinx's extensions itself (to leave sphinx_thebe out): a local
    extension missing from that list would not be loaded."""
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    extensions = sphinx["config"]["extensions"]
    assert "sphinx_thebe" not in extensions
    assert set(sphinx.get("local_extensions") or {}) <= set(extensions)
