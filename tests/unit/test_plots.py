"""labutils.plots: the figures draw the data they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from labutils import plots


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
