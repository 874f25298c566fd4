"""labutils.plots: the latent paths chapters 2 and 3 decode (the straight line and slerp), and
the figures draw the data they are given."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from labutils import plots
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


def test_plot_paths_draws_each_path_in_order_with_its_start_and_the_target() -> None:
    paths = {
        "in turn": torch.tensor([[1.0, 1.0], [0.9, 1.1], [0.8, 1.2]]),  # (3, 2)
        "simultaneous": torch.tensor([[1.0, 1.0], [0.5, 2.0]]),  # (2, 2)
    }
    fig = plots.plot_paths(paths, xlabel="x", ylabel="y", target=(0.0, 0.0))
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for label, points in paths.items():
        torch.testing.assert_close(torch.tensor(lines[label].get_xydata()).float(), points)
    starts = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [tuple(line.get_xydata()[0]) for line in starts] == [(1.0, 1.0), (1.0, 1.0)]
    assert tuple(lines["solution"].get_xydata()[0]) == (0.0, 0.0)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "in turn",
        "simultaneous",
        "solution",
    ]
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    plt.close(fig)


def test_plot_paths_without_a_target_draws_no_star() -> None:
    fig = plots.plot_paths({"a": torch.zeros(4, 2)}, xlabel="x", ylabel="y")
    assert all(line.get_marker() != "*" for line in fig.axes[0].get_lines())
    plt.close(fig)
