"""The Kaggle and SageMaker Studio Lab editions (tools/platforms.py) run as a learner runs them
there, without Kaggle or Studio Lab.

Each platform is simulated by its marker in a fresh environment: Kaggle's KAGGLE_KERNEL_RUN_TYPE
variable, Studio Lab's home folder `studio-lab-user`. As in tests/colab/test_on_colab.py, the
notebook runs in a fresh empty folder outside the checkout with `labutils` from a wheel of the
repository, and `pip` is replaced by a recorder; `git` is replaced by one that records its
command line and "clones" the repository's files. The editions are generated here from the
chapters (the committed ones are checked for staleness elsewhere).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill
import pytest
from test_on_colab import CONFIG, FAKE_PIP, ROOT, TIMEOUT, colab_machine  # noqa: F401

from tools.editions import generated_files
from tools.platforms import PLATFORMS, setup_cell

REPOSITORY = CONFIG["repository"]
FAKE_GIT = '''#!{python}
"""git, as the platform test sees it: records the command line, copies the repository."""
import os
import shutil
import sys

with open(os.environ["PLATFORM_TEST_GIT_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
shutil.copytree(os.environ["PLATFORM_TEST_REPOSITORY"], sys.argv[-1])
'''
CHAPTER = "03-dcgan.ipynb"  # the shortest chapter in smoke mode


def marked(platform: str, home: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with `platform`'s marker set (and `home` as the home folder)."""
    env = {k: v for k, v in env.items() if k != "KAGGLE_KERNEL_RUN_TYPE"}
    if platform == "kaggle":
        env["KAGGLE_KERNEL_RUN_TYPE"] = "Interactive"
    home = home / ("studio-lab-user" if platform == "studiolab" else "learner")
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home)}


def kept_folder(platform: str, folder: Path, home: Path) -> Path:
    """Where the platform keeps the trained models: Kaggle's working folder, Studio Lab's home."""
    if platform == "kaggle":
        return folder / "checkpoints"
    return home / "studio-lab-user" / "generative-models-lab-checkpoints"


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("on_it", [True, False], ids=["on-it", "elsewhere"])
def test_the_setup_cell_installs_and_keeps_models_only_on_its_platform(
    platform, on_it, tmp_path, monkeypatch
):
    calls = []

    def run(command, check):
        calls.append([str(part) for part in command])
        if command[0] == "git":  # the clone: the repository's data folder
            shutil.copytree(ROOT / "data", Path(command[-1]) / "data", ignore=lambda *_: ["MNIST"])

    monkeypatch.setattr(subprocess, "run", run)
    env = marked(platform, tmp_path, {"TMPDIR": str(tmp_path / "tmp")}) if on_it else {}
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # gettempdir() caches $TMPDIR
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.delenv("LABUTILS_CHECKPOINTS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")
    exec(setup_cell(PLATFORMS[platform], REPOSITORY["url"], REPOSITORY["branch"]), {})
    if not on_it:
        assert calls == [] and "LABUTILS_CHECKPOINTS" not in os.environ
        return
    [clone, install] = calls
    assert clone[:2] == ["git", "clone"] and clone[-2] == REPOSITORY["url"]
    assert f"--branch {REPOSITORY['branch']}" in " ".join(clone)
    assert install[1:] == ["-m", "pip", "install", "-q", clone[-1]]
    assert (tmp_path / "notebook" / "data" / "MD5SUMS.raw").exists()
    kept = kept_folder(platform, tmp_path / "notebook", tmp_path)
    assert os.environ["LABUTILS_CHECKPOINTS"] == str(kept)


def test_the_drive_checkbox_is_only_in_the_colab_editions():
    files = {
        path.relative_to(ROOT).as_posix(): text for path, text in generated_files(ROOT).items()
    }
    for name in (path.name for path in sorted((ROOT / "book").glob("0*.ipynb"))):
        assert "KEEP_IN_DRIVE" in files[f"colab/book/{name}"]
        for platform in PLATFORMS:
            edition = nbformat.reads(files[f"colab/{platform}/{name}"], as_version=4)
            assert "KEEP_IN_DRIVE" not in files[f"colab/{platform}/{name}"]
            assert "drive.mount" not in files[f"colab/{platform}/{name}"]
            first_code = next(cell for cell in edition.cells if cell.cell_type == "code")
            assert first_code.id == f"{platform}-setup"


def platform_machine(colab_machine: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A machine without google.colab: the wheel's site/, and fakes of pip and git."""
    fake = tmp_path / "fake"
    (fake / "pip").mkdir(parents=True)
    (fake / "pip" / "__init__.py").write_text("")
    (fake / "pip" / "__main__.py").write_text(FAKE_PIP)
    (fake / "bin").mkdir()
    (fake / "bin" / "git").write_text(FAKE_GIT.format(python=sys.executable))
    (fake / "bin" / "git").chmod(0o755)
    return fake


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_edition_runs_on_a_fresh_machine_of_its_platform(
    platform,
    colab_machine,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    fake = platform_machine(colab_machine, tmp_path)
    folder = tmp_path / "notebook"
    folder.mkdir()
    edition = folder / CHAPTER
    edition.write_text(generated_files(ROOT)[ROOT / "colab" / platform / CHAPTER])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABUTILS_")}
    env.update(
        PYTHONPATH=f"{colab_machine / 'site'}{os.pathsep}{fake}",
        PATH=f"{fake / 'bin'}{os.pathsep}{os.environ['PATH']}",
        TMPDIR=str(tmp_path),
        LABUTILS_SMOKE="1",
        LABUTILS_PROGRESS="0",
        OMP_NUM_THREADS="1",
        COLAB_TEST_PIP_LOG=str(tmp_path / "pip.log"),
        PLATFORM_TEST_GIT_LOG=str(tmp_path / "git.log"),
        PLATFORM_TEST_REPOSITORY=str(colab_machine / "clone"),
    )
    env = marked(platform, tmp_path, env)
    for name in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    papermill.execute_notebook(
        edition,
        folder / f"executed-{CHAPTER}",
        cwd=folder,
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=TIMEOUT,
    )
    [clone] = (tmp_path / "git.log").read_text().splitlines()
    assert clone.startswith("clone ") and REPOSITORY["url"] in clone
    [install] = (tmp_path / "pip.log").read_text().splitlines()
    assert install == f"install -q {clone.split()[-1]}"
    assert (folder / "data" / "MNIST" / "raw").is_dir()  # MNIST from the clone's data folder
    kept = kept_folder(platform, folder, tmp_path)
    assert [p.name for p in (kept / "smoke").glob("*.pt")] == ["dcgan.pt"]
    assert not (folder / "checkpoints").exists() or platform == "kaggle"
