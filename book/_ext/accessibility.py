"""Accessible HTML for two things that Sphinx extensions write themselves (WCAG 2.1 A/AA, as
axe-core checks them in tests/browser):

- a hidden solution's toggle, `<summary aria-label="Toggle hidden content">` (myst-nb), whose
  name differed from the text it shows, "Show code cell source" (label-content-name-mismatch):
  the summary is now named by that text;
- the references page's citation list (docutils), whose entries had the deprecated role
  `doc-biblioentry` inside a `role="list"` without list items (aria-deprecated-role,
  aria-required-children): each entry is now a `listitem` of that list.
"""

from __future__ import annotations

from html import escape

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
from sphinx.application import Sphinx
from sphinx.writers.html5 import HTML5Translator


def visit_hidden_cell(self: HTML5Translator, node: HideCodeCellNode) -> None:
    """myst-nb's hidden-input toggle, its summary named by the prompt it shows."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def visit_citation(self: HTML5Translator, node: nodes.citation) -> None:
    """A citation as an item of the list that a run of citations forms."""
    if not isinstance(node.previous_sibling(), nodes.citation):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: HTML5Translator, node: nodes.citation) -> None:
    """Close the citation, and the list after the run's last one."""
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), nodes.citation):
        self.body.append("</div>\n")


def setup(app: Sphinx) -> dict:
    """Replace the two HTML writers (this extension must come after myst_nb)."""
    app.setup_extension("myst_nb")
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
