"""One visit of a built page in Chromium: load it, let it settle, and record what a reader meets
there (console errors, requests, math, images, headings, links, solutions, widgets, axe-core's
accessibility violations in light and dark mode, equations and tables wider than the column) for
the checks in test_pages.py and test_accessibility.py. A full-page screenshot of each page goes to
_build/screenshots/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from booktoc import ROOT

SCREENSHOTS = ROOT / "_build" / "screenshots"
AXE = "_static/npm/axe-core/axe.min.js"  # axe-core, from npm (`make assets`), served by the book
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.0 and 2.1, levels A and AA
THEME_MODES = ("light", "dark")
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
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
    violations: dict[str, list[dict]] = field(default_factory=dict)  # axe-core's, per theme mode
    overflow: list[dict] = field(default_factory=list)  # each display equation and table


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


# The WCAG 2.0/2.1 A and AA violations axe-core finds on the page as it is now: for each rule, its
# id and impact, and each offending element with axe's summary of what is wrong with it.
AXE_JS = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    nodes: rule.nodes.map((node) => `${node.target.join(" ")}: ${node.failureSummary}`),
  }));
}
"""

# Switches the theme (pydata-sphinx-theme reads <html data-theme>) and resolves once the new
# colours are painted: after the theme's colour transitions, two frames later.
THEME_JS = """
async (mode) => {
  document.documentElement.dataset.mode = mode;
  document.documentElement.dataset.theme = mode;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await new Promise((resolve) => setTimeout(resolve, 400));
  await frame();
  await frame();
}
"""

# How far each display equation and table reaches past its box (scrollWidth - clientWidth, a part
# the reader must scroll to, or cannot see) or past the text column's right edge, in CSS pixels,
# and whether a table that does scrolls in a box that the keyboard can reach.
OVERFLOW_JS = """
() => {
  const column = document.querySelector("article.bd-article") || document.querySelector("main");
  const edge = column.getBoundingClientRect().right;
  const boxes = [
    ...[...column.querySelectorAll("div.math")].map((el) => ["equation", el]),
    ...[...column.querySelectorAll("table")].map((el) => ["table", el]),
  ];
  return boxes
    .filter(([, el]) => el.checkVisibility())
    .map(([kind, el], index) => {
      const parts = [el, ...el.querySelectorAll("mjx-container"), el.parentElement];
      const hidden = Math.max(
        ...parts.map((part) => part.scrollWidth - part.clientWidth),
        el.getBoundingClientRect().right - edge,
      );
      const heading = [...document.querySelectorAll("h1, h2, h3")]
        .filter((h) => h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)
        .pop();
      const box = el.closest(".pst-scrollable-table-container");  // the theme's, around a table
      return {
        kind,
        hidden: Math.round(hidden),
        // a table wider than the column, shown in a box of the column's width that scrolls
        // sideways and that the keyboard can focus (and so scroll)
        scrollsInFocusableBox: Boolean(box) && box.tabIndex === 0 &&
          box.scrollWidth > box.clientWidth && box.getBoundingClientRect().right <= edge + 1,
        section: heading ? heading.textContent.replace("#", "").trim() : "",
        text: (el.querySelector("mjx-assistive-mml") || el).textContent.trim().slice(0, 80),
      };
    });
}
"""


def audit(page, site: str) -> dict[str, list[dict]]:
    """axe-core's violations on a settled page in each theme mode, light then dark."""
    page.add_script_tag(url=site + AXE)
    violations = {}
    for mode in THEME_MODES:
        page.evaluate(THEME_JS, mode)
        violations[mode] = page.evaluate(AXE_JS, AXE_TAGS)
    page.evaluate(THEME_JS, "light")
    return violations


def measure_overflow(context, site: str, page_name: str) -> list[dict]:
    """Load one page in `context` (a phone's viewport, say), let it settle, and measure how far
    each display equation and table reaches past its box or the column."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{site}{page_name}.html", wait_until="load")
    page.evaluate(SETTLED_JS, page.locator(WIDGET_VIEW).count())
    overflow = page.evaluate(OVERFLOW_JS)
    page.close()
    return overflow


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
    record.overflow = page.evaluate(OVERFLOW_JS)
    record.violations = audit(page, site)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{page_name.replace('/', '-')}.png", full_page=True)
    record.solutions = open_solutions(page)
    page.close()
    return record
