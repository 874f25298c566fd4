"""Serve the smoke build on 127.0.0.1 and visit every page of _toc.yml once in headless Chromium
(Debian's, from `make browser`, driven by Playwright). Nothing may leave 127.0.0.1: any other
request is recorded and aborted.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from booktoc import toc_pages
from pagevisits import CHROMIUM, CHROMIUM_ARGS, LAPTOP, PHONE, Visit, measure_overflow, visit


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        """Say nothing: a failed request shows up in the visit's records instead."""


@pytest.fixture(scope="session")
def site(smoke_book: Path) -> Iterator[str]:
    """The smoke build served over HTTP on a free port of 127.0.0.1; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(smoke_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, the Debian package, without any background network traffic."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def visits(site: str, browser) -> dict[str, Visit]:
    """Every toc page, visited once on a laptop's screen in one browser context (so that shared
    files are cached)."""
    context = browser.new_context(viewport=LAPTOP)
    foreign: list[str] = []  # requests to any other host, during the current visit

    def only_local(route) -> None:
        """Let requests to the local server through; record and abort any other."""
        if route.request.url.startswith(site):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    records: dict[str, Visit] = {}
    for page_name in toc_pages():
        foreign.clear()
        records[page_name] = visit(context, site, page_name)
        records[page_name].foreign_requests = list(foreign)
    context.close()
    return records


@pytest.fixture(scope="session")
def phone_overflow(site: str, browser) -> dict[str, list[dict]]:
    """Every toc page, loaded on a phone's screen: its display equations' and tables' overflow."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    overflow = {page_name: measure_overflow(context, site, page_name) for page_name in toc_pages()}
    context.close()
    return overflow
