"""Packaging: what installing labutils does to someone's environment, and the repository's name.

pyproject.toml gives lower bounds (what `make compat` runs on); requirements.lock gives the exact
versions `make` installs. The repository's URL is named once, in _config.yml, and tools/fork.py
writes every copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import tomllib
from packaging.requirements import Requirement

from tools import fork

ROOT = Path(__file__).resolve().parents[2]

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from the repository, as the Colab cell's `pip install git+...` does."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):  # a copy: setuptools writes build/ next to them
        shutil.copy(ROOT / name, source)
    shutil.copytree(
        ROOT / "labutils", source / "labutils", ignore=shutil.ignore_patterns("__pycache__")
    )
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--no-index", "-q", "-w", out, source], check=True)
    [built] = out.glob("labutils-*.whl")
    return built


def fake_environment(path: Path, installed: dict[str, tuple[str, list[str]]]) -> Path:
    """A venv whose site-packages holds only dist-info metadata: name -> (version, requirements).

    pip resolves against installed metadata, so this is what it sees in an environment with
    those distributions (their code is not needed to decide what to install).
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
    [site] = path.glob("lib/python3.*/site-packages")
    for name, (version, requires) in installed.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {requirement}" for requirement in requires]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text("")
    return path / "bin" / "python"


def colab_like(torch: str, torchvision: str) -> dict[str, tuple[str, list[str]]]:
    """Colab's packages around the given torch pair; torchvision pins its torch, as it does."""
    return {
        "torch": (torch, []),
        "torchvision": (torchvision, ["numpy", f"torch=={torch}", "pillow>=5.3.0,!=8.3.*"]),
        "numpy": ("2.0.2", []),
        "pillow": ("11.3.0", []),
        "matplotlib": ("3.10.0", ["numpy>=1.23"]),
    }


def dry_run(python: Path, wheel: Path, report: Path) -> subprocess.CompletedProcess:
    """`pip install <wheel>` into `python`'s environment, resolved without any package index.

    Without an index pip can only keep what is installed, so the resolution succeeds exactly when
    every installed version already satisfies labutils, which is when pip (with an index and
    its default upgrade strategy) would keep them. This machine's pip settings and PYTHONPATH
    are left out, as Colab has neither.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_CONFIG_FILE"] = os.devnull  # no configuration file at all
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--dry-run"]
    command += ["--no-index", "--report", report, wheel]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_installing_labutils_keeps_colabs_torch(tmp_path, wheel):
    python = fake_environment(tmp_path / "colab", colab_like("2.11.0", "0.26.0"))
    result = dry_run(python, wheel, tmp_path / "report.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    installs = [item["metadata"]["name"] for item in report["install"]]
    assert installs == ["labutils"]  # torch 2.11.0 and the rest stay as they are


def test_a_torch_older_than_the_lower_bound_would_be_replaced(tmp_path, wheel):
    python = fake_environment(tmp_path / "old", colab_like("2.5.1", "0.20.1"))
    result = dry_run(python, wheel, tmp_path / "report.json")
    assert result.returncode != 0
    assert "torch>=2.6" in result.stdout + result.stderr  # pip would have to fetch a newer torch


def test_the_wheel_holds_every_module_and_data_file(wheel):
    shipped = set(zipfile.ZipFile(wheel).namelist())
    source = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "labutils").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert source - shipped == set()


def requirements() -> list[Requirement]:
    """Every requirement pyproject.toml states, extras included (not the self-reference)."""
    stated = PROJECT["dependencies"] + sum(PROJECT["optional-dependencies"].values(), [])
    return [Requirement(text) for text in stated if not text.startswith(PROJECT["name"])]


def test_the_lock_pins_a_version_each_stated_range_allows():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, version = line.split(";")[0].strip().split("==")
            lock[name.lower()] = version
    outside = {
        str(requirement): lock.get(requirement.name.lower())
        for requirement in requirements()
        if lock.get(requirement.name.lower()) not in requirement.specifier
    }
    assert outside == {}, "run `make lock` after changing pyproject.toml"


def test_every_copy_of_the_repository_agrees_with_config():
    found = fork.copies(ROOT)
    assert len(found) >= 6  # four chapters, CONTRIBUTING.md, README.md
    assert [place for place, agrees in found.items() if not agrees] == []


def test_no_other_file_names_the_repository():
    url, _ = fork.configured(ROOT)
    slug = url.removeprefix(fork.GITHUB)
    listed = subprocess.run(
        ["git", "grep", "-l", "-i", "-e", slug, "-e", fork.pages_url(url), "--", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    known = set(fork.copies(ROOT)) | {fork.CONFIG}
    assert [path for path in listed if path not in known and not fork.generated(path)] == []


@pytest.fixture
def course(tmp_path) -> Path:
    """The files that name the repository, copied to a scratch folder."""
    for name in (fork.CONFIG, fork.CONTRIBUTING, fork.README, fork.REFERENCE):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for chapter in (ROOT / "book").glob("*.ipynb"):
        shutil.copy(chapter, tmp_path / "book" / chapter.name)
    return tmp_path


def test_fork_rewrites_every_copy(course):
    old_url, _ = fork.configured(course)
    fork.retarget(course, "Example-Org/example-course", "spring")
    assert fork.configured(course) == ("https://github.com/Example-Org/example-course", "spring")
    assert all(fork.copies(course).values())
    assert "https://example-org.github.io/example-course/" in (course / fork.README).read_text()
    site = 'REFERENCE_SITE = "https://example-org.github.io/example-course/models"'
    assert site in (course / fork.REFERENCE).read_text()
    leftovers = [p.name for p in course.rglob("*") if p.is_file() and old_url in p.read_text()]
    assert leftovers == []
    chapter = nbformat.read(course / "book" / "01-autoencoders.ipynb", as_version=4)
    assert 'BRANCH = "spring"' in chapter.cells[0].source


@pytest.mark.parametrize(
    ("slug", "branch", "message"),
    [
        ("gm-lab-2027", "main", "REPO must look like owner/name"),
        ("https://github.com/a/b", "main", "REPO must look like owner/name"),
        ("a/b", "two words", "BRANCH must be a git branch name"),
    ],
)
def test_fork_refuses_a_malformed_name(course, slug, branch, message):
    with pytest.raises(SystemExit, match=message):
        fork.retarget(course, slug, branch)
    assert all(fork.copies(course).values())  # nothing was half-rewritten


def test_workflows_are_valid_github_actions():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    checker = Path(sys.executable).with_name("check-jsonschema")
    command = [checker, "--builtin-schema", "vendor.github-workflows", *workflows]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
