"""Exercise 4.6's checker: a correct solution passes, the usual mistakes get their own hint."""

from __future__ import annotations

import torch

from labutils.checkers import check_precision_recall


def solution(real: torch.Tensor, generated: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Full distance matrices with torch.cdist: fine for the checker's small sets."""
    real, generated = real.double(), generated.double()
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]  # (N,); column 0 is itself
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]  # (M,)
    distances = torch.cdist(generated, real)  # (M, N)
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


def test_a_correct_solution_passes():
    assert check_precision_recall(solution)


def test_swapped_precision_and_recall_are_named():
    result = check_precision_recall(lambda real, generated, k: solution(real, generated, k)[::-1])
    assert not result and "swapped" in result.message


def test_counting_a_point_as_its_own_neighbour_is_named():
    def counting_itself(real, generated, k):
        return solution(real, generated, k - 1) if k > 1 else solution_radius_zero(real, generated)

    result = check_precision_recall(counting_itself)
    assert not result and "the point itself" in result.message


def solution_radius_zero(real: torch.Tensor, generated: torch.Tensor) -> tuple[float, float]:
    """Balls of radius 0: only coinciding points count."""
    distances = torch.cdist(generated.double(), real.double())  # (M, N)
    return float((distances == 0).any(1).double().mean()), float(
        (distances == 0).any(0).double().mean()
    )


def test_a_wrong_return_type_says_what_to_return():
    result = check_precision_recall(lambda real, generated, k: 0.5)
    assert not result and "Return two numbers, (precision, recall)" in result.message
