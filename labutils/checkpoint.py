"""Checkpoints that never lose work: written atomically, read with `weights_only=True`.

A checkpoint stores, for each named model, its class, its constructor settings (`config`) and its
weights, plus any plain extra data (a training history). Loading into a model of another class or
setting fails with a message naming the setting that differs. Tensors are read onto the CPU
(`map_location="cpu"`), so a checkpoint saved on a GPU loads on a machine without one.

`Checkpointer` is what `fit` uses to save a run at the end of every epoch -- models, optimizers,
history and random generators -- and to resume it exactly.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ._validate import require, require_callable
from .device import rng_state, set_rng_state


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


def unreadable_because(error: Exception) -> str:
    """Why torch.load failed, in a few words (torch's own advice to trust the file is left out)."""
    if isinstance(error, pickle.UnpicklingError):
        return (
            "UnpicklingError: it is not a PyTorch file, or it holds Python objects besides "
            "tensors, which labutils never loads because loading them can run code"
        )
    first_line = str(error).splitlines()[0] if str(error) else "the file ends early"
    return f"{type(error).__name__}: {first_line}"


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint's contents, on the CPU, or a CheckpointError saying why it is not one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"No checkpoint at {path}. Train the model first (set RETRAIN=True).")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for a file that is not one
        raise CheckpointError(
            f"{path} is not a readable labutils checkpoint ({unreadable_because(error)}). "
            "Delete it and train again."
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
            f"{path}: '{name}' was saved from a model of class {saved['class']}, "
            f"not {type(model).__name__}."
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


def train_or_load(
    path: str | Path,
    models: dict[str, nn.Module],
    train: Callable[[], dict[str, list[float]]],
    retrain: bool = False,
    duration: str | None = None,
) -> dict[str, list[float]]:
    """Load `models` and their training history from `path`, or train them and save both.

    `train()` trains the models in place and returns the history. Re-running a chapter then
    costs seconds instead of minutes; pass `retrain=True` to train again. Before training it says
    what it trains and why, after it how long that took: on a fresh machine (Colab) the learner
    knows what the wait is for (`duration`, e.g. "about 80 s on a 2-core CPU", says how long).
    An interrupted or failed run (its history has a "stopped" entry) is not saved, so that the
    next run trains again instead of loading a half-trained model.
    """
    check_train_or_load_arguments(path, models, train, retrain, duration)
    path = Path(path)
    if path.exists() and not retrain:
        history = load_checkpoint(path, models)["history"]
        print(f"Loaded trained weights from {path} (set RETRAIN = True to train again).")
        return history
    what = " and ".join(
        f"the {type(model).__name__} ({sum(p.numel() for p in model.parameters()):,} parameters)"
        for model in models.values()
    )
    why = "RETRAIN is set" if path.exists() else f"no checkpoint at {path}"
    print(f"Training {what} now ({why}){f', {duration}' if duration else ''}.")
    start = time.perf_counter()
    history = require(
        train(), "What train_or_load's train() returned", dict, "the history that fit returns"
    )
    if "stopped" in history:
        print(f"Not saving {path}: training stopped early; the next run trains again.")
        return history
    save_checkpoint(path, models, history=history)
    seconds = time.perf_counter() - start
    print(f"Trained in {seconds:.0f} s and saved to {path}: the next run loads it.")
    return history


def check_train_or_load_arguments(
    path: object, models: object, train: object, retrain: object, duration: object
) -> None:
    """A TypeError naming the first of `train_or_load`'s arguments that is not of its type."""
    require(path, "train_or_load's path", (str, os.PathLike), "a file path (str or Path)")
    example = '{"model": model}'
    require(models, "train_or_load's models", dict, f"a dict of named models, e.g. {example}")
    for name, model in models.items():
        require(model, f"train_or_load's models[{name!r}]", nn.Module, "a torch.nn.Module")
    require_callable(train, "train_or_load's train", "lambda: fit_vae(model, ...)")
    require(retrain, "train_or_load's retrain", (bool, int), "True or False (e.g. RETRAIN)")
    require(duration, "train_or_load's duration", (str, type(None)), "a string or None")


@dataclass
class Checkpointer:
    """Saves a training run at the end of each epoch to `path`; resumes it when `resume` is set.

    The file is an ordinary labutils checkpoint (so `load_checkpoint` reads its models) whose
    extra data holds the epoch, the history, the optimizers' states and every random generator's
    state, including the one `fit` shuffles with: a resumed run continues exactly where the saved
    one stopped, bit for bit on a CPU.
    """

    path: Path
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    resume: bool = False
    saved_epoch: int | None = field(default=None, init=False)  # what `path` holds from this run

    def weights_are_finite(self) -> bool:
        """Whether every model's floating-point parameters and buffers are finite (one sync)."""
        tensors = [t for m in self.models.values() for t in m.state_dict().values()]
        flags = [torch.isfinite(t).all() for t in tensors if t.is_floating_point()]
        return bool(torch.stack(flags).all())

    def save(self, epoch: int, history: dict, order: torch.Generator) -> None:
        """Write the state after `epoch` completed epochs (atomically: see `save_checkpoint`)."""
        save_checkpoint(
            self.path,
            self.models,
            epoch=epoch,
            history=dict(history),
            optimizers={name: opt.state_dict() for name, opt in self.optimizers.items()},
            rng={**rng_state(), "order": order.get_state()},
        )
        self.saved_epoch = epoch

    def start(self, order: torch.Generator) -> tuple[int, dict]:
        """(epochs done, their history): restored from `path` when resuming, else (0, {})."""
        if not self.resume:
            return 0, {}
        if not Path(self.path).exists():
            print(f"No checkpoint at {self.path} to resume from: training from the start.")
            return 0, {}
        epoch, history = self.restore(order)
        print(f"Resuming from {self.path} after epoch {epoch}.")
        return epoch, history

    def restore(self, order: torch.Generator) -> tuple[int, dict]:
        """Load models, optimizers and generators from `path`; return (epoch, history)."""
        extra = load_checkpoint(self.path, self.models)
        if "optimizers" not in extra:
            raise CheckpointError(
                f"{self.path} holds trained weights but no training state (it was not written "
                "by fit), so training cannot resume from it. Use another checkpoint_path."
            )
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(extra["optimizers"][name])
        set_rng_state(extra["rng"])
        order.set_state(extra["rng"]["order"])
        self.saved_epoch = extra["epoch"]
        return extra["epoch"], extra["history"]
