"""environment.yml (for conda users) pins the same versions as pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def pins(requirements: list[str]) -> dict[str, str]:
    return dict(re.fullmatch(r"\s*([\w.-]+)==([\w.+-]+)\s*", r).groups() for r in requirements)


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    lines = (ROOT / "environment.yml").read_text().splitlines()
    conda = pins([line.strip().lstrip("- ") for line in lines if "==" in line])
    assert conda == wanted


def test_heavy_stack_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    stack = pins(project["dependencies"])
    assert stack["torch"] == "2.14.1"
    assert stack["torchvision"] == "0.29.1"
    assert stack["jupyter-book"] == "1.0.4.post1"
