"""Checkpoints that never lose work: written atomically, read with `weights_only=True`.

A checkpoint stores, for each named model, its class, its constructor settings (`config`) and its
weights, plus any plain extra data (a training history). Loading into a model of another class or
setting fails with a message naming the setting that differs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .paths import course_dir


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable or does not fit the model it is loaded into."""


def save_checkpoint(path: str | Path, models: dict[str, nn.Module], **extra: object) -> None:
    """Write models' weights and settings, and `extra` plain data, to `path` atomically.

    The file is written beside its destination, flushed to disk, then renamed over it, so a crash
    mid-write leaves any previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "models": {
            name: {
                "class": type(model).__name__,
                "config": getattr(model, "config", {}),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            }
            for name, model in models.items()
        },
        "extra": extra,
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint's contents, on the CPU, or a CheckpointError saying why it is not one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train the model first (set RETRAIN=True).")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for a file that is not one
        raise CheckpointError(
            f"{path} is not a readable labutils checkpoint ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'empty'}). Delete it and train again."
        ) from error
    if not isinstance(payload, dict) or "models" not in payload:
        raise CheckpointError(
            f"{path} is a PyTorch file but not a labutils checkpoint (no 'models' entry). "
            "Save checkpoints with labutils.save_checkpoint."
        )
    return payload


def check_fits(name: str, saved: dict, model: nn.Module, path: Path) -> None:
    """Raise a CheckpointError naming the class or setting where `saved` and `model` differ."""
    if saved["class"] != type(model).__name__:
        raise CheckpointError(
            f"{path}: '{name}' was saved from a {saved['class']}, not a {type(model).__name__}."
        )
    config = getattr(model, "config", {})
    for key in sorted(set(saved["config"]) | set(config)):
        if saved["config"].get(key) != config.get(key):
            raise CheckpointError(
                f"{path}: '{name}' was saved with {key}={saved['config'].get(key)!r}, but this "
                f"model has {key}={config.get(key)!r}. Build the model with the same {key}, "
                "or train it again."
            )


def load_checkpoint(path: str | Path, models: dict[str, nn.Module]) -> dict:
    """Load weights into `models` (matched by name) and return the checkpoint's extra data."""
    path = Path(path)
    payload = read_checkpoint(path)
    for name, model in models.items():
        if name not in payload["models"]:
            raise CheckpointError(f"{path} holds {sorted(payload['models'])}, not '{name}'.")
        saved = payload["models"][name]
        check_fits(name, saved, model, path)
        model.load_state_dict(saved["state_dict"])
    return payload["extra"]


def checkpoint_path(name: str, smoke: bool = False) -> Path:
    """Where a chapter keeps model `name`: $LABUTILS_CHECKPOINTS or checkpoints/, per mode."""
    root = Path(os.environ.get("LABUTILS_CHECKPOINTS") or course_dir("checkpoints"))
    return root / ("smoke" if smoke else "full") / f"{name}.pt"


def train_or_load(
    path: str | Path,
    models: dict[str, nn.Module],
    train: Callable[[], dict[str, list[float]]],
    retrain: bool = False,
) -> dict[str, list[float]]:
    """Load `models` and their training history from `path`, or train them and save both.

    `train()` trains the models in place and returns the history. Re-running a chapter then
    costs seconds instead of minutes; pass `retrain=True` to train again.
    """
    path = Path(path)
    if path.exists() and not retrain:
        history = load_checkpoint(path, models)["history"]
        print(f"Loaded trained weights from {path} (set RETRAIN = True to train again).")
        return history
    history = train()
    save_checkpoint(path, models, history=history)
    return history
