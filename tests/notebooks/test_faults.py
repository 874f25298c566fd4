"""A broken notebook fails loudly: its cell's traceback in the test and in the book build, and a
cell that runs too long is named. Scratch notebooks are written to a temporary folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from papermill.exceptions import PapermillExecutionError
from runner import NotebookTimeout, run_notebook

ROOT = Path(__file__).resolve().parents[2]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
TRANSPORT_WARNING = "Kernel is running over TCP without encryption"
FAILING_CELL = "def check():\n    raise ValueError('deliberate failure')\n\ncheck()"


def write_notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    """A notebook of `cells` with the course's kernelspec, written to `path`."""
    notebook = nbformat.v4.new_notebook(cells=list(cells), metadata={"kernelspec": KERNELSPEC})
    nbformat.write(notebook, path)
    return path


def failing_notebook(path: Path) -> Path:
    """Three cells; the second raises a ValueError from inside a function."""
    code = nbformat.v4.new_code_cell
    return write_notebook(path, code("x = 1"), code(FAILING_CELL), code("y = 2"))


def without_colour(text: str) -> str:
    """`text` without terminal colour codes (the book build colours tracebacks)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_a_failing_cell_fails_the_notebook_test_with_its_traceback(tmp_path):
    notebook = failing_notebook(tmp_path / "broken.ipynb")
    with pytest.raises(PapermillExecutionError) as error:
        run_notebook(notebook, tmp_path / "out.ipynb", timeout=60)
    message = str(error.value)
    assert 'Exception encountered at "In [2]"' in message
    assert "----> 4 check()" in message  # the traceback, down to the failing line
    assert "ValueError: deliberate failure" in message


def test_a_failing_cell_fails_the_book_build_with_its_traceback(tmp_path, book_env):
    """A one-page book executed with the course's own `execute` settings (raise_on_error) and
    kernelspec: the log holds the cell's traceback, and no kernel transport warning."""
    execute = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    assert execute["raise_on_error"] is True
    config = {"title": "Scratch", "only_build_toc_files": True, "execute": execute}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: broken\n")
    failing_notebook(tmp_path / "broken.ipynb")
    build = subprocess.run(
        [Path(sys.executable).with_name("jupyter-book"), "build", tmp_path],
        capture_output=True,
        text=True,
        timeout=300,
        env=book_env,
    )
    output = without_colour(build.stdout + build.stderr)
    assert build.returncode != 0
    assert "There was an error in building your book" in output
    assert "raise ValueError('deliberate failure')" in output  # the cell's traceback
    assert "ValueError: deliberate failure" in output
    assert TRANSPORT_WARNING not in output


def test_the_kernel_runs_without_the_transport_warning(tmp_path, capfd):
    """papermill's kernel writes its log to the test's stderr: encrypted, it has nothing to say."""
    code = nbformat.v4.new_code_cell
    notebook = write_notebook(tmp_path / "quiet.ipynb", code("print('hello')"))
    run_notebook(notebook, tmp_path / "out.ipynb", timeout=60)
    assert TRANSPORT_WARNING not in capfd.readouterr().err
    outputs = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs
    assert outputs[0].text == "hello\n"


def test_a_cell_past_the_time_limit_is_named(tmp_path):
    code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    parameters = code("DELAY = 0")
    parameters.metadata["tags"] = ["parameters"]
    notebook = write_notebook(
        tmp_path / "slow.ipynb",
        parameters,
        markdown("# A slow chapter"),
        code("x = 1"),
        code("import time\n\ntime.sleep(DELAY)"),
    )
    with pytest.raises(NotebookTimeout) as error:
        run_notebook(notebook, tmp_path / "out.ipynb", timeout=2, parameters={"DELAY": 60})
    message = str(error.value)
    assert "slow.ipynb: cell 4 of 4 (it begins `import time`)" in message
    assert "still running after the 2 s limit" in message
