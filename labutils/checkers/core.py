"""What every checker shares: the verdict, the hint, running a check safely, and comparisons.

A checker calls the learner's function on fixed inputs and compares what it returns (or what it
does to a model) with the reference behaviour. When they differ, it computes the usual wrong
answers on the same inputs; if the learner's result matches one of them, the message names that
mistake, otherwise it says where the result differs. Messages describe mistakes, never the
solution's code, and never claim a mistake the answer does not have.

A checker never crashes on an answer: whatever the learner's function returns is described in
words ("a float64 tensor of shape (4, 3)"), and an exception it raises is reported with the line
of the learner's code that raised it.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._validate import describe_value as describe

SEED = 1234  # every checker draws its fixed inputs (and seeds the learner's randomness) from this
LIBRARY = Path(__file__).resolve().parents[1]  # labutils/: frames here are the checker's own
CHECKERS: dict[str, Callable[[Callable | None], CheckResult]] = {}  # filled by @exercise


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: truthy when it passed; `message` is what was printed."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's value: the checker has already printed the message once."""


class Hint(Exception):
    """A check failed; the exception's text is what the learner reads."""


def exercise(number: str, name: str) -> Callable:
    """Turn `checks(function)` into the public checker of Exercise `number`, which asks for a
    function called `name`, and register it in CHECKERS under that name.

    The checker accepts None (what `globals().get(name)` gives before the exercise's cell ran)."""

    def register(checks: Callable[[Callable], None]) -> Callable[[Callable | None], CheckResult]:
        @functools.wraps(checks)
        def checker(function: Callable | None) -> CheckResult:
            return run_checks(f"Exercise {number}", name, function, checks)

        CHECKERS[name] = checker
        return checker

    return register


def run_checks(
    exercise: str, expected_name: str, function: Callable | None, checks: Callable
) -> CheckResult:
    """Run `checks(function)` with the random generators seeded (and restored afterwards), print
    the outcome and return it. A `Hint` or any error raised by the learner's function is a
    failure; an error of the checker itself is said to be one."""
    if function is None:
        result = CheckResult(
            False,
            f"❌ {expected_name} is not defined yet: run the cell of {exercise} first "
            f"(it defines {expected_name}), then this one.",
        )
        print(result.message)
        return result
    name = f"{getattr(function, '__name__', expected_name)} ({exercise})"
    if not callable(function):
        result = CheckResult(False, f"❌ {name}: expected a function, got {describe(function)}.")
        print(result.message)
        return result
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            checks(function)
    except Hint as hint:
        result = CheckResult(False, f"❌ {name}: {hint}")
    except NotImplementedError as error:
        if raised_by_the_learner(error):  # the stub of a student notebook
            result = CheckResult(
                False, f"❌ {name} is not written yet (it raises NotImplementedError)."
            )
        else:  # e.g. a torch operation that does not support this dtype
            result = CheckResult(False, f"❌ {name} {raised(error, function)}")
    except Exception as error:  # the learner's code may raise anything; report it, don't crash
        result = CheckResult(False, f"❌ {name} {raised(error, function)}")
    else:
        result = CheckResult(True, f"✅ {name} passes all checks.")
    print(result.message)
    return result


def raised(error: BaseException, function: Callable) -> str:
    """`error` in words, with the line of the learner's code that raised it: the innermost frame
    outside labutils, torch, NumPy and the standard library."""
    text = f"{type(error).__name__}: {error}".strip().rstrip(":")
    frames = [f for f in traceback.extract_tb(error.__traceback__) if is_learners(f.filename)]
    called = getattr(function, "__name__", "")
    if not frames and isinstance(error, TypeError) and f"{called}()" in str(error):
        return (
            f"cannot be called the way the exercise asks ({text}): check the names and the "
            "number of its arguments against the exercise's text."
        )
    if not frames:
        return (
            f"could not be checked: the checker itself failed ({text}). This is a bug in the "
            "checker, not necessarily in your code; please report it."
        )
    frame = frames[-1]
    where = f"line {frame.lineno} of {frame.name}" if frame.name != "<lambda>" else "a lambda"
    code = f": `{frame.line.strip()}`" if frame.line else ""
    return f"raised {text}\n   in {where}{code}"


def raised_by_the_learner(error: BaseException) -> bool:
    """Whether the learner's own `raise` statement raised `error`, as a stub does (an operation
    of torch's C++ code raises from the line that called it, so the line must be a `raise`)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or not is_learners(frames[-1].filename):
        return False
    line = (frames[-1].line or "").strip()
    return line.startswith("raise") if line else not str(error).startswith('"')


def is_learners(filename: str) -> bool:
    """Whether a traceback frame's file is the learner's (a notebook cell or their module)."""
    path = Path(filename)
    if LIBRARY in path.parents:
        return False
    library_parts = {"site-packages", "dist-packages", "torch", "numpy"}
    if library_parts & set(path.parts):
        return False
    return not (filename.startswith("<frozen") or "/lib/python3" in filename)


def fixed_generator(offset: int = 0) -> torch.Generator:
    """A CPU generator seeded from SEED, so that every run of a checker sees the same inputs."""
    return torch.Generator().manual_seed(SEED + offset)


def require_tensor(
    value: object, shape: tuple[int, ...], what: str, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """`value` if it is a tensor of `shape` (and `dtype`, if given), else a Hint saying what it
    is instead."""
    if not isinstance(value, torch.Tensor):
        raise Hint(f"{what} should be a torch.Tensor of shape {shape}, got {describe(value)}.")
    if tuple(value.shape) != shape:
        raise Hint(f"{what} should have shape {shape}, got {describe(value)}.")
    if value.is_complex():
        raise Hint(f"{what} is complex ({describe(value)}): return its real part (.real).")
    if dtype is not None and value.dtype != dtype:
        wanted = str(dtype).removeprefix("torch.")
        raise Hint(
            f"{what} is {describe(value)}; the inputs are {wanted}: keep their dtype (draw random "
            "numbers with torch.randn_like, not NumPy), or the next layer will refuse it."
        )
    return value


def require_number(value: object, what: str) -> float:
    """`value` as a float if it is one real number: a Python or NumPy number, or a one-element
    tensor or array of any float dtype."""
    single = Hint(f"{what} should be a single number (a float), got {describe(value)}.")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise single
        value = value.detach().cpu().reshape(())
        if value.is_complex():
            raise Hint(f"{what} is a complex number ({value.item()}): return its real part.")
        return float(value.double())
    if isinstance(value, bool) or not isinstance(
        value, (int, float, complex, np.number, np.ndarray)
    ):
        raise single
    array = np.asarray(value)
    if array.size != 1:
        raise single
    if np.iscomplexobj(array):
        raise Hint(f"{what} is a complex number ({array.item()}): return its real part (.real).")
    return float(array.item())


def require_graph(value: torch.Tensor, what: str) -> None:
    """A result computed from inputs that require gradients must keep its autograd graph."""
    if not value.requires_grad:
        raise Hint(
            f"{what} carries no gradient: compute it with torch operations only (no .item(), "
            ".detach(), .numpy() or torch.no_grad()), so that backward() can reach the model."
        )


def as_float64(value: object) -> torch.Tensor | None:
    """`value` as a detached float64 CPU tensor, or None if it is no array of real numbers."""
    try:
        if isinstance(value, torch.Tensor):
            if value.is_complex():
                return None
            return value.detach().cpu().double()
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError, RuntimeError):
        return None


def close(actual: object, expected: torch.Tensor, rtol: float = 1e-4) -> bool:
    """Same shape and values equal to a relative tolerance (NaN matches NaN), in float64."""
    actual, expected = as_float64(actual), as_float64(expected)
    if actual is None or expected is None or actual.shape != expected.shape:
        return False
    scale = expected.abs().nan_to_num().max().item() if expected.numel() else 0.0
    return torch.allclose(actual, expected, rtol=rtol, atol=1e-6 * max(scale, 1.0), equal_nan=True)


def difference(actual: object, expected: torch.Tensor, what: str) -> str:
    """Where and by how much `actual` differs from `expected`."""
    values, expected = as_float64(actual), expected.detach().double().cpu()
    if values is None or values.shape != expected.shape:
        return f"{what} is {describe(actual)}; expected shape {tuple(expected.shape)}."
    if not torch.isfinite(values).all():
        return f"{what} contains NaN or infinite values (e.g. the log of a negative number)."
    if values.dim() == 0:
        return f"{what} is {values.item():.6g}; the reference gives {expected.item():.6g}."
    gap = (values - expected).abs()  # same shape as expected
    index = tuple(int(i) for i in torch.unravel_index(gap.argmax(), gap.shape))
    return (
        f"{what} differs from the reference by up to {gap.max().item():.4g}, at index {index}: "
        f"got {values[index].item():.6g}, expected {expected[index].item():.6g}."
    )


def compare(
    actual: object,
    expected: torch.Tensor,
    mistakes: Sequence[tuple[str, torch.Tensor]],
    what: str,
    rtol: float = 1e-4,
) -> None:
    """Pass if `actual` matches `expected`; else raise the hint of the first mistake it matches,
    or a description of the difference."""
    if close(actual, expected, rtol):
        return
    for hint, wrong in mistakes:
        if close(actual, wrong, rtol):
            raise Hint(hint)
    raise Hint(difference(actual, expected, what))


CONFIDENT = 40.0  # a logit this large rounds sigmoid to exactly 1 in float32 (from about 17 on)


def confident(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """`logits` with about half of its entries replaced by +-CONFIDENT: the outputs of a network
    that is sure of itself, as a discriminator or decoder soon is."""
    mask = torch.rand(logits.shape, generator=generator) < 0.5
    signs = torch.randint(0, 2, logits.shape, generator=generator) * 2 - 1
    return torch.where(mask, CONFIDENT * signs, logits.detach()).requires_grad_()


def require_stable_with_logits(actual: object, expected: torch.Tensor, what: str) -> None:
    """On confident logits (|logit| >= 30) the loss must still be right: a loss computed from
    sigmoid(logits) is infinite there, or off where binary_cross_entropy clamps its log at -100."""
    if close(actual, expected):
        return
    value = as_float64(actual)
    got = "infinite or NaN" if value is not None and not torch.isfinite(value).all() else "wrong"
    raise Hint(
        f"{what} is {got} for confident logits (|logit| >= 30), though right for moderate ones: "
        "sigmoid(logit) rounds to exactly 0 or 1 there in float32, so log(sigmoid(logit)) is "
        "-inf (binary_cross_entropy clamps it to -100). Compute the loss from the logits "
        "themselves: F.binary_cross_entropy_with_logits (or F.logsigmoid)."
    )
