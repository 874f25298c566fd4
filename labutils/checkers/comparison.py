"""Checkers of chapter 4 (comparing the models): the Fréchet distance the direct way and the
entropy of the predicted digits (precision and recall: `precision_recall`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .core import Hint, compare, exercise, fixed_generator, require_number


def gaussian_pairs() -> dict[str, tuple[torch.Tensor, ...]]:
    """Three test cases, (mu1, cov1, mu2, cov2) in float64: 1-D Gaussians, 3-D ones whose
    covariances do not commute, and 4-D ones fitted to 3 points each, whose covariances are
    singular (as FID's are when there are fewer images than features)."""
    generator = fixed_generator(7)
    a, b = (torch.randn(3, 3, generator=generator, dtype=torch.float64) for _ in range(2))
    x, y = (torch.randn(3, 4, generator=generator, dtype=torch.float64) for _ in range(2))
    one_d = (
        torch.tensor([0.5]),
        torch.tensor([[2.0]]),
        torch.tensor([-1.0]),
        torch.tensor([[0.5]]),
    )
    three_d = (
        torch.tensor([1.0, -0.5, 2.0]),
        a @ a.T + torch.eye(3),
        torch.tensor([0.0, 0.5, 1.0]),
        b @ b.T + 0.5 * torch.eye(3),
    )
    singular = (x.mean(dim=0), torch.cov(x.T), 1.5 * y.mean(dim=0) + 0.3, torch.cov(1.5 * y.T))
    return {
        "1-D Gaussians": tuple(t.double() for t in one_d),
        "3-D Gaussians": tuple(t.double() for t in three_d),
        "4-D Gaussians with singular covariances (3 points each)": singular,
    }


@exercise("4.4", "my_frechet_distance")
def check_frechet_distance(my_frechet_distance: Callable) -> None:
    """Exercise 4.4: `my_frechet_distance(mu1, cov1, mu2, cov2) -> float`, d^2 (the FID's
    convention), compared with the reference and its mistakes on 1-D, full-covariance and
    singular Gaussians in float64, and full-covariance ones in float32 (a float32 answer may
    return any float type, NumPy's included)."""
    from ..metrics import sqrtm_psd

    for case, (mu1, cov1, mu2, cov2), dtype in cases():
        inputs = (t.to(dtype) for t in (mu1, cov1, mu2, cov2))
        value = require_number(my_frechet_distance(*inputs), "The distance")
        mean_term = (mu1 - mu2).pow(2).sum()
        traces = cov1.trace() + cov2.trace()
        root1 = sqrtm_psd(cov1)  # (D, D)
        cross = sqrtm_psd(root1 @ cov2 @ root1).trace()  # tr sqrt(cov1 cov2)
        elementwise = "the square root is taken element by element: tr sqrt(cov1 cov2) needs a "
        elementwise += "matrix square root (e.g. by eigendecomposition)."
        compare(
            torch.tensor(value),
            mean_term + traces - 2 * cross,
            [
                (
                    "the factor 2 in front of the trace of the square root term is missing.",
                    mean_term + traces - cross,
                ),
                (elementwise, mean_term + traces - 2 * (cov1 @ cov2).sqrt().trace()),
                (elementwise, mean_term + traces - 2 * (cov1 * cov2).sqrt().trace()),
                (
                    "sqrt(cov1 cov2) is computed as sqrt(cov1) sqrt(cov2), which holds only "
                    "when the two matrices commute.",
                    mean_term + traces - 2 * (root1 @ sqrtm_psd(cov2)).trace(),
                ),
                (
                    "torch.linalg.eigvalsh assumes a symmetric matrix and reads only one of its "
                    "triangles, but cov1 cov2 is not symmetric: use torch.linalg.eigvals.",
                    mean_term
                    + traces
                    - 2 * torch.linalg.eigvalsh(cov1 @ cov2).clamp(min=0).sqrt().sum(),
                ),
                (
                    "these are the eigenvalues of cov1 + cov2: the term is the trace of the "
                    "square root of the product, tr((cov1 cov2)^(1/2)).",
                    mean_term + traces - 2 * torch.linalg.eigvals(cov1 + cov2).sqrt().sum().real,
                ),
                (
                    "the trace of cov1 is counted twice and that of cov2 not at all: the formula "
                    "adds tr(cov1) + tr(cov2).",
                    mean_term + 2 * cov1.trace() - 2 * cross,
                ),
                (
                    "the mean term is not squared: use the squared distance |mu1 - mu2|^2.",
                    mean_term.sqrt() + traces - 2 * cross,
                ),
                (
                    "this is d, the square root: the FID is d^2, the squared Fréchet distance "
                    "|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2)) itself, so return it "
                    "without taking a square root.",
                    (mean_term + traces - 2 * cross).sqrt(),
                ),
                (
                    "the result is NaN for singular covariances: eigenvalues of cov1 cov2 that "
                    "are 0 in exact arithmetic come out slightly negative in floating point, and "
                    "the square root of a negative real number is NaN. Take the square root of "
                    "the complex eigenvalues, then the real part (or clamp the real parts at 0).",
                    torch.tensor(math.nan),
                ),
            ],
            f"The distance between the {case}",
            rtol=1e-4 if dtype == torch.float64 else 1e-3,
        )


def cases() -> list[tuple[str, tuple[torch.Tensor, ...], torch.dtype]]:
    """Each pair of Gaussians in float64, then the 3-D one in float32 (as the exercise asks; in
    float32 the singular pair is where the short way is expected to go wrong, so it is not
    checked)."""
    pairs = gaussian_pairs()
    found = [(case, pair, torch.float64) for case, pair in pairs.items()]
    return found + [("3-D Gaussians in float32", pairs["3-D Gaussians"], torch.float32)]


@exercise("4.5", "my_class_entropy")
def check_class_entropy(my_class_entropy: Callable) -> None:
    """Exercise 4.5: `my_class_entropy(predicted_labels) -> float`, in nats: uniform labels
    (entropy log 10), then a skewed histogram where two digits never occur."""
    counts = torch.tensor([30, 10, 0, 5, 5, 0, 20, 10, 10, 10])
    skewed = torch.repeat_interleave(torch.arange(10), counts)  # (100,)
    skewed = skewed[torch.randperm(100, generator=fixed_generator())]
    cases = {
        "ten equally common digits": torch.arange(200) % 10,  # 20 of each: counts != 10
        "a histogram where digits 2 and 5 never occur": skewed,
    }
    for case, labels in cases.items():
        value = require_number(my_class_entropy(labels.clone()), "The entropy")
        present = torch.bincount(labels, minlength=10).double()
        present = present[present > 0]  # classes with no image contribute 0 log 0 = 0
        probabilities = present / present.sum()
        entropy = -(probabilities * probabilities.log()).sum()
        nan_hint = (
            "the result is NaN: a digit that is never predicted gives 0 * log(0); its term "
            "should count as 0 (leave out the empty classes)."
        )
        what = f"The entropy for {case}"
        mistakes = [*entropy_mistakes(labels, present, entropy), (nan_hint, torch.tensor(math.nan))]
        try:
            compare(torch.tensor(value), entropy, mistakes, what)
        except Hint as hint:
            if str(hint).startswith(what):  # no known mistake: say which property fails
                raise Hint(f"{hint} {entropy_property(value)}") from None
            raise


def entropy_property(value: float) -> str:
    """What an entropy of 10 classes must satisfy, said about a `value` that is not the right
    one and matches no known mistake."""
    if not 0 <= value <= math.log(10) + 1e-9:
        return (
            f"The entropy of a histogram of 10 digits lies between 0 (one digit only) and "
            f"log 10 = {math.log(10):.4f} nats (all equally common); {value:.6g} is outside: "
            "check the probabilities (count / number of labels) and the sign."
        )
    return (
        "It is in the possible range, [0, log 10], but not -sum p log p of the digits' "
        "frequencies p = count / number of labels: check how the histogram is counted."
    )


def entropy_terms(probabilities: torch.Tensor) -> torch.Tensor:
    """-p log p for each non-zero probability."""
    return -(probabilities * probabilities.log())


def entropy_mistakes(
    labels: torch.Tensor, present: torch.Tensor, entropy: torch.Tensor
) -> list[tuple[str, torch.Tensor]]:
    """The entropies the usual mistakes give for `labels`, with their hints."""
    nine_bins = torch.histc(labels.double(), bins=9, min=0, max=9)  # (9,): two digits merged
    nine_bins = nine_bins[nine_bins > 0] / nine_bins.sum()
    smoothed = (torch.bincount(labels, minlength=10).double() + 1) / (len(labels) + 10)  # (10,)
    return [
        (
            "the entropy is in bits (log base 2): use the natural log, for nats.",
            entropy / math.log(2),
        ),
        ("the logarithm is base 10: use the natural log, for nats.", entropy / math.log(10)),
        (
            "the counts are not normalised into probabilities: divide by the number of "
            "labels first.",
            -(present * present.log()).sum(),
        ),
        ("the sign is flipped: entropy is -sum p log p, never negative.", -entropy),
        (
            "this is the entropy of the digits that occur, as if equally common "
            "(log of their number): weigh each by its probability.",
            torch.tensor(float(len(present))).log(),
        ),
        (
            "the counts are divided by 10, the number of classes: a probability is a count "
            "divided by the number of labels, so that the probabilities sum to 1.",
            entropy_terms(present / 10).sum(),
        ),
        (
            "the terms -p log p are averaged: the entropy is their sum over the digits.",
            entropy / len(present),
        ),
        (
            "the terms -p log p are averaged over the 10 classes: the entropy is their sum.",
            entropy / 10,
        ),
        (
            "the histogram does not have one bin per digit (torch.histc with 9 bins merges two "
            "digits): count each digit 0-9, e.g. torch.bincount(labels, minlength=10).",
            entropy_terms(nine_bins).sum(),
        ),
        (
            "the counts are smoothed (one added to each digit's count): a digit that never "
            "occurs has probability 0 and adds nothing to the entropy.",
            entropy_terms(smoothed).sum(),
        ),
    ]
