"""One visit of a built page in Chromium: load it, let it settle, and record what a reader meets
there (console errors, requests, math, images, headings, links, solutions, widgets) for the
checks in test_pages.py. A full-page screenshot of each page goes to _build/screenshots/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from booktoc import ROOT

SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'


@dataclass
class Visit:
    """What one page load showed: the raw facts, judged by the tests."""

    page: str
    status: int = 0
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # collected by FACTS_JS after the page settled
    solutions: list[dict] = field(default_factory=list)  # each toggle: visible before/after click


# Runs in the page once it has settled: everything the checks need, gathered in one pass.
FACTS_JS = r"""
() => {
  const visible = (el) => el.checkVisibility();
  const main = document.querySelector("main") || document.body;
  // TeX a reader would see: $$ or \( \[ delimiters, a $...$ pair, or a $ stuck to typeset math
  // (what `$$ x $$` inside a sentence leaves when it is parsed as $ + inline math + $).
  const isMath = (el) => el instanceof Element && el.classList.contains("math");
  const rawMath = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest("pre, code, script, style, mjx-container") || !visible(parent)) continue;
    const text = node.textContent;
    if (
      /\$\$|\\\(|\\\[|\$[^$\s][^$]*\$/.test(text) ||
      (/\$\s*$/.test(text) && isMath(node.nextSibling)) ||
      (/^\s*\$/.test(text) && isMath(node.previousSibling))
    ) {
      rawMath.push(text.trim().slice(0, 100));
    }
  }
  const math = [...document.querySelectorAll(".math")];
  const widgetAreas = [...document.querySelectorAll(".widget-subarea")];
  return {
    math: math.length,
    typeset: math.filter((el) => el.querySelector("mjx-container")).length,
    mathErrors: document.querySelectorAll("mjx-merror").length,
    rawMath,
    images: [...document.querySelectorAll("img")].map((img) => ({
      src: (img.getAttribute("src") || "").slice(0, 120),
      alt: img.getAttribute("alt"),
      loaded: img.complete && img.naturalWidth > 0,
    })),
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
      .filter(visible)
      .map((h) => [Number(h.tagName[1]), h.textContent.replace("#", "").trim()]),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    widgetViews: document.querySelectorAll('WIDGET_VIEW').length,
    widgets: widgetAreas.map((area) => ({
      drawn: area.querySelector(".jupyter-widgets") !== null,
      failed: area.innerText.includes("javascript error"),
      visible: visible(area) && area.getBoundingClientRect().height > 20,
      images: [...area.querySelectorAll("img")].map((img) => img.complete && img.naturalWidth > 0),
    })),
  };
}
""".replace("WIDGET_VIEW", WIDGET_VIEW)

# Resolves when MathJax has typeset the page and the widget manager has drawn every widget (or
# after 30 s, leaving the undrawn widgets to the checks), and the fonts have loaded.
SETTLED_JS = """
async (views) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const deadline = Date.now() + 30000;
  while (document.querySelectorAll(".widget-subarea > *").length < views && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await document.fonts.ready;
}
"""


def open_solutions(page) -> list[dict]:
    """Click every hidden solution's "Show code cell source" toggle; note what it revealed."""
    results = []
    for cell in page.locator(".cell.tag_hide-input").all():
        code = cell.locator(".cell_input")
        before = code.is_visible()
        cell.locator("summary").first.click()
        code.wait_for(state="visible", timeout=5_000)
        results.append({"before": before, "after": code.is_visible(), "text": code.inner_text()})
    return results


def visit(context, site: str, page_name: str) -> Visit:
    """Load one page, wait until it has settled, gather its facts, screenshot it, open its
    solutions."""
    record = Visit(page_name)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a shared 2-core machine can be slow
    page.on("console", lambda m: m.type == "error" and record.console_errors.append(m.text))
    page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda r: record.failed_requests.append(f"{r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and record.failed_requests.append(f"{r.url} HTTP {r.status}"),
    )
    response = page.goto(f"{site}{page_name}.html", wait_until="load")
    record.status = response.status
    page.evaluate(SETTLED_JS, page.locator(WIDGET_VIEW).count())
    record.facts = page.evaluate(FACTS_JS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{page_name.replace('/', '-')}.png", full_page=True)
    record.solutions = open_solutions(page)
    page.close()
    return record
