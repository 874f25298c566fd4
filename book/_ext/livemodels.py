"""The live figures: the chapters' networks, exported to ONNX at build time, run in the reader's
browser by ONNX Runtime Web (book/_static/live-models.js).

A chapter places a live figure with an empty `<div class="live-figure" data-figure="..."
data-model="...">` in a Markdown cell, next to the static figure it makes live (which stays, for
readers without JavaScript). This extension
- adds live-models.js and its stylesheet to the pages that have such a figure, and only to those;
- once the build has finished, and so every chapter has trained or loaded its models, exports
  their networks from this mode's checkpoints into the site's _static/live/, with the arrays the
  figures need (tools/live_models.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from buildinfo import checkpoint_folder, smoke_mode
from sphinx.application import Sphinx
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the course's tooling (tools/), which is not installed

from tools.live_models import export_site  # noqa: E402

MARKER = 'class="live-figure"'
logger = logging.getLogger(__name__)


def add_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """On a page with a live figure, load its script (deferred) and its stylesheet."""
    if MARKER in context.get("body", ""):
        app.add_js_file("live-models.js", loading_method="defer")
        app.add_css_file("live-models.css")


def export_models(app: Sphinx, exception: Exception | None) -> None:
    """Export the chapters' networks into the HTML build's _static/live/."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_static" / "live"
    smoke = smoke_mode()
    # chapter 4's SAMPLES parameter: how many samples it draws from each model
    samples = int(os.environ.get("LABUTILS_SAMPLES", 500 if smoke else 10_000))
    manifest = export_site(checkpoint_folder(smoke), out, samples)
    total = sum(network["bytes"] for network in manifest["networks"].values())
    count = len(manifest["networks"])
    logger.info(f"live figures: {count} networks, {total / 1e6:.1f} MB, in {out}")


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("html-page-context", add_assets)
    app.connect("build-finished", export_models)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
