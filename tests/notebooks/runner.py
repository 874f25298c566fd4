"""Running a notebook top to bottom, with failures that say which cell went wrong.

papermill already reports a failing cell with its traceback (`PapermillExecutionError`). A cell
that runs past the time limit only raises nbclient's `CellTimeoutError`, which previews the
cell's source but not where it is; `run_notebook` turns that into a `NotebookTimeout` that names
the cell's position too. The notebook tests run chapters through it (`from runner import ...`:
pytest puts this folder on sys.path for the test modules in it).

The kernel manager provisions CurveZMQ keys for the kernel (`transport_encryption="auto"`, for
kernelspecs that declare support, as ipykernel's does), so that the kernel's connection is
encrypted and it does not warn "Kernel is running over TCP without encryption" on every run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError
from traitlets.config import Config

ENCRYPTED_KERNEL = Config({"KernelManager": {"transport_encryption": "auto"}})


class NotebookTimeout(RuntimeError):
    """A notebook cell ran past the time limit; the message names the cell."""


def run_notebook(
    notebook: str | Path,
    output: str | Path,
    *,
    timeout: int,
    cwd: str | Path | None = None,
    parameters: dict | None = None,
) -> None:
    """Execute `notebook` with papermill into `output`, each cell limited to `timeout` seconds.

    A failing cell raises papermill's `PapermillExecutionError` (its message holds the cell's
    traceback); a cell that runs too long raises `NotebookTimeout` naming the cell.
    """
    try:
        papermill.execute_notebook(
            notebook,
            output,
            parameters=parameters or {},
            cwd=cwd,
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
            config=ENCRYPTED_KERNEL,
        )
    except CellTimeoutError as error:
        number, count, source = timed_out_cell(Path(output))
        first_line = source.strip().splitlines()[0] if source.strip() else "(empty)"
        raise NotebookTimeout(
            f"{notebook}: cell {number} of {count} (it begins `{first_line}`) was still running "
            f"after the {timeout} s limit. Make it faster (smoke mode trains on a subset) "
            "or raise the limit."
        ) from error


def timed_out_cell(executed: Path) -> tuple[int, int, str]:
    """(Position from 1, number of cells, source) of the last cell papermill started, counted
    in the notebook as written: without the parameters cell papermill injects."""
    cells = nbformat.read(executed, as_version=4).cells
    own = [c for c in cells if "injected-parameters" not in c.metadata.get("tags", [])]
    started = [i for i, c in enumerate(own) if c.metadata.get("papermill", {}).get("start_time")]
    return started[-1] + 1, len(own), own[started[-1]].source
