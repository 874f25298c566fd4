"""The Colab path, without Colab: every chapter's hidden first cell installs labutils from the one
repository that _config.yml names (and only on Colab), MNIST is downloaded there because the
repository's data folder is absent, and a Colab GPU is used when present.

Colab is simulated by putting a module named `google.colab` into `sys.modules`, which is what the
chapters and `labutils.data` look for.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import types
import urllib.error
from pathlib import Path

import nbformat
import pytest
import torchvision
import torchvision.datasets.utils
import yaml

from labutils import DataError, load_mnist, prepare_mnist
from labutils.data import FILES, raw_dir

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def first_cell(notebook: Path) -> nbformat.NotebookNode:
    """A chapter's first cell, where CONTRIBUTING.md puts the Colab install cell."""
    return nbformat.read(notebook, as_version=4).cells[0]


def assigned_string(source: str, name: str) -> str:
    """The string literal that `source` assigns to `name` (read, not executed)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in:\n{source}")


@pytest.fixture
def on_colab(monkeypatch):
    """Make `import google.colab` succeed, as it does on Colab."""
    monkeypatch.setitem(
        sys.modules, "google", sys.modules.get("google", types.ModuleType("google"))
    )
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


@pytest.fixture
def off_colab(monkeypatch):
    """No `google.colab` module, as everywhere but on Colab."""
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


@pytest.fixture
def pip_calls(monkeypatch) -> list[tuple[list[str], dict]]:
    """Record `subprocess.run` calls instead of running them (nothing is installed)."""
    calls: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kwargs: calls.append((cmd, kwargs)))
    return calls


def test_launch_buttons_use_colab_and_the_branch_the_cell_installs():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_first_cell_is_the_hidden_colab_cell_with_the_configured_repository(notebook: Path):
    cell = first_cell(notebook)
    assert cell.cell_type == "code"
    assert "remove-cell" in cell.metadata.get("tags", [])
    assert assigned_string(cell.source, "REPOSITORY") == CONFIG["repository"]["url"]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_colab_cell_installs_labutils_from_the_repository_on_colab(notebook, on_colab, pip_calls):
    exec(first_cell(notebook).source, {})
    [(command, options)] = pip_calls
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    repository = CONFIG["repository"]
    assert command[-1] == f"git+{repository['url']}@{repository['branch']}"
    assert options.get("check") is True  # a failed install stops the notebook


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.stem)
def test_colab_cell_does_nothing_elsewhere(notebook, off_colab, pip_calls):
    exec(first_cell(notebook).source, {})
    assert pip_calls == []


@pytest.fixture
def downloads(monkeypatch) -> list[str]:
    """Record torchvision's downloads; each "downloads" the decompressed file from the checkout's
    data/MNIST/raw, as the real one puts it next to the archive."""
    archives: list[str] = []

    def download_and_extract_archive(url, download_root, filename, md5):
        archives.append(url)
        name = filename.removesuffix(".gz")
        Path(download_root).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "data" / "MNIST" / "raw" / name, Path(download_root) / name)

    monkeypatch.setattr(
        torchvision.datasets.utils, "download_and_extract_archive", download_and_extract_archive
    )
    return archives


def test_data_is_downloaded_by_torchvision_on_colab(tmp_path, on_colab, downloads):
    root = tmp_path / "data"  # no shipped .gz files and no MD5SUMS.raw, as on Colab
    assert prepare_mnist(root) == raw_dir(root)
    mirror = torchvision.datasets.MNIST.mirrors[0]
    assert sorted(downloads) == sorted(f"{mirror}{name}.gz" for name in FILES.values())
    prepare_mnist(root)
    assert len(downloads) == 4  # nothing downloaded twice


def test_each_split_downloads_only_itself(tmp_path, on_colab, downloads):
    images, labels = load_mnist("test", limit=10, root=tmp_path / "data")
    assert images.shape == (10, 1, 28, 28) and labels.shape == (10,)
    assert sorted(url.rsplit("/", 1)[1] for url in downloads) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]


def test_a_failed_download_says_what_to_check(tmp_path, monkeypatch, on_colab):
    def offline(url, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", offline)
    with pytest.raises(DataError) as error:
        load_mnist("test", root=tmp_path / "data")
    message = str(error.value)
    assert "Could not download MNIST's t10k-images-idx3-ubyte.gz" in message
    assert "Temporary failure in name resolution" in message  # what each mirror said
    assert "Check that this machine is online" in message
    assert str(raw_dir(tmp_path / "data")) in message  # where to put the files instead


def test_missing_data_folder_is_an_error_off_colab(tmp_path, off_colab, downloads):
    with pytest.raises(DataError, match="No MNIST data folder"):
        prepare_mnist(tmp_path / "data")
    assert downloads == []
