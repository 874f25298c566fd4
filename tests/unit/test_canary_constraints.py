"""The drift canary's constraints (tools/canary_constraints.py): the lock, less the packages that
drift and what only they need."""

from __future__ import annotations

from pathlib import Path

from tools.canary_constraints import constraints

ROOT = Path(__file__).resolve().parents[2]
LOCK = """\
jinja2==3.1.6
    # via
    #   sphinx
    #   torch
nvidia-cublas==13.1.1.3 ; sys_platform == 'linux'
    # via
    #   cuda-toolkit
    #   nvidia-cudnn-cu13
cuda-toolkit==13.0.2
    # via torch
nvidia-cudnn-cu13==9.15 ; sys_platform == 'linux'
    # via torch
Pillow==12.0.0
    # via matplotlib
sphinx==8.2.3
    # via jupyter-book
torch==2.14.1
    # via
    #   labutils (pyproject.toml)
    #   torchvision
"""


def test_the_newest_packages_and_what_only_they_need_are_left_out():
    kept = constraints(LOCK, ["torch", "matplotlib"]).splitlines()
    assert kept == ["jinja2==3.1.6", "sphinx==8.2.3"]  # jinja2: sphinx needs it too


def test_names_are_compared_as_pip_compares_them():
    assert "Pillow" not in constraints(LOCK, ["MatPlotLib"])
    assert len(constraints(LOCK, []).splitlines()) == 7  # nothing drifts: the whole lock


def test_the_real_lock_keeps_the_book_tools_and_frees_torchs_cuda_libraries():
    lock = (ROOT / "requirements.lock").read_text()
    kept = constraints(lock, ["torch", "torchvision", "numpy", "matplotlib", "ipywidgets"])
    names = {line.split("==")[0].lower() for line in kept.splitlines()}
    assert {"jupyter-book", "papermill", "pytest"} <= names
    assert not {"torch", "numpy", "triton"} & names
    assert not [name for name in names if name.startswith("nvidia-")]
