"""Sphinx directive `{build-info}`: when, where and with what the book was built.

The introduction states the versions and the machine the chapters were executed with; this
directive writes them at build time so that they are never typed in by hand.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

PACKAGES = ("torch", "torchvision", "jupyter-book", "matplotlib", "labutils")


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo, or the platform's description elsewhere."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def accelerator() -> str:
    """The GPU the notebooks ran on, or a plain statement that there was none."""
    import torch

    if torch.cuda.is_available() and os.environ.get("LABUTILS_DEVICE", "auto") != "cpu":
        return torch.cuda.get_device_name(0)
    return "none (the chapters ran on the CPU)"


def build_facts() -> list[tuple[str, str]]:
    """(label, value) rows describing this build."""
    smoke = os.environ.get("LABUTILS_SMOKE", "0") == "1"
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in PACKAGES)
    return [
        ("built on", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("mode", "smoke (tiny subsets, for tests)" if smoke else "full training"),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("GPU", accelerator()),
        ("Python", platform.python_version()),
        ("libraries", versions),
    ]


class BuildInfo(SphinxDirective):
    """A two-column table of build facts."""

    def run(self) -> list[nodes.Node]:
        table = nodes.table(classes=["build-info"])
        group = nodes.tgroup(cols=2)
        group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=4)]
        body = nodes.tbody()
        for label, value in build_facts():
            row = nodes.row()
            for text in (label, value):
                row += nodes.entry("", nodes.paragraph(text=text))
            body += row
        group += body
        table += group
        return [table]


def setup(app: Sphinx) -> dict[str, bool]:
    app.add_directive("build-info", BuildInfo)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
