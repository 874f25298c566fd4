"""Argument checks shared by the library: one clear error per kind of bad input."""

from __future__ import annotations

import math

import torch

IMAGE_SHAPE = (1, 28, 28)


def require_positive_int(name: str, value: object) -> int:
    """Return `value` if it is a positive int, else raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def require_positive_float(name: str, value: object) -> float:
    """Return `value` as a float if it is a positive finite number (e.g. a learning rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def check_images(images: object, who: str) -> torch.Tensor:
    """Make sure `images` is a float batch shaped (N, 1, 28, 28), the layout every model expects."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{who} expects a torch.Tensor of images, got {type(images).__name__}.")
    if images.dim() != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"{who} expects images of shape (N, 1, 28, 28), got {tuple(images.shape)}. "
            "Use images.view(-1, 1, 28, 28) for flat 784-pixel rows, "
            "or images.unsqueeze(0) for a single image."
        )
    if not images.is_floating_point():
        raise TypeError(
            f"{who} expects floating-point images in [0, 1], got dtype {images.dtype}. "
            "Convert uint8 pixels with images.float() / 255."
        )
    return images


def check_latents(z: object, latent_dim: int, who: str) -> torch.Tensor:
    """Make sure `z` is a float batch of latent vectors shaped (N, latent_dim)."""
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{who} expects a torch.Tensor of latent vectors, got {type(z).__name__}.")
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"{who} expects latent vectors of shape (N, {latent_dim}), got {tuple(z.shape)}."
        )
    if not z.is_floating_point():
        raise TypeError(f"{who} expects floating-point latent vectors, got dtype {z.dtype}.")
    return z
