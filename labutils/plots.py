"""Figures the chapters share: image grids, training curves, latent spaces.

Each function draws one figure and returns it; in a notebook, assign the result
(`fig = show_images(...)`) so that Jupyter shows it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid

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
    ax.imshow(image_grid(images, nrow, value_range), cmap="gray_r", vmin=0, vmax=1)
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


def plot_history(
    history: History, metrics: Sequence[str], ylabel: str, title: str | None = None
) -> Figure:
    """Per-epoch curves of `metrics` (keys of a `fit` history), one line each, against the epoch."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    styles = ["-o", "--s", ":^", "-.v"]
    for name, style in zip(metrics, styles, strict=False):
        values = history[name]
        ax.plot(range(1, len(values) + 1), values, style, label=name.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


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
    ax.imshow(image_grid(images, nrow=steps), cmap="gray_r", extent=(low, high, low, high))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    return fig


def interpolate(z_start: torch.Tensor, z_end: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """`steps` points on the straight line from z_start to z_end (both (D,)): (steps, D)."""
    weights = torch.linspace(0, 1, steps, device=z_start.device)[:, None]  # (steps, 1)
    return (1 - weights) * z_start + weights * z_end
