"""Checker of Exercise 1.3 (chapter 1): a Gaussian fitted to the autoencoder's codes, on
ordinary codes, on fewer codes than dimensions, and on codes far from the origin."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .core import (
    Hint,
    as_float64,
    close,
    compare,
    describe,
    exercise,
    fixed_generator,
    require_tensor,
)


@exercise("1.3", "fit_code_gaussian")
def check_code_gaussian(fit_code_gaussian: Callable) -> None:
    """Exercise 1.3: `fit_code_gaussian(codes) -> (mean (D,), covariance (D, D))`, compared with
    the sample mean and covariance on correlated codes, on fewer codes than dimensions (where
    dividing by N - 1 and by D - 1 differ, and the covariance is singular) and on codes far from
    the origin (where E[x x^T] - mean mean^T cancels in float32)."""
    generator = fixed_generator()
    mixing = torch.randn(4, 4, generator=generator)  # (4, 4)
    codes = torch.randn(500, 4, generator=generator) @ mixing + torch.arange(4.0) - 1  # (500, 4)
    few = torch.randn(3, 5, generator=generator) * 2 + 1  # (3, 5): N <= D + 1
    far = torch.randn(200, 3, generator=generator) + 1000  # (200, 3): mean 1000, sd 1
    check_fit(fit_code_gaussian(codes.clone()), codes, "500 correlated codes")
    check_fit(fit_code_gaussian(few.clone()), few, "3 codes of 5 dimensions")
    case = "codes near 1000 with standard deviation 1"
    check_fit(fit_code_gaussian(far.clone()), far, case, far=True)


def check_fit(fitted: object, codes: torch.Tensor, case: str, far: bool = False) -> None:
    """The learner's (mean, covariance) of `codes` (N, D), compared with the sample's; `far`:
    the codes are far from 0, and the answer was right on codes near 0."""
    n, d = codes.shape
    if not isinstance(fitted, (tuple, list)) or len(fitted) != 2:
        raise Hint(f"should return a tuple (mean, covariance), got {describe(fitted)}.")
    mean, covariance = fitted
    if isinstance(mean, torch.Tensor) and tuple(mean.shape) == (d, d) and d != n:
        raise Hint("returns (covariance, mean): return the mean first, (mean, covariance).")
    if isinstance(mean, torch.Tensor) and tuple(mean.shape) == (n,) and n != d:
        raise Hint(f"the mean has one entry per code ({n}): average over the examples, dim=0.")
    mean = require_tensor(mean, (d,), f"The mean of {case}")
    if isinstance(covariance, torch.Tensor) and tuple(covariance.shape) == (n, n) and n != d:
        raise Hint(
            f"the covariance is {n} x {n}, one row per example: the covariance is between the "
            "code's dimensions (torch.cov expects one variable per row, i.e. codes.T)."
        )
    if isinstance(covariance, torch.Tensor) and tuple(covariance.shape) == (d,):
        raise Hint(
            "the covariance is a vector, one number per dimension: sampling needs the full "
            "(d, d) matrix, whose off-diagonal entries say how the code's dimensions co-vary."
        )
    covariance = require_tensor(covariance, (d, d), f"The covariance of {case}")
    wide = codes.double()  # the reference in float64: exact enough for the far codes
    compare(mean, wide.mean(dim=0), [], f"The mean of {case}")
    centred = wide - wide.mean(dim=0)  # (N, D)
    scatter = centred.T @ centred  # (D, D)
    if close(covariance, scatter / n, rtol=1e-3):
        return  # the maximum-likelihood estimate (divide by N) is as good as the unbiased one
    mistakes = covariance_mistakes(codes, scatter)
    if far:  # right on the codes near 0 (checked first), wrong here: the float32 cancellation
        ok = close(covariance, scatter / (n - 1), 1e-3) or any(
            close(covariance, m) for _, m in mistakes
        )
        if not ok:
            raise Hint(
                f"the covariance of {case} is off by up to "
                f"{(as_float64(covariance) - scatter / (n - 1)).abs().max().item():.3g}, though "
                "right for codes near 0: it subtracts two large, nearly equal numbers, as "
                "E[x x^T] - mean mean^T does, and float32 keeps only about 7 digits of each. "
                "Subtract the mean from the codes first, then average the products."
            )
    compare(covariance, scatter / (n - 1), mistakes, f"The covariance of {case}", 1e-3)


def covariance_mistakes(codes: torch.Tensor, scatter: torch.Tensor) -> list:
    """The covariances of the usual mistakes on `codes` (N, D), with their hints."""
    n, d = codes.shape
    wide = codes.double()
    uncentred = "the covariance was computed without subtracting the mean from the codes first."
    divisor = (
        "the covariance divides by the number of dimensions ({}, codes.shape[1]{}): divide by "
        "the number of examples minus one, N - 1 = codes.shape[0] - 1."
    )
    mistakes = [(uncentred, wide.T @ wide / m) for m in (n - 1, n)]
    mistakes += [
        (divisor.format(d - 1, " - 1"), scatter / (d - 1)),
        (divisor.format(d, ""), scatter / d),
    ]
    mistakes += [
        (
            "the covariance is diagonal: the off-diagonal entries, how the code's dimensions "
            "co-vary, are missing.",
            torch.diag(scatter.diag() / (n - 1)),
        ),
        (
            "this is the correlation matrix (the covariance divided by the standard "
            "deviations): sampling needs the covariance itself.",
            torch.corrcoef(wide.T),
        ),
    ]
    return mistakes
