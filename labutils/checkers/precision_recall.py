"""Checker of Exercise 4.6 (chapter 4): precision and recall by hand, with k-nearest-neighbour
balls. The features are float64, and two cases use points whose distances tie exactly."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..metrics import Manifold, precision_recall, squared_distances
from .core import Hint, compare, exercise, fixed_generator


def feature_sets() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Cases (real (N, 4), generated (M, 4)): two overlapping clouds of different sizes, a
    generated set that is a subset of the real one (precision 1, recall below 1), and integer
    points with repeats, where distances equal radii exactly (in any float precision)."""
    generator = fixed_generator(46)
    real = torch.randn(120, 4, generator=generator, dtype=torch.float64)
    shifted = torch.randn(90, 4, generator=generator, dtype=torch.float64) * 0.7 + 0.8
    grid = torch.randint(0, 3, (12, 4), generator=fixed_generator(47)).double()  # (12, 4)
    grid = torch.cat([grid, grid[:3]])  # (15, 4): three points twice, radius 0 at k=1
    near = torch.randint(0, 3, (6, 4), generator=fixed_generator(47)).double()  # (6, 4)
    return {
        "two overlapping clouds": (real, shifted),
        "a subset of the real points": (real, real[:40]),
        "points on a grid, some repeated (ties: distance = radius)": (
            grid,
            torch.cat([grid[:4], near]),
        ),
    }


def require_pair(value: object) -> torch.Tensor:
    """The learner's (precision, recall) as a float64 tensor (2,), or a Hint saying what it is.
    A tensor or array of shape (2,) counts as a pair: it unpacks like one."""
    if getattr(value, "shape", None) is not None and tuple(value.shape) == (2,):
        value = list(value)  # two 0-d tensors or NumPy scalars
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Hint(f"Return two numbers, (precision, recall); got {type(value).__name__}.")
    try:
        return torch.tensor([float(number) for number in value], dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise Hint(f"precision and recall should be numbers between 0 and 1 ({error}).") from error


INSIDE = (
    "(Inside means at a distance <= the radius. The features given are float64: computing in "
    "float64, e.g. after casting with .double(), is right.)"
)


def squared_radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """Squared distance (N,) of each point to its k-th nearest other point (the first of the
    k + 1 nearest is the point itself, at distance 0)."""
    return squared_distances(points, points).topk(k + 1, dim=1, largest=False).values[:, k]


def reference(
    real: torch.Tensor, generated: torch.Tensor, k: int, strict: bool = False
) -> torch.Tensor:
    """(precision, recall) as a float64 tensor (2,), as `metrics.precision_recall` defines them,
    with squared distances compared with squared radii, so that a distance equal to a radius is
    a tie in any precision. `strict=True`: the mistake of counting a point on a ball's boundary
    as outside (<)."""
    inside = torch.lt if strict else torch.le
    distances = squared_distances(generated, real)  # (M, N)
    precision = inside(distances, squared_radii(real, k)[None, :]).any(dim=1)  # (M,)
    recall = inside(distances, squared_radii(generated, k)[:, None]).any(dim=0)  # (N,)
    return torch.stack([precision.double().mean(), recall.double().mean()])


def with_self_as_neighbour(real: torch.Tensor, generated: torch.Tensor, k: int) -> torch.Tensor:
    """The usual mistake: each point counted among its own k nearest neighbours, so its radius is
    the distance to the (k-1)-th other point (0 for k = 1)."""

    def counting_itself(points: torch.Tensor) -> Manifold:
        distances = squared_distances(points, points).topk(k, dim=1, largest=False).values
        return Manifold(points.double(), distances[:, k - 1].sqrt())  # (N, D), (N,)

    return torch.tensor(precision_recall(counting_itself(real), counting_itself(generated)))


@exercise("4.6", "my_precision_recall")
def check_precision_recall(my_precision_recall: Callable) -> None:
    """Exercise 4.6: `my_precision_recall(real, generated, k) -> (precision, recall)`, compared
    with the library and its usual mistakes on two cases and two values of k (k=3 first: at
    k=1, counting the point itself gives balls of radius 0 and (0, 0), like many other mistakes)."""
    for case, (real, generated) in feature_sets().items():
        for k in (3, 1):
            actual = require_pair(my_precision_recall(real.clone(), generated.clone(), k))
            expected = reference(real, generated, k)
            mistakes = usual_mistakes(real, generated, k, expected)
            what = f"(precision, recall) for {case} with k={k}"
            require_fractions(actual, expected)
            try:
                compare(actual, expected, mistakes, what)
            except Hint as hint:
                if str(hint).startswith(what):  # no known mistake: say what the check assumes
                    raise Hint(f"{hint} {INSIDE}") from None
                raise


def fractions(
    distances: torch.Tensor, real_radii: torch.Tensor, generated_radii: torch.Tensor
) -> torch.Tensor:
    """(precision, recall) (2,) from distances (M, N) between the generated and the real points
    and each point's radius, in the same units: the fraction of generated points in a real
    ball, and of real points in a generated ball."""
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return torch.stack([precision, recall])


def sorted_distances(points: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Each point's distances (N, N) to the points of its set, smallest (itself, 0) first;
    Euclidean ones from the same squared distances as the reference, so that ties stay ties."""
    if p == 2.0:
        return squared_distances(points, points).sqrt().sort(dim=1).values
    return torch.cdist(points, points, p=p).sort(dim=1).values


def usual_mistakes(
    real: torch.Tensor, generated: torch.Tensor, k: int, expected: torch.Tensor
) -> list[tuple[str, torch.Tensor]]:
    """The (precision, recall) of the usual mistakes for this case, with their hints; a mistake
    that gives the right numbers here is left out (another case tells it apart)."""
    squared = squared_distances(generated, real)  # (M, N)
    distances = squared.sqrt()
    real_sorted, generated_sorted = sorted_distances(real), sorted_distances(generated)
    real_radii, generated_radii = real_sorted[:, k], generated_sorted[:, k]  # (N,), (M,)
    mistakes = [
        (
            "precision and recall are swapped: precision asks how many generated points "
            "lie in the real manifold, recall how many real points lie in the generated one.",
            expected.flip(0),
        ),
        (
            "each point is tested against the balls of its own set: precision counts the "
            "generated points inside a *real* ball (real radii), recall the real points inside "
            "a *generated* ball.",
            torch.stack(
                [
                    (distances <= generated_radii[:, None]).any(dim=1).double().mean(),
                    (distances <= real_radii[None, :]).any(dim=0).double().mean(),
                ]
            ),
        ),
        (
            "recall also uses the real points' balls: recall asks whether each real point lies "
            "in the ball of some generated point (generated radii).",
            torch.stack(
                [expected[0], (distances <= real_radii[None, :]).any(dim=0).double().mean()]
            ),
        ),
        (
            "`any` runs over the wrong axis: precision is a fraction of the generated points "
            "(any over the real balls, for each generated point), recall of the real points.",
            torch.stack(
                [
                    (distances <= real_radii[None, :]).any(dim=0).double().mean(),
                    (distances <= generated_radii[:, None]).any(dim=1).double().mean(),
                ]
            ),
        ),
        (
            "squared distances are compared with radii that are not squared (or the other way "
            "round): compare distances with distances.",
            fractions(squared, real_radii, generated_radii),
        ),
        (
            "squared distances are compared with radii that are not squared (or the other way "
            "round): compare distances with distances.",
            fractions(distances, real_radii.square(), generated_radii.square()),
        ),
        (
            "the radius is the distance to the (k+1)-th nearest other point: off by one, "
            "take the k-th (after the point itself at distance 0).",
            fractions(distances, real_sorted[:, k + 1], generated_sorted[:, k + 1]),
        ),
        (
            "the radius is the mean distance to the k nearest other points: it is the distance "
            "to the k-th one.",
            fractions(
                distances,
                real_sorted[:, 1 : k + 1].mean(dim=1),
                generated_sorted[:, 1 : k + 1].mean(dim=1),
            ),
        ),
        (
            "the radii are measured to the other set's points: a point's radius is the distance "
            "to the k-th nearest point of its *own* set.",
            fractions(
                distances,
                distances.sort(dim=0).values[k - 1],
                distances.sort(dim=1).values[:, k - 1],
            ),
        ),
        (
            "the distances are Manhattan (L1, p=1): the balls are Euclidean (torch.cdist's "
            "default, p=2).",
            fractions(
                torch.cdist(generated, real, p=1),
                sorted_distances(real, 1.0)[:, k],
                sorted_distances(generated, 1.0)[:, k],
            ),
        ),
        (
            "each fraction is divided by the other set's size: precision divides by the number "
            "of generated points, recall by the number of real points.",
            expected * torch.tensor([len(generated) / len(real), len(real) / len(generated)]),
        ),
    ]
    if k != 3:
        mistakes.append(
            (
                "the `k` argument is ignored: k=3 is used for every call.",
                reference(real, generated, 3),
            )
        )
    if k > 1:  # with k=1 the mistake gives radius-0 balls: (0, 0), no sign of its cause
        mistakes.append(
            (
                "each point's radius counts the point itself as its nearest neighbour: take the "
                "k-th nearest *other* point.",
                with_self_as_neighbour(real, generated, k),
            )
        )
    boundary = (
        "a point exactly on a ball's boundary is counted as outside: inside means at a "
        "distance <= the radius (a repeated point has radius 0 at k=1)."
    )
    mistakes.insert(0, (boundary, reference(real, generated, k, strict=True)))
    return [(hint, value) for hint, value in mistakes if not torch.equal(value, expected)]


def require_fractions(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Precision and recall are exact fractions in [0, 1]: name percentages, integer division
    and rounding, which give numbers outside [0, 1] or close to the right ones."""
    if (actual > 1).any() and torch.allclose(actual, 100 * expected):
        raise Hint(
            f"returns {actual.tolist()}: percentages. Precision and recall are fractions between "
            "0 and 1 (divide the counts by the number of points, no factor 100)."
        )
    if (actual < 0).any() or (actual > 1).any():
        raise Hint(
            f"returns {actual.tolist()}: precision and recall are fractions between 0 and 1."
        )
    if not torch.equal(actual, expected) and (actual == actual.round()).all():
        if (expected != expected.round()).any():
            raise Hint(
                f"returns {actual.tolist()}, whole numbers where the fractions are "
                f"{expected.tolist()}: integer division (//) or int() rounds them down; divide "
                "with / to get a float."
            )
    if not torch.allclose(actual, expected, rtol=1e-4) and (actual - expected).abs().max() <= 0.005:
        raise Hint(
            f"returns {actual.tolist()}, the fractions {expected.tolist()} rounded: return them "
            "unrounded (round only when printing)."
        )
