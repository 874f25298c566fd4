"""The built book for every reader (WCAG 2.1 A and AA): axe-core finds no violation on any page in
light or dark mode, colour contrast included; each widget's controls are reached with Tab and
work with the keyboard; and no display equation or table is wider than the text column, on a
1280 px laptop, nor any display equation on a 390 px phone (where a table too wide for the screen
scrolls in its own focusable box).

The audits and laptop measurements come from the pages' one visit (the `visits` fixture); the
phone's from a second load of each page at its width (`phone_overflow`).
"""

from __future__ import annotations

import pytest
from booktoc import toc_pages
from pagevisits import LAPTOP, SETTLED_JS, THEME_MODES, WIDGET_VIEW, Visit, audit

pytestmark = pytest.mark.xdist_group("book")  # share the one smoke build (tests/book)

PAGES = toc_pages()
WIDGET_PAGES = ["book/02-vae", "book/03-dcgan"]  # the chapters that show widgets

# The element that has the keyboard focus, described: its role, accessible name (from
# aria-labelledby or its text), value text, which widget area it is in (-1: none), and whether it
# comes after the last one.
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  const labels = (el.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
  const name = labels.map((id) => document.getElementById(id).textContent).join(" ");
  const areas = [...document.querySelectorAll(".widget-subarea")];
  return {
    role: el.getAttribute("role") || el.tagName.toLowerCase(),
    name: name || el.getAttribute("aria-label") || el.textContent.trim(),
    value: el.getAttribute("aria-valuetext"),
    widget: areas.findIndex((area) => area.contains(el)),
    past: areas.length > 0 && !areas.at(-1).contains(el) &&
      Boolean(areas.at(-1).compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
  };
}
"""


def described(violations: list[dict]) -> list[str]:
    """One line per offending element: the rule, its impact, the element and what is wrong."""
    return [
        f"{rule['id']} ({rule['impact']}): {node}" for rule in violations for node in rule["nodes"]
    ]


@pytest.mark.parametrize("mode", THEME_MODES)
@pytest.mark.parametrize("page", PAGES)
def test_no_accessibility_violations(visits: dict[str, Visit], page: str, mode: str):
    assert described(visits[page].violations[mode]) == []


def test_the_audit_reports_what_it_finds(browser, site: str):
    """The audit runs and reports: an image without alt text and grey-on-white text are caught."""
    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{site}{PAGES[0]}.html", wait_until="load")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("afterbegin",
            '<img src="_static/favicon.svg"><p style="color:#bbb;background:#fff">faint</p>')"""
    )
    rules = {rule["id"] for rule in audit(page, site)["light"]}
    page.close()
    assert {"image-alt", "color-contrast"} <= rules


def overflowing(boxes: list[dict]) -> list[str]:
    """The equations and tables that reach past their box or the column, and by how many px."""
    return [
        f"{box['kind']} in '{box['section']}' by {box['hidden']} px: {box['text']}"
        for box in boxes
        if box["hidden"] > 1  # a pixel of rounding
    ]


@pytest.mark.parametrize("page", PAGES)
def test_equations_and_tables_fit_a_laptop(visits: dict[str, Visit], page: str):
    assert overflowing(visits[page].overflow) == []


@pytest.mark.parametrize("page", PAGES)
def test_equations_fit_a_phone_and_wide_tables_scroll(
    phone_overflow: dict[str, list[dict]], page: str
):
    """At 390 px every display equation fits (MathJax breaks the long ones into lines); a table
    may be wider than the screen only in its own box, which scrolls and takes the keyboard focus:
    chapter 4's nine columns of numbers, or the introduction's model descriptions, cannot be
    narrower without breaking inside a number or a name."""
    boxes = [box for box in phone_overflow[page] if not box["scrollsInFocusableBox"]]
    assert overflowing(boxes) == []


def test_overflow_is_measured(visits: dict[str, Visit]):
    """The measurement sees the chapters' display equations (a selector that matched nothing
    would pass every page)."""
    equations = [box for box in visits["book/02-vae"].overflow if box["kind"] == "equation"]
    assert len(equations) >= 10
    assert any("ELBO" in box["text"] for box in equations)


@pytest.mark.parametrize("page", WIDGET_PAGES)
def test_widgets_work_with_the_keyboard(browser, site: str, page: str):
    """Tab from the top of the page reaches every control of every widget, each named; the arrow
    keys move each slider by one step, and its value text and readout follow."""
    tab = browser.new_page(viewport=LAPTOP)
    tab.set_default_timeout(60_000)
    tab.goto(f"{site}{page}.html", wait_until="load")
    tab.evaluate(SETTLED_JS, tab.locator(WIDGET_VIEW).count())
    reached = []
    for _ in range(400):  # the page's links and buttons come first
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUSED_JS)
        if focused["widget"] >= 0:
            reached.append(focused)
            if focused["role"] == "slider":
                before = focused["value"]
                tab.keyboard.press("ArrowRight")
                after = tab.evaluate(FOCUSED_JS)["value"]
                assert float(after) > float(before), f"ArrowRight did not move {focused['name']}"
                readout = tab.evaluate(
                    "() => document.activeElement.closest('.widget-slider')"
                    ".querySelector('.widget-readout').textContent"
                )
                assert readout == after, "the slider's value text differs from its readout"
        elif focused["past"]:
            break
    controls = tab.evaluate(
        """() => [...document.querySelectorAll(".widget-subarea")].flatMap((area) =>
            [...area.querySelectorAll('[role="slider"], select, button')])
            .filter((el) => el.checkVisibility()).length"""
    )
    tab.close()
    interactive = [c for c in reached if c["role"] in ("slider", "select", "button")]
    assert len(interactive) == controls > 0, f"Tab reached {reached}"
    assert all(control["name"].strip() for control in interactive), reached
