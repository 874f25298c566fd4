"""Sphinx directives `{build-info}` and `{training-times}`: when, where and with what the book
was built, and how long each of its models took to train.

The introduction states the versions and the machine the chapters were executed with, and each
model's training time; these directives write them at build time so that they are never typed
in by hand. The training times come from the checkpoints, which record the run that trained them:
a build that loads saved checkpoints executes its chapters in seconds, but still shows how long
training took.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from labutils.checkpoint import read_checkpoint

PACKAGES = ("torch", "torchvision", "jupyter-book", "matplotlib", "labutils")


def smoke_mode() -> bool:
    """Whether the chapters run in smoke mode: $LABUTILS_SMOKE=1, as their parameters cells read."""
    return os.environ.get("LABUTILS_SMOKE", "0") == "1"


def checkpoint_folder(smoke: bool) -> Path:
    """Where the chapters keep this mode's checkpoints: their CHECKPOINTS parameter, which reads
    $LABUTILS_CHECKPOINTS (the Makefile sets it) and defaults to book/checkpoints."""
    root = Path(os.environ.get("LABUTILS_CHECKPOINTS") or Path(__file__).parents[1] / "checkpoints")
    return root / ("smoke" if smoke else "full")


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
    smoke = smoke_mode()
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in PACKAGES)
    return [
        ("built on", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("mode", "smoke (tiny subsets, for tests)" if smoke else "full training"),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("GPU", accelerator()),
        ("Python", platform.python_version()),
        ("libraries", versions),
    ]


def table_of(
    rows: list[tuple[str, ...]], widths: list[int], header: tuple[str, ...] = ()
) -> nodes.table:
    """A docutils table of text cells, with an optional header row."""
    table = nodes.table(classes=["build-info"])
    group = nodes.tgroup(cols=len(widths))
    group += [nodes.colspec(colwidth=width) for width in widths]
    for part, part_rows in ((nodes.thead(), [header] if header else []), (nodes.tbody(), rows)):
        for cells in part_rows:
            row = nodes.row()
            for text in cells:
                row += nodes.entry("", nodes.paragraph(text=text))
            part += row
        if part_rows:
            group += part
    table += group
    return table


class BuildInfo(SphinxDirective):
    """A two-column table of build facts."""

    def run(self) -> list[nodes.Node]:
        return [table_of(build_facts(), [1, 4])]


class training_times(nodes.General, nodes.Element):
    """Where the training-times table goes; filled in when every chapter has run."""


class TrainingTimes(SphinxDirective):
    """Placeholder for the table of training times (the checkpoints exist only after reading)."""

    def run(self) -> list[nodes.Node]:
        return [training_times()]


def checkpoint_rows(folder: Path) -> list[tuple[str, str, str, str]]:
    """(checkpoint, models, epochs, training time) for each checkpoint in `folder`."""
    rows = []
    for path in sorted(folder.glob("*.pt")):
        payload = read_checkpoint(path)
        seconds = payload["extra"].get("history", {}).get("seconds", [])
        models = ", ".join(
            f"{saved['class']}({', '.join(f'{k}={v}' for k, v in saved['config'].items())})"
            for saved in payload["models"].values()
        )
        rows.append((path.stem, models, str(len(seconds)), f"{sum(seconds):.0f} s"))
    return rows


def fill_training_times(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each placeholder with the table of this mode's checkpoints."""
    for placeholder in list(doctree.findall(training_times)):
        rows = checkpoint_rows(checkpoint_folder(smoke_mode()))
        header = ("checkpoint", "models", "epochs", "training time")
        placeholder.replace_self(
            table_of(rows, [2, 4, 1, 1], header)
            if rows
            else nodes.paragraph(text="No model has been trained yet.")
        )


def setup(app: Sphinx) -> dict[str, bool]:
    app.add_directive("build-info", BuildInfo)
    app.add_directive("training-times", TrainingTimes)
    app.add_node(training_times)
    app.connect("doctree-resolved", fill_training_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
