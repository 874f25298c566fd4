"""The Colab editions run as a learner runs them on Colab, without Colab.

Each Colab notebook gets a fresh machine, so each edition runs here in a fresh empty folder outside
the checkout, in smoke mode, with

- `labutils` installed as the install cell installs it: from a wheel of the repository (built
  once per session, `pip install --no-deps --target`), not the checkout, and no `data/` folder;
- `google.colab` preloaded (an empty module, imported by a `sitecustomize`), so the chapters
  and `labutils` take their Colab path, and `pip` replaced by a recorder, so the install
  cell's command is checked, not run (there is no network);
- MNIST where torchvision's download puts it (`data/MNIST/raw/`), copied from the checkout.

Chapter 4 runs alone, as on Colab, without the checkpoints of chapters 1 to 3; the student editions
run up to their first exercise left to do. The time of each run is printed (`pytest -s`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
STUDENT_EDITIONS = sorted((ROOT / "colab" / "student").glob("0*.ipynb"))
TIMEOUT = 600  # seconds per cell
FAKE_PIP = '''"""pip, as the Colab test sees it: records the command line, installs nothing."""
import os
import sys

with open(os.environ["COLAB_TEST_PIP_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
'''


def run_pip(command: list, what: str) -> None:
    """Run pip offline; fail with pip's own output if it cannot `what`."""
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PIP_NO_INDEX": "1"}
    )
    assert done.returncode == 0, f"pip could not {what}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="session")
def colab_machine(tmp_path_factory) -> Path:
    """A folder with what a Colab machine has after the install cell: `labutils` from a wheel of
    the repository (site/), `google.colab` and the recording `pip` (fake/)."""
    machine = tmp_path_factory.mktemp("colab-machine")
    clone = machine / "clone"  # the repository's files as a clone has them; nothing is built here
    listed = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    for name in subprocess.run(listed, cwd=ROOT, capture_output=True, text=True).stdout.split():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, clone / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", machine / "wheel"]
    run_pip([*build, clone], "build a wheel of labutils (it needs setuptools in the environment)")
    [wheel] = (machine / "wheel").glob("labutils-*.whl")
    install = [*pip, "install", "--no-deps", "--no-index", "--target", machine / "site", wheel]
    run_pip(install, "install the wheel")
    (machine / "fake" / "google" / "colab").mkdir(parents=True)  # `google` stays a namespace
    (machine / "fake" / "google" / "colab" / "__init__.py").write_text('"""Not Colab."""\n')
    (machine / "fake" / "sitecustomize.py").write_text("import google.colab  # preloaded\n")
    (machine / "fake" / "pip").mkdir()
    (machine / "fake" / "pip" / "__init__.py").write_text("")
    (machine / "fake" / "pip" / "__main__.py").write_text(FAKE_PIP)
    return machine


def colab_environment(machine: Path, folder: Path) -> dict[str, str]:
    """The environment of a notebook on the simulated Colab machine: none of the course's
    variables but smoke mode, no checkout on the path, one thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABUTILS_")}
    env.update(
        PYTHONPATH=f"{machine / 'site'}{os.pathsep}{machine / 'fake'}",
        LABUTILS_SMOKE="1",
        LABUTILS_PROGRESS="0",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        COLAB_TEST_PIP_LOG=str(folder / "pip.log"),
    )
    return env


def fresh_machine_folder(machine: Path, tmp_path: Path) -> Path:
    """The learner's folder on a fresh machine, once MNIST is downloaded: data/MNIST/raw only."""
    folder = tmp_path / "content"
    shutil.copytree(
        ROOT / "data" / "MNIST" / "raw",
        folder / "data" / "MNIST" / "raw",
        ignore=shutil.ignore_patterns(".*"),
    )
    return folder


def run_on_colab(
    edition: Path, machine: Path, tmp_path: Path, monkeypatch
) -> tuple[nbformat.NotebookNode, Exception | None]:
    """Execute `edition` as on Colab; return the executed notebook and the error, if any."""
    folder = fresh_machine_folder(machine, tmp_path)
    shutil.copy(edition, folder)
    env = colab_environment(machine, folder)
    for name in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    where = subprocess.run(
        [sys.executable, "-c", "import labutils; print(labutils.__file__)"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(machine / "site"), where  # the wheel, not the checkout
    output, error, start = folder / f"executed-{edition.name}", None, time.perf_counter()
    try:
        papermill.execute_notebook(
            folder / edition.name,
            output,
            cwd=folder,
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=TIMEOUT,
        )
    except papermill.PapermillExecutionError as failure:
        error = failure
    print(f"\n{edition.parent.name}/{edition.name} on Colab: {time.perf_counter() - start:.0f} s")
    installs = (folder / "pip.log").read_text().splitlines()
    repository = CONFIG["repository"]
    assert len(installs) == 1 and installs[0].startswith("install ")
    assert installs[0].endswith(f"git+{repository['url']}@{repository['branch']}")
    return nbformat.read(output, as_version=4), error


def printed(notebook: nbformat.NotebookNode, stream: str) -> str:
    return "".join(
        out.get("text", "")
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == stream
    )


def test_chapter_4_alone_runs_on_a_fresh_colab_machine(colab_machine, tmp_path, monkeypatch):
    edition = ROOT / "colab" / "book" / "04-comparison.ipynb"
    executed, error = run_on_colab(edition, colab_machine, tmp_path, monkeypatch)
    assert error is None, error
    said = printed(executed, "stdout")
    for model in ("Autoencoder", "VAE", "Generator"):  # nothing from chapters 1-3 on this machine
        assert f"Training the {model} (" in said
    assert "No classifier at" not in said  # the classifier ships in the package
    assert "Warning" not in printed(executed, "stderr")


@pytest.mark.parametrize("edition", STUDENT_EDITIONS, ids=lambda path: path.stem)
def test_student_edition_runs_on_colab_up_to_its_first_exercise(
    edition, colab_machine, tmp_path, monkeypatch
):
    executed, error = run_on_colab(edition, colab_machine, tmp_path, monkeypatch)
    assert error is not None and error.ename == "NotImplementedError", error
    first_stub = next(c for c in executed.cells if "raise NotImplementedError(" in c.source)
    failed = [
        c
        for c in executed.cells
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert [c.id for c in failed] == [first_stub.id]
