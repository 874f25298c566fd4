"""Figures the chapters share: image grids, training curves, latent spaces.

Each function draws one figure and returns it; in a notebook, assign the result
(`fig = show_images(...)`) so that Jupyter shows it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from .monitor import rolling_mean

History = dict[str, list[float]]


def image_grid(images: torch.Tensor, nrow: int = 10, value_range=(0.0, 1.0)) -> torch.Tensor:
    """Tile images (N, 1, 28, 28) into one (H, W) array for imshow, pixels mapped to [0, 1]."""
    low, high = value_range
    scaled = ((images.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    return make_grid(scaled, nrow=nrow, padding=2, pad_value=1.0)[0]  # (H, W)


def show_images(
    images: torch.Tensor,
    nrow: int = 10,
    title: str | None = None,
    value_range=(0.0, 1.0),
    ax: plt.Axes | None = None,
) -> Figure:
    """Show a batch of images as a grid, `nrow` per row. Use value_range=(-1, 1) for GAN output."""
    if ax is None:
        rows = -(-images.shape[0] // nrow)
        _, ax = plt.subplots(figsize=(nrow * 0.6, rows * 0.6 + (0.4 if title else 0)))
    ax.imshow(image_grid(images, nrow, value_range).numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def show_reconstructions(originals: torch.Tensor, reconstructions: torch.Tensor) -> Figure:
    """Originals on the top row, their reconstructions below."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(originals.shape[0] * 0.6, 1.7))
    show_images(originals, nrow=originals.shape[0], title="test images", ax=top)
    show_images(reconstructions, nrow=originals.shape[0], title="reconstructions", ax=bottom)
    fig.tight_layout()
    return fig


def finish_line_plot(
    fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str | None, **legend: object
) -> Figure:
    """The last touches every line plot here shares: axis labels, a legend (`legend` are its
    options), a light grid, the title if there is one, and a tight layout."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(**legend)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_history(
    history: History, metrics: Sequence[str], ylabel: str, title: str | None = None
) -> Figure:
    """Per-epoch curves of `metrics` (keys of a `fit` history), one line each, against the epoch."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    styles = ["-o", "--s", ":^", "-.v"]
    for name, style in zip(metrics, styles, strict=False):
        values = history[name]
        ax.plot(range(1, len(values) + 1), values, style, label=name.replace("_", " "))
    return finish_line_plot(fig, ax, "epoch", ylabel, title)


def latent_scatter(codes: torch.Tensor, labels: torch.Tensor, title: str | None = None) -> Figure:
    """2-D codes (N, 2) as points coloured by digit, each digit written at its cluster median.

    The written digits keep the figure readable in greyscale, where ten colours are not.
    """
    codes, labels = codes.detach().cpu(), labels.cpu()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3, alpha=0.6)
    for digit in range(10):
        centre = codes[labels == digit].median(dim=0).values
        ax.text(
            *centre.tolist(),
            str(digit),
            fontsize=14,
            weight="bold",
            ha="center",
            va="center",
            bbox={"boxstyle": "circle", "fc": "white", "alpha": 0.8},
        )
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def latent_grid(low: float, high: float, steps: int) -> torch.Tensor:
    """A steps x steps grid of 2-D points (steps*steps, 2), rows from high z_2 down to low."""
    axis = torch.linspace(low, high, steps)
    z1, z2 = torch.meshgrid(axis, axis.flip(0), indexing="xy")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)  # (steps*steps, 2)


def show_manifold(
    decode: Callable[[torch.Tensor], torch.Tensor],
    low: float = -3.0,
    high: float = 3.0,
    steps: int = 15,
    device: torch.device | str = "cpu",
) -> Figure:
    """Decode a regular grid of 2-D latent points and show the images where they lie."""
    with torch.inference_mode():
        images = decode(latent_grid(low, high, steps).to(device))
    fig, ax = plt.subplots(figsize=(6, 6))
    grid = image_grid(images.cpu(), nrow=steps).numpy()  # (H, W)
    ax.imshow(grid, cmap="gray_r", extent=(low, high, low, high))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    return fig


def interpolate(z_start: torch.Tensor, z_end: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """`steps` points on the straight line from z_start to z_end (both (d,)): (steps, d)."""
    weights = torch.linspace(0, 1, steps, device=z_start.device)[:, None]  # (steps, 1)
    return (1 - weights) * z_start + weights * z_end


def slerp(z_start: torch.Tensor, z_end: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """`steps` points on the spherical path from z_start to z_end (both (d,)): (steps, d).

    White (2016): turn z_start into z_end along the great circle through both, by the angle
    between them. For two codes of equal length every point keeps that length, where the
    straight line of `interpolate` passes closer to the origin. Codes that point the same or
    opposite ways span no circle: then the path is the straight line.
    """
    weights = torch.linspace(0, 1, steps, device=z_start.device)[:, None]  # (steps, 1)
    unit_start = z_start / z_start.norm().clamp_min(1e-12)  # (d,)
    unit_end = z_end / z_end.norm().clamp_min(1e-12)  # (d,)
    # 0-d: the angle between the codes, accurate near 0 and pi too (unlike arccos of the cosine)
    angle = 2 * torch.atan2((unit_start - unit_end).norm(), (unit_start + unit_end).norm())
    if torch.sin(angle) < 1e-4:  # (anti)parallel, where the two paths agree to ~1e-8
        return interpolate(z_start, z_end, steps)
    start_weights = torch.sin((1 - weights) * angle) / torch.sin(angle)  # (steps, 1)
    end_weights = torch.sin(weights * angle) / torch.sin(angle)  # (steps, 1)
    return start_weights * z_start + end_weights * z_end  # (steps, d)


def show_image_panels(
    panels: dict[str, torch.Tensor], nrow: int = 10, value_range=(0.0, 1.0)
) -> Figure:
    """Image grids side by side, one per titled entry of `panels`: to compare models' output."""
    rows = max(-(-images.shape[0] // nrow) for images in panels.values())
    fig, axes = plt.subplots(
        1, len(panels), figsize=(len(panels) * nrow * 0.6, rows * 0.6 + 0.4), squeeze=False
    )
    for ax, (title, images) in zip(axes[0], panels.items(), strict=True):
        show_images(images, nrow=nrow, title=title, value_range=value_range, ax=ax)
    fig.tight_layout()
    return fig


def show_image_rows(rows: dict[str, torch.Tensor], value_range=(0.0, 1.0)) -> Figure:
    """One titled row of images per entry of `rows`, stacked so that columns line up: e.g. noisy
    inputs, a model's outputs and the clean images, one column per example."""
    count = max(images.shape[0] for images in rows.values())
    fig, axes = plt.subplots(len(rows), 1, figsize=(count * 0.6, 0.85 * len(rows)), squeeze=False)
    for ax, (title, images) in zip(axes[:, 0], rows.items(), strict=True):
        show_images(images, nrow=count, title=title, value_range=value_range, ax=ax)
    fig.tight_layout()
    return fig


def plot_error_vs_size(
    sizes: Sequence[int],
    errors: dict[str, Sequence[float]],
    points: dict[str, tuple[Sequence[int], Sequence[float]]] | None = None,
    ylabel: str = "test MSE per pixel",
    title: str | None = None,
) -> Figure:
    """Reconstruction error against the code size: one line per method in `errors` (values
    aligned with `sizes`, e.g. autoencoder and PCA), and single markers for the (sizes, errors)
    of each entry of `points` (e.g. models trained longer). Code sizes on a log2 axis."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    styles = ["-o", "--s", ":^", "-.v"]
    for (label, values), style in zip(errors.items(), styles, strict=False):
        ax.plot(list(sizes), list(values), style, label=label)
    for (label, (where, values)), marker in zip((points or {}).items(), "*DP", strict=False):
        ax.plot(list(where), list(values), marker, color="black", markersize=10, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes), [str(size) for size in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_ylim(bottom=0)
    return finish_line_plot(fig, ax, "code size (numbers per image)", ylabel, title, fontsize=8)


def mark_points(
    fig: Figure, points: torch.Tensor, label: str, marker: str = "x", color: str = "black"
) -> Figure:
    """Draw 2-D points (N, 2) over the first axes of `fig` (e.g. random codes over a
    `latent_scatter`), with a legend entry `label`."""
    points = points.detach().cpu()
    ax = fig.axes[0]
    ax.scatter(points[:, 0], points[:, 1], marker=marker, color=color, s=28, label=label)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return fig


def plot_paths(
    paths: dict[str, torch.Tensor],
    xlabel: str,
    ylabel: str,
    target: tuple[float, float] | None = None,
) -> Figure:
    """Trajectories in a plane, one line style each: `paths` maps a label to its points (T, 2) in
    the order visited, the start marked with a dot; `target` (e.g. a game's solution) is a star.
    Equal axis scales, so that a circle looks like one."""
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for (label, points), style in zip(paths.items(), ["-", "--", ":", "-."], strict=False):
        points = points.detach().cpu()  # (T, 2)
        (line,) = ax.plot(points[:, 0], points[:, 1], style, linewidth=1.5, label=label)
        ax.plot(points[0, 0], points[0, 1], "o", color=line.get_color())
    if target is not None:
        ax.plot(*target, "*", color="black", markersize=12, label="solution")
    ax.set_aspect("equal", adjustable="datalim")
    return finish_line_plot(fig, ax, xlabel, ylabel, None, fontsize=8)


def plot_curves(
    x: torch.Tensor,
    curves: dict[str, torch.Tensor],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
) -> Figure:
    """Several functions of the same variable `x` (N,), one line style each (readable in grey)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for (label, y), style in zip(curves.items(), ["-", "--", ":", "-."], strict=False):
        ax.plot(x.detach().cpu(), y.detach().cpu(), style, linewidth=2, label=label)
    return finish_line_plot(fig, ax, xlabel, ylabel, title)


def plot_step_curves(
    history: History,
    metrics: dict[str, str],
    ylabel: str,
    window: int = 50,
    epochs: int | None = None,
    reference: float | None = None,
) -> Figure:
    """Per-iteration curves (`step_<metric>` keys of a `fit` history, mapped to their labels).

    Each raw curve is drawn thin, its centred moving average over `window` iterations thick on top.
    `epochs` marks the epoch boundaries with dotted lines; `reference` draws a dashed level.
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    total = len(history[next(iter(metrics))])  # iterations in the history
    for (name, label), style in zip(metrics.items(), ["-", "--", ":", "-."], strict=False):
        values = history[name]
        steps = torch.arange(1, len(values) + 1)  # (steps,)
        (raw,) = ax.plot(steps, values, linewidth=0.6, alpha=0.35)
        smooth = rolling_mean(values, min(window, len(values)))  # (steps - window + 1,)
        offset = (len(values) - smooth.numel()) // 2  # centre each average on its window
        ax.plot(
            steps[offset : offset + smooth.numel()],
            smooth,
            style,
            color=raw.get_color(),
            linewidth=2,
            label=label,
        )
    if epochs:
        for boundary in torch.linspace(0, total, epochs + 1)[1:-1]:
            ax.axvline(float(boundary), color="grey", linestyle=":", linewidth=1)
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(metrics), frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_class_histograms(histograms: dict[str, torch.Tensor], title: str | None = None) -> Figure:
    """Fraction of images predicted as each digit: one group of bars per digit, one bar per entry
    of `histograms` (each (10,), summing to 1), hatched so that it reads in greyscale; the dashed
    line is the uniform 1/10 that a model covering every digit equally would reach."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    width = 0.8 / len(histograms)
    hatches = ["", "//", "..", "xx", "\\\\", "--"]
    for i, (label, histogram) in enumerate(histograms.items()):
        positions = torch.arange(10) - 0.4 + (i + 0.5) * width  # (10,) bar centres
        ax.bar(
            positions,
            histogram.detach().cpu(),
            width,
            label=label,
            hatch=hatches[i % len(hatches)],
            edgecolor="black",
            linewidth=0.5,
        )
    ax.axhline(0.1, color="black", linestyle="--", linewidth=1, label="uniform (1/10)")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit predicted by the classifier")
    ax.set_ylabel("fraction of images")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
