"""Exercise 4.6's checker: `check_precision_recall(my_precision_recall)`.

Written in the style of `labutils.checkers` and on its core (`run_checks`, `compare`); it belongs
in the chapter 4 module of the checkers package once that exists.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .checkers import CheckResult, Hint, compare, fixed_generator, run_checks
from .metrics import Manifold, manifold, precision_recall, squared_distances


def check_precision_recall(my_precision_recall: Callable) -> CheckResult:
    """Exercise 4.6: `my_precision_recall(real, generated, k) -> (precision, recall)`."""
    return run_checks("Exercise 4.6", my_precision_recall, precision_recall_checks)


def feature_sets() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Cases (real (N, 4), generated (M, 4)): two overlapping clouds of different sizes, and a
    generated set that is a subset of the real one (precision 1, recall below 1)."""
    generator = fixed_generator(46)
    real = torch.randn(120, 4, generator=generator, dtype=torch.float64)
    shifted = torch.randn(90, 4, generator=generator, dtype=torch.float64) * 0.7 + 0.8
    return {
        "two overlapping clouds": (real, shifted),
        "a subset of the real points": (real, real[:40]),
    }


def require_pair(value: object) -> torch.Tensor:
    """The learner's (precision, recall) as a float64 tensor (2,), or a Hint saying what it is."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Hint(f"Return two numbers, (precision, recall); got {type(value).__name__}.")
    try:
        return torch.tensor([float(number) for number in value], dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise Hint(f"precision and recall should be numbers between 0 and 1 ({error}).") from error


def reference(real: torch.Tensor, generated: torch.Tensor, k: int) -> torch.Tensor:
    """The library's (precision, recall) as a float64 tensor (2,)."""
    return torch.tensor(precision_recall(manifold(real, k), manifold(generated, k)))


def with_self_as_neighbour(real: torch.Tensor, generated: torch.Tensor, k: int) -> torch.Tensor:
    """The usual mistake: each point counted among its own k nearest neighbours, so its radius is
    the distance to the (k-1)-th other point (0 for k = 1)."""

    def counting_itself(points: torch.Tensor) -> Manifold:
        distances = squared_distances(points, points).topk(k, dim=1, largest=False).values
        return Manifold(points.double(), distances[:, k - 1].sqrt())  # (N, D), (N,)

    return torch.tensor(precision_recall(counting_itself(real), counting_itself(generated)))


def precision_recall_checks(my_precision_recall: Callable) -> None:
    """Compare with the library and its usual mistakes on two cases and two values of k."""
    for case, (real, generated) in feature_sets().items():
        for k in (1, 3):
            actual = require_pair(my_precision_recall(real.clone(), generated.clone(), k))
            expected = reference(real, generated, k)
            compare(
                actual,
                expected,
                [
                    ("precision and recall are swapped: precision asks how many generated points "
                     "lie in the real manifold, recall how many real points lie in the generated "
                     "one.", expected.flip(0)),
                    ("each point's radius counts the point itself as its nearest neighbour: take "
                     "the k-th nearest *other* point.", with_self_as_neighbour(real, generated, k)),
                ],
                f"(precision, recall) for {case} with k={k}",
            )  # fmt: skip
