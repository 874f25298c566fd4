"""Argument validation at the library's boundary: one clear error per kind of bad input.

Each check raises one sentence that names the problem and its fix. The cheap checks (type, shape,
dtype: no data is read) run on every call, models' `forward` included. The checks that read the
data (value range, non-finite pixels) cost one host synchronisation on a GPU, so they run once
per call of a recipe, a metric or a sampler, on the whole data; inside a training step they run
on every call only on the CPU (see `check_step_images`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

IMAGE_SHAPE = (1, 28, 28)
RANGE_SLACK = 1e-4  # float round-off allowed outside [0, 1] (e.g. a sigmoid output cast to half)


def require_positive_int(name: str, value: object) -> int:
    """Return `value` if it is a positive int, else raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def require_positive_float(name: str, value: object) -> float:
    """Return `value` as a float if it is a positive finite number (e.g. a learning rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def check_images(images: object, who: str) -> torch.Tensor:
    """Make sure `images` is a float batch shaped (N, 1, 28, 28), the layout every model expects."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{who} expects a torch.Tensor of images, got {type(images).__name__}.")
    if images.dim() != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"{who} expects images of shape (N, 1, 28, 28), got {tuple(images.shape)}. "
            "Use images.view(-1, 1, 28, 28) for flat 784-pixel rows, "
            "or images.unsqueeze(0) for a single image."
        )
    if not images.is_floating_point():
        raise TypeError(
            f"{who} expects floating-point images in [0, 1], got dtype {images.dtype}. "
            "Convert uint8 pixels with images.float() / 255."
        )
    return images


def check_latents(z: object, latent_dim: int, who: str) -> torch.Tensor:
    """Make sure `z` is a float batch of latent vectors shaped (N, latent_dim)."""
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{who} expects a torch.Tensor of latent vectors, got {type(z).__name__}.")
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"{who} expects latent vectors of shape (N, {latent_dim}), got {tuple(z.shape)}."
        )
    if not z.is_floating_point():
        raise TypeError(f"{who} expects floating-point latent vectors, got dtype {z.dtype}.")
    return z


def check_unit_range(images: torch.Tensor, who: str) -> torch.Tensor:
    """Make sure float `images` hold pixels in [0, 1], the course's convention for data.

    It reads the whole tensor once (one host sync on a GPU): call it once per call of a recipe
    or a metric, not per step. The two classic mix-ups get their own fix: the forgotten `/ 255`
    and the generator's [-1, 1] range.
    """
    low, high = torch.stack(torch.aminmax(images.detach().float())).tolist()  # one transfer
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(
            f"{who} got images with NaN or infinite pixels: check the computation that made them."
        )
    if low >= -RANGE_SLACK and high <= 1 + RANGE_SLACK:
        return images
    if low >= -RANGE_SLACK and 1.5 < high <= 255 + RANGE_SLACK:
        raise ValueError(
            f"{who} expects pixels in [0, 1], but they go up to {high:.1f}: divide by 255."
        )
    if -1 - RANGE_SLACK <= low < -RANGE_SLACK and high <= 1 + RANGE_SLACK:
        raise ValueError(
            f"{who} expects pixels in [0, 1], but they go down to {low:.2f}, which looks like "
            "the generator's [-1, 1] range: use (x + 1) / 2."
        )
    raise ValueError(
        f"{who} expects pixels in [0, 1], but they range from {low:.3g} to {high:.3g}: "
        "rescale them to [0, 1]."
    )


def check_unit_images(images: object, who: str) -> torch.Tensor:
    """Make sure `images` is a non-empty float batch (N, 1, 28, 28) with pixels in [0, 1]."""
    check_images(images, who)
    check_not_empty(images, who)
    return check_unit_range(images, who)


def check_not_empty(tensor: torch.Tensor, who: str) -> torch.Tensor:
    """Make sure `tensor` holds at least one example (its first dimension is not 0)."""
    if tensor.dim() == 0 or tensor.shape[0] == 0:
        raise ValueError(
            f"{who} got no examples (shape {tuple(tensor.shape)}): check the slice, filter or "
            "limit that made the data."
        )
    return tensor


def validate_training_data(data: object, who: str = "fit") -> tuple[torch.Tensor, ...]:
    """The tensors of `fit`'s `data` (a tensor, or a tuple of tensors with one row per example),
    checked to be non-empty and of the same length; it reads no values, so it costs no sync."""
    tensors = data if isinstance(data, tuple) else (data,)
    if not tensors:
        raise ValueError(f"{who} got an empty tuple: pass a tensor, or a tuple of tensors.")
    for tensor in tensors:
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{who} expects {container_hint(tensor)}")
    check_not_empty(tensors[0], who)
    lengths = [tensor.shape[0] if tensor.dim() else 0 for tensor in tensors]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"{who} got tensors of different lengths {lengths}: give every tensor one row per "
            "example, e.g. (images, labels) with images.shape[0] == labels.shape[0]."
        )
    return tensors


def container_hint(data: object) -> str:
    """What `fit` accepts, and how to turn `data` (something else) into it."""
    kind = type(data).__name__
    if isinstance(data, list):
        fix = "use a tuple of tensors, e.g. (images, labels), or torch.stack a list of images"
    elif hasattr(data, "__array__"):
        fix = "convert it with torch.as_tensor(data)"
    elif isinstance(data, torch.utils.data.DataLoader | torch.utils.data.Dataset):
        fix = "pass the tensors themselves (fit shuffles them and makes the batches)"
    else:
        fix = "pass the data as tensors"
    return f"a tensor or a tuple of tensors, got {kind}: {fix}."


STEP_CHECK_EVERY = 100  # off the CPU, a step's pixels are checked on its 1st, 101st, ... call
step_calls: dict[str, int] = {}  # calls of each step function so far, for that schedule


def check_step_images(images: object, who: str) -> torch.Tensor:
    """A training step's check of its batch: shaped (N, 1, 28, 28), pixels in [0, 1].

    A learner's own loop over `vae_step` with `x * 255` would otherwise train on nonsense without
    a word. On the CPU the range is read on every call (microseconds beside the step); on a GPU,
    where a read waits for the device, on the first call and every STEP_CHECK_EVERY-th after.
    """
    check_images(images, who)
    calls = step_calls.get(who, 0)
    step_calls[who] = calls + 1
    if images.device.type == "cpu" or calls % STEP_CHECK_EVERY == 0:
        check_unit_range(images, who)
    return images


def require(value: object, name: str, expected: type | tuple[type, ...], what: str) -> object:
    """Return `value` if it is an instance of `expected`, else a TypeError naming the argument
    `name`, `what` it should be, and what it is."""
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be {what}, got {describe_value(value)}.")
    return value


def require_callable(value: object, name: str, example: str) -> Callable:
    """Return `value` if it can be called, else a TypeError naming the argument and an example."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, e.g. {example}; got {describe_value(value)}.")
    return value


def short(value: object) -> str:
    """`value`'s repr, cut to one short line, for an error message."""
    text = repr(value).splitlines()[0] if repr(value) else ""
    return f"({text[:60]}{'...' if len(text) > 60 else ''})"


STEP_RETURN = (
    'a dict of metrics, each a 0-d tensor, e.g. {"loss": loss.detach()} (fit averages them '
    "per epoch)"
)


def step_name(step: object) -> str:
    """How an error message names a step function: its name, or 'the lambda' for a lambda."""
    name = getattr(step, "__name__", type(step).__name__)
    return "the step (a lambda)" if name == "<lambda>" else f"the step {name}"


def check_step_metrics(
    metrics: object, step: object, names: list[str] | None = None
) -> dict[str, torch.Tensor]:
    """Make sure what `step` returned is what `fit` records: a non-empty dict of 0-d tensors,
    with the same names as the first step's (`names`). Type and shape only: no data is read."""
    who = f"fit: {step_name(step)}"
    if not isinstance(metrics, dict) or not metrics:
        got = "an empty dict" if isinstance(metrics, dict) else describe_value(metrics)
        raise TypeError(f"{who} returned {got}; a step must return {STEP_RETURN}.")
    for name, value in metrics.items():
        if not isinstance(value, torch.Tensor):
            fix = " (return loss.detach(), not loss.item())" if isinstance(value, float) else ""
            raise TypeError(
                f"{who} returned metric {name!r} as {describe_value(value)}{fix}; a step must "
                f"return {STEP_RETURN}."
            )
        if value.dim() != 0:
            raise TypeError(
                f"{who} returned metric {name!r} as {describe_value(value)}: each metric must "
                "be one number, a 0-d tensor (e.g. the batch's mean, loss.mean().detach())."
            )
    if names is not None and list(metrics) != names:
        raise TypeError(
            f"{who} returned the metrics {list(metrics)}, but its first step returned {names}: "
            "return the same metrics at every step."
        )
    return metrics


def describe_value(value: object) -> str:
    """What a value is, in a few words, for an error message or a checker's hint: 'a float (0.25)',
    'a float32 tensor of shape (128,), requiring grad', 'a NumPy float32 array of shape (4, 3)'."""
    if isinstance(value, torch.Tensor):
        grad = ", requiring grad" if value.requires_grad else ""
        dtype = str(value.dtype).removeprefix("torch.")
        return f"a {dtype} tensor of shape {tuple(value.shape)}{grad}"
    if isinstance(value, np.ndarray):
        return f"a NumPy {value.dtype} array of shape {value.shape}"
    if isinstance(value, np.generic):
        return f"a NumPy {value.dtype} scalar"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if value is None:
        return "None (is a `return` missing?)"
    return f"a {type(value).__name__} {short(value)}"
