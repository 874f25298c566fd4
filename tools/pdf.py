"""The PDF edition: the built site printed by headless Chromium into one PDF of the whole book.

`make pdf` (after `make book`) prints each page of `_toc.yml` in order through the site's print
stylesheet (`book/_static/print.css`: no navigation, toggles or widget chrome; code wrapped;
exercise solutions left out, with a line saying where they are), once MathJax has typeset its
equations, then joins them with pypdf behind a title page and a contents page, numbers the pages,
and adds a bookmark per page. Links to other pages of the book point at the published site.

    python -m tools.pdf _build/html            # writes _build/html/generative-models-lab.pdf

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright, as in tests/browser.
"""

from __future__ import annotations

import argparse
import datetime
import html
import http.server
import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml
from playwright.sync_api import Page, sync_playwright
from pypdf import PdfReader, PdfWriter

from .fork import configured, pages_url

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SITE = pages_url(configured(ROOT)[0])  # the published book
NAME = "generative-models-lab.pdf"  # book/_ext/pagemeta.py links it from the download menu
MARGIN = {"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"}
PRINTED_COLUMN = {"width": 673, "height": 950}  # A4 less the margins, in CSS pixels (96 per inch)
# True once MathJax has typeset every equation of the page (as mjx-container elements).
TYPESET = (
    "() => [...document.querySelectorAll('.math')].every(m => m.querySelector('mjx-container'))"
)
# Links to other pages of the book: to the published site, which the reader of a PDF can open.
SITE_LINKS = """([local, site]) => {
  for (const link of document.querySelectorAll("a[href]")) {
    if (link.href.startsWith(local)) link.href = site + link.href.slice(local.length);
  }
}"""


@dataclass
class Printed:
    """One page of the book, printed: its title and its PDF."""

    title: str
    pdf: bytes

    @property
    def pages(self) -> int:
        return len(PdfReader(io.BytesIO(self.pdf)).pages)


def toc_pages(root: Path = ROOT) -> list[tuple[str, str]]:
    """(part, page) for every page of `_toc.yml`, root first (part "" for the root)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    pages = [("", toc["root"])]
    for part in toc.get("parts", []):
        pages += [(part.get("caption", ""), chapter["file"]) for chapter in part["chapters"]]
    return pages


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on this machine while the block runs; yield its URL. (MathJax's
    speech worker, which its typesetting waits for, cannot load from file:// URLs.)"""
    handler = partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no line per file served
        pass


def print_page(page: Page, local: str, name: str) -> Printed:
    """Print page `name` of the site served at `local` to PDF, through the print stylesheet."""
    page.goto(f"{local}{name}.html", wait_until="load")
    page.wait_for_function(TYPESET, timeout=120_000)
    page.evaluate(SITE_LINKS, [local, SITE])
    title = page.evaluate("() => document.querySelector('main h1')?.innerText ?? document.title")
    pdf = page.pdf(format="A4", margin=MARGIN, print_background=True)
    return Printed(title.replace("#", "").strip(), pdf)


def front_matter_html(title: str, author: str, contents: list[tuple[str, str, int]]) -> str:
    """The title page and the contents page, as one HTML document."""
    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    built = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    rows, last_part = [], None
    for part, name, number in contents:
        if part != last_part and part:
            rows.append(f'<li class="part">{html.escape(part)}</li>')
        last_part = part
        rows.append(f"<li><span>{html.escape(name)}</span><span>{number}</span></li>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
body {{ font-family: sans-serif; }}
.title {{ height: 240mm; display: flex; flex-direction: column; justify-content: center;
          text-align: center; break-after: page; }}
.title h1 {{ font-size: 30pt; margin-bottom: 8mm; }}
.contents ol {{ list-style: none; padding: 0; font-size: 12pt; }}
.contents li {{ display: flex; justify-content: space-between; border-bottom: 1px dotted #999;
                padding: 2mm 0; }}
.contents li.part {{ border: none; font-weight: bold; margin-top: 6mm; }}
</style></head><body>
<section class="title"><h1>{html.escape(title)}</h1><p>{html.escape(author)}</p>
<p>Printed from the book built from commit {commit} on {built}.<br>
The online book, with the exercises' solutions: {html.escape(SITE)}</p></section>
<section class="contents"><h2>Contents</h2><ol>{"".join(rows)}</ol></section>
</body></html>"""


def page_numbers_html(count: int) -> str:
    """`count` pages, each with only its number at the foot: stamped onto the book's pages."""
    numbers = "".join(f'<div class="page"><span>{n}</span></div>' for n in range(1, count + 1))
    return f"""<!doctype html><html><head><style>
@page {{ size: A4; margin: 0; }}
body {{ margin: 0; font: 9pt sans-serif; color: #555; }}
.page {{ height: 297mm; position: relative; break-after: page; }}
.page span {{ position: absolute; bottom: 9mm; width: 100%; text-align: center; }}
</style></head><body>{numbers}</body></html>"""


def git(*args: str) -> str:
    """git's output in the repository, or "" without git."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def html_pdf(page: Page, document: str) -> bytes:
    """An HTML document printed to A4."""
    page.set_content(document)
    return page.pdf(format="A4", margin=MARGIN, print_background=True)


def assemble(front: bytes, printed: list[Printed], parts: list[str], numbers: bytes) -> PdfWriter:
    """Front matter, then every printed page, numbered, with one bookmark per page."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    stamps = PdfReader(io.BytesIO(numbers)).pages
    part_bookmark = {}
    for part, one in zip(parts, printed, strict=True):
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(one.pdf)))
        if part and part not in part_bookmark:
            part_bookmark[part] = writer.add_outline_item(title=part, page_number=start)
        writer.add_outline_item(title=one.title, page_number=start, parent=part_bookmark.get(part))
    for index, page in enumerate(writer.pages):
        if index > 0:  # no number on the title page
            page.merge_page(stamps[index])
    writer.page_mode = "/UseOutlines"
    return writer


def build_pdf(html_dir: Path, output: Path) -> int:
    """Print the book in `html_dir` to `output`; return its number of pages."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    entries = toc_pages()
    with sync_playwright() as playwright, served(html_dir) as local:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        # Laid out for print from the start, at the width of the printed column, so that MathJax
        # breaks a long equation where the page needs it, not where the screen did.
        page = browser.new_page(viewport=PRINTED_COLUMN)
        page.emulate_media(media="print")
        printed = [print_page(page, local, name) for _, name in entries]
        front_pages = 2  # the title page and one page of contents
        contents, number = [], front_pages + 1
        for (part, _), one in zip(entries, printed, strict=True):
            contents.append((part, one.title, number))
            number += one.pages
        front = html_pdf(page, front_matter_html(config["title"], config["author"], contents))
        numbers = html_pdf(page, page_numbers_html(number - 1))
        browser.close()
    if len(PdfReader(io.BytesIO(front)).pages) != front_pages:
        raise SystemExit("The contents no longer fit on one page: adjust tools/pdf.py's layout.")
    writer = assemble(front, printed, [part for part, _ in entries], numbers)
    writer.add_metadata({"/Title": config["title"], "/Author": config["author"]})
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    with open(partial, "wb") as file:
        writer.write(file)
    partial.replace(output)
    return len(writer.pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the built book into one PDF.")
    parser.add_argument("html", type=Path, help="the built site, e.g. _build/html")
    parser.add_argument("--output", type=Path, help=f"default: <html>/{NAME}")
    args = parser.parse_args(argv)
    output = args.output or args.html / NAME
    pages = build_pdf(args.html, output)
    print(f"wrote {output}: {pages} pages, {output.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
