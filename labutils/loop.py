"""`fit`: the training loop. It knows no model: it calls a step function on shuffled minibatches.

`fit` also keeps a run safe: it stops cleanly on a NaN loss or Ctrl+C, saves a checkpoint after
every epoch when given a `Checkpointer`, and resumes from one exactly.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import defaultdict
from collections.abc import Callable

import torch

from ._validate import (
    check_step_metrics,
    require,
    require_callable,
    require_positive_int,
    validate_training_data,
)
from .checkpoint import Checkpointer
from .data import minibatches

Metrics = dict[str, torch.Tensor]  # what a step returns: detached 0-d tensors
History = dict[str, list]  # lists of floats, plus per-epoch tensors and a "stopped" message


def fit(
    step: Callable[..., Metrics],
    data: torch.Tensor | tuple[torch.Tensor, ...],
    *,
    epochs: int,
    batch_size: int = 128,
    evaluate: Callable[[], dict[str, float | torch.Tensor]] | None = None,
    seed: int = 0,
    checkpoint: Checkpointer | None = None,
    monitor: Callable[[History], None] | None = None,
) -> History:
    """Run `step` over shuffled minibatches of `data` for `epochs` epochs; return the history.

    `step(*batch)` does one update (e.g. `lambda x: vae_step(model, optimizer, x)`); `evaluate()`
    runs after each epoch (e.g. on the test split). The history maps `train_<metric>` and
    `test_<metric>` to one value per epoch, `step_<metric>` to one value per step, and
    `seconds` to each epoch's wall time. `checkpoint` saves the run after every epoch (and
    resumes it if asked); `monitor(history)` runs after every epoch (e.g. a GANMonitor).
    A step must return its metrics as a dict of 0-d tensors, the same names at every step;
    anything else (a float, a bare tensor, a tuple) stops `fit` with a TypeError naming the step.

    When it goes wrong, `fit` stops and returns the history so far, with a `stopped` entry:
    - a NaN or infinite metric: on the CPU every step is checked, so training stops right after
      the first bad step; on a GPU the steps are checked once, at the end of each epoch (a check
      waits for the GPU). A NonFiniteLossWarning names the first bad epoch and step and the last
      finite value; the last good checkpoint is kept and loaded back into the models. An
      evaluation metric or weight that is not finite at the end of an epoch stops training the
      same way, before that epoch is saved.
    - KeyboardInterrupt (Ctrl+C, Jupyter's stop button): one line says where the checkpoint is.
    """
    check_fit_arguments(step, evaluate, seed, checkpoint, monitor)
    require_positive_int("epochs", epochs)
    require_positive_int("batch_size", batch_size)
    tensors = validate_training_data(data)  # (N, ...) each, N > 0
    order = torch.Generator().manual_seed(seed)
    done, saved = checkpoint.start(order) if checkpoint else (0, {})
    history: History = defaultdict(list, saved)
    steps = math.ceil(tensors[0].shape[0] / batch_size)
    check_every_step = tensors[0].device.type == "cpu"
    log = EpochLog(done + 1, steps)
    try:
        for epoch in range(done + 1, epochs + 1):
            log = EpochLog(epoch, steps)
            for batch in minibatches(*tensors, batch_size=batch_size, generator=order):
                log.add(check_step_metrics(step(*batch), step, log.names), batch[0].shape[0])
                if check_every_step:
                    log.check()
            end_epoch(log, history, evaluate, checkpoint, order)
            print(epoch_summary(epoch, epochs, history))
            if monitor:
                monitor(history)
    except KeyboardInterrupt:
        interrupted(history, log, checkpoint)
    except NonFiniteLoss as fault:
        diverged(history, log, fault, checkpoint, order)
    return dict(history)


def check_fit_arguments(
    step: object, evaluate: object, seed: object, checkpoint: object, monitor: object
) -> None:
    """A TypeError naming the first of `fit`'s arguments that is not of its type."""
    require_callable(step, "fit's step", "lambda x: ae_step(model, optimizer, x)")
    if evaluate is not None:
        require_callable(evaluate, "fit's evaluate", "lambda: evaluate_ae(model, test_images)")
    require(seed, "fit's seed", int, "an integer")
    require(checkpoint, "fit's checkpoint", (Checkpointer, type(None)), "a Checkpointer or None")
    if monitor is not None:
        require_callable(monitor, "fit's monitor", "GANMonitor(train_images)")


def epoch_summary(epoch: int, epochs: int, history: History) -> str:
    """One line per epoch: the epoch's train and test metrics and its duration."""
    parts = [f"epoch {epoch:>2}/{epochs}"]
    for name, values in history.items():
        if name.startswith(("train_", "test_")) and isinstance(values[-1], float):
            parts.append(f"{name} {values[-1]:.4g}")
    parts.append(f"({history['seconds'][-1]:.1f} s)")
    return "  ".join(parts)


class NonFiniteLoss(Exception):
    """A metric became NaN or infinite; `fit` catches it, stops, and warns with this message."""

    def __init__(self, epoch: int, where: str, name: str, value: float):
        super().__init__(f"{name} was {value} at epoch {epoch}, {where}")
        self.name = name


class NonFiniteLossWarning(RuntimeWarning):
    """Training stopped because a loss became NaN or infinite (see `fit`)."""


class EpochLog:
    """One epoch's per-step metrics, kept as tensors until `check` looks at the new ones."""

    def __init__(self, epoch: int, steps: int):
        self.epoch, self.steps = epoch, steps
        self.metrics: list[Metrics] = []
        self.sizes: list[int] = []
        self.checked = 0  # steps already found finite
        self.recorded = False  # True once the epoch is in the history
        self.start = time.perf_counter()

    def add(self, metrics: Metrics, size: int) -> None:
        """Record one step's metrics and its batch size."""
        self.metrics.append(metrics)
        self.sizes.append(size)

    @property
    def names(self) -> list[str] | None:
        """The metrics' names, as the epoch's first step returned them (None before it)."""
        return list(self.metrics[0]) if self.metrics else None

    def check(self) -> None:
        """Raise NonFiniteLoss naming the first unchecked step with a non-finite metric.

        One `torch.isfinite` over the steps since the last check: one host sync on a GPU.
        """
        fresh = self.metrics[self.checked :]
        if fresh:
            names = list(fresh[0])
            values = torch.stack([torch.stack([m[n] for n in names]) for m in fresh])  # (S, M)
            bad = ~torch.isfinite(values)  # (S, M)
            if bool(bad.any()):
                row = int(bad.any(dim=1).nonzero()[0])
                column = int(bad[row].nonzero()[0])
                del self.metrics[self.checked + row :]  # keep only the finite steps
                where = f"step {len(self.metrics) + 1} of {self.steps}"
                raise NonFiniteLoss(self.epoch, where, names[column], float(values[row, column]))
        self.checked = len(self.metrics)


def step_values(step_metrics: list[Metrics]) -> dict[str, torch.Tensor]:
    """Each metric's per-step values as one float64 CPU tensor (steps,): one transfer per metric."""
    if not step_metrics:
        return {}
    names = step_metrics[0]
    return {name: torch.stack([m[name] for m in step_metrics]).double().cpu() for name in names}


def epoch_means(step_metrics: list[Metrics], sizes: list[int]) -> dict[str, list[float]]:
    """Per-step values of each metric and their mean weighted by the batch sizes."""
    weights = torch.tensor(sizes, dtype=torch.float64)
    result: dict[str, list[float]] = {}
    for name, values in step_values(step_metrics).items():
        result[f"step_{name}"] = values.tolist()
        result[f"train_{name}"] = [float((values * weights).sum() / weights.sum())]
    return result


def check_results(epoch: int, results: dict[str, float | torch.Tensor]) -> None:
    """Raise NonFiniteLoss if an end-of-epoch evaluation metric (a number) is not finite."""
    for name, value in results.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise NonFiniteLoss(epoch, "in the evaluation after it", f"test_{name}", value)


def end_epoch(
    log: EpochLog,
    history: History,
    evaluate: Callable[[], dict[str, float | torch.Tensor]] | None,
    checkpoint: Checkpointer | None,
    order: torch.Generator,
) -> None:
    """Check the epoch just run, evaluate, extend the history, and save a checkpoint of it."""
    log.check()
    results = evaluate() if evaluate else {}
    require(results, "What fit's evaluate() returned", dict, "a dict of metrics")
    check_results(log.epoch, results)
    if checkpoint and not checkpoint.weights_are_finite():
        raise NonFiniteLoss(log.epoch, "after its last step", "a weight", math.nan)
    for name, values in epoch_means(log.metrics, log.sizes).items():
        history[name].extend(values)
    for name, value in results.items():
        history[f"test_{name}"].append(value)
    history["seconds"].append(time.perf_counter() - log.start)
    log.recorded = True
    if checkpoint:
        checkpoint.save(log.epoch, history, order)


def record_partial_epoch(history: History, log: EpochLog, message: str) -> None:
    """After a stop: add the unfinished epoch's (finite) step values and say why it stopped."""
    for name, values in step_values([] if log.recorded else log.metrics).items():
        history[f"step_{name}"].extend(values.tolist())
    history["stopped"] = [message]


def checkpoint_note(checkpoint: Checkpointer | None) -> str:
    """Where the last good state of the run is, for the messages of a stopped run."""
    if checkpoint is None or checkpoint.saved_epoch is None:
        return "No checkpoint was saved (pass checkpoint_path= to the fit_* recipes to keep one)."
    return f"The checkpoint {checkpoint.path} holds the run after epoch {checkpoint.saved_epoch}."


def interrupted(history: History, log: EpochLog, checkpoint: Checkpointer | None) -> None:
    """Ctrl+C / the stop button: print one line saying where the run is and how to resume it."""
    resume = " Resume with resume=True and the same checkpoint_path." if checkpoint else ""
    message = f"Interrupted at epoch {log.epoch}, after step {len(log.metrics)} of {log.steps}."
    if log.recorded:
        message = f"Interrupted after epoch {log.epoch}."
    record_partial_epoch(history, log, message)
    print(f"{message} {checkpoint_note(checkpoint)}{resume}")


def diverged(
    history: History,
    log: EpochLog,
    fault: NonFiniteLoss,
    checkpoint: Checkpointer | None,
    order: torch.Generator,
) -> None:
    """A NaN/inf metric: keep the last good checkpoint, reload it, and warn once, clearly."""
    record_partial_epoch(history, log, f"Non-finite {fault}.")
    finite = history.get(f"step_{fault.name}") or history.get(fault.name)
    last = f"; the last finite value was {finite[-1]}" if finite else ""
    note = checkpoint_note(checkpoint)
    if checkpoint is not None and checkpoint.saved_epoch is not None:
        checkpoint.restore(order)
        note += " Its weights and optimizer states were loaded back into the models."
    warnings.warn(
        f"Training stopped: {fault}{last}. {note} "
        "Try a lower learning rate. The history up to the last finite step is returned.",
        NonFiniteLossWarning,
        stacklevel=3,
    )
