"""The latent paths that chapter 2 decodes: the straight line and the spherical path (slerp)."""

from __future__ import annotations

import math

import torch

from labutils.plots import interpolate, slerp


def test_slerp_starts_and_ends_at_the_two_codes() -> None:
    generator = torch.Generator().manual_seed(0)
    start, end = torch.randn(2, 20, generator=generator, dtype=torch.float64)  # (20,) each
    path = slerp(start, end, steps=7)
    assert path.shape == (7, 20)
    assert torch.allclose(path[0], start) and torch.allclose(path[-1], end)


def test_slerp_keeps_the_length_of_equally_long_codes_where_the_line_does_not() -> None:
    generator = torch.Generator().manual_seed(1)
    start, end = torch.randn(2, 20, generator=generator, dtype=torch.float64)  # (20,) each
    end = end * start.norm() / end.norm()  # the same length as start
    spherical = slerp(start, end, steps=11).norm(dim=1)  # (11,)
    straight = interpolate(start, end, steps=11).norm(dim=1)  # (11,)
    assert torch.allclose(spherical, start.norm().expand(11))
    assert straight[5] < 0.99 * start.norm()  # the line's midpoint is nearer the origin


def test_slerp_of_orthogonal_unit_codes_follows_the_quarter_circle() -> None:
    start, end = torch.eye(2, dtype=torch.float64)  # (2,) each, at a right angle
    path = slerp(start, end, steps=3)
    expected_middle = torch.tensor([1.0, 1.0], dtype=torch.float64) / math.sqrt(2)
    assert torch.allclose(path[1], expected_middle)
    # the angle from start grows evenly: 0, 45 and 90 degrees
    angles = torch.atan2(path[:, 1], path[:, 0])  # (3,)
    assert torch.allclose(
        angles, torch.tensor([0.0, math.pi / 4, math.pi / 2], dtype=torch.float64)
    )


def test_slerp_of_parallel_codes_is_the_straight_line() -> None:
    start = torch.tensor([1.0, 2.0, -1.0])
    for end in (3 * start, -2 * start):  # the same and the opposite direction: no circle
        path = slerp(start, end, steps=5)
        assert torch.isfinite(path).all()
        assert torch.allclose(path, interpolate(start, end, steps=5))
