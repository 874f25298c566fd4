"""Checkers of chapter 1 (autoencoders): the training step and the noise of a denoising
autoencoder (the Gaussian fitted to the codes: `code_gaussian`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F

from ..models import Autoencoder
from .core import (
    Hint,
    describe,
    exercise,
    fixed_generator,
    require_tensor,
)
from .noise import gaussian_shape_hint, shared_along, shared_between
from .updates import StepOutcome, compare_update, run_step, sgd_update, update_mistakes


@exercise("1.1", "my_ae_step")
def check_ae_step(my_ae_step: Callable) -> None:
    """Exercise 1.1: `my_ae_step(model, optimizer, images) -> {"loss": loss.detach()}`, one
    update on the MSE per pixel; compared with the reference update and its usual mistakes."""
    model = Autoencoder(latent_dim=3, hidden=(8,))
    images = torch.rand(5, 1, 28, 28, generator=fixed_generator())  # (5, 1, 28, 28)

    def mse(m: torch.nn.Module) -> torch.Tensor:
        return F.mse_loss(m(images), images)

    def updated(loss: Callable[[torch.Tensor], torch.Tensor], **how: bool) -> torch.Tensor:
        return sgd_update(model, lambda m: loss(m(images)), **how)[0]

    expected, expected_loss = sgd_update(model, mse)
    outcome = run_step(my_ae_step, model, images.clone())
    per_image = "MSE summed over the pixels: the loss is the mean over pixels and images."
    accumulated = sgd_update(model, mse, clear=False)[0]
    compare_update(
        outcome,
        "optimizer",
        expected,
        [
            *update_mistakes("optimizer", model, outcome, expected, accumulated),
            (
                "the update is about 3,920 times too large: the loss is the squared error "
                "summed over pixels and images; the exercise asks for its mean per pixel.",
                updated(lambda out: F.mse_loss(out, images, reduction="sum")),
            ),
            (per_image, updated(lambda out: (out - images).pow(2).flatten(1).sum(1).mean())),
            (
                "this is the binary cross-entropy; the exercise asks for the mean squared error.",
                updated(lambda out: F.binary_cross_entropy(out, images)),
            ),
            (
                "this is the mean absolute error (L1); the exercise asks for the mean squared "
                "error.",
                updated(lambda out: F.l1_loss(out, images)),
            ),
        ],
    )
    require_metrics(outcome, expected_loss)


def require_metrics(outcome: StepOutcome, expected: float) -> None:
    """A step for `fit` returns its metrics: {"loss": the loss before the update, detached}."""
    returned = outcome.returned
    metrics = 'return {"loss": loss.detach()}, as ae_step does'
    if not isinstance(returned, dict):
        raise Hint(
            f"returns {describe(returned)}: fit needs the step's metrics as a dict of detached "
            f"scalar tensors, so {metrics}."
        )
    if "loss" not in returned:
        raise Hint(
            f"the returned dict has the keys {sorted(map(str, returned))}: name the loss "
            f"'loss' (fit records it as train_loss), i.e. {metrics}."
        )
    loss = returned["loss"]
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or loss.dim() != 0:
        raise Hint(
            f'returned["loss"] is {describe(loss)}: fit stacks the metrics as scalar tensors, '
            f"so {metrics} (not .item(), which also waits for the GPU at every step)."
        )
    if loss.requires_grad:
        raise Hint(
            'returned["loss"] still carries its computation graph: return loss.detach(), so '
            "that the graph of each step is freed."
        )
    if not math.isclose(float(loss), expected, rel_tol=1e-4):
        raise Hint(
            f"returns the loss {float(loss):.6g}, but the loss of this batch before the update "
            f"is {expected:.6g}: return the loss you called backward() on."
        )


@exercise("1.2", "add_noise")
def check_add_noise(add_noise: Callable) -> None:
    """Exercise 1.2: `add_noise(images, std, generator=None)`: Gaussian noise, clipped to [0, 1].
    Checks shape, dtype, purity, clipping, the noise's mean, spread and Gaussian shape, its
    independence across images, rows, columns and channels, and what `generator` means."""
    edges = (torch.arange(64 * 784) % 2).float().view(64, 1, 28, 28)  # half 0s, half 1s
    original = edges.clone()
    noisy = require_tensor(
        add_noise(edges, 0.3), (64, 1, 28, 28), "The noisy images", dtype=torch.float32
    )
    if not torch.equal(edges, original):
        raise Hint(
            "the input images were changed: add the noise out of place (noisy = images + ...), "
            "not with += or an in-place method such as add_() or clamp_()."
        )
    if noisy.min() < 0 or noisy.max() > 1:
        raise Hint(
            f"values range from {noisy.min().item():.3g} to {noisy.max().item():.3g}: clip the "
            "noisy images to [0, 1], the range of pixel intensities."
        )
    at_bounds = ((noisy == 0) | (noisy == 1)).float().mean().item()
    if at_bounds < 0.3:  # about half of the pixels are pushed beyond a bound, and clipped there
        raise Hint(
            "values stay in [0, 1] but few reach 0 or 1 exactly: clip (clamp) them to [0, 1] "
            "rather than rescaling the whole image."
        )
    noise_statistics_checks(add_noise)
    channel_checks(add_noise)
    generator_checks(add_noise)


def noise_statistics_checks(add_noise: Callable) -> None:
    """On mid-grey images the added noise must be N(0, std^2), clipped where it leaves [0, 1]
    (at std = 0.1 that is 5 sd away: a clipped draw in 3.5 million), and independent across
    the images and pixels of the batch."""
    grey = torch.full((64, 1, 28, 28), 0.5)  # (64, 1, 28, 28)
    noise = add_noise(grey, 0.1) - grey  # (64, 1, 28, 28)
    spread, centre = noise.std().item(), noise.mean().item()
    if spread == 0:
        raise Hint("no noise was added: the output equals the input.")
    if noise.flatten(1).std(dim=1).max() == 0:
        raise Hint(
            "the noise is one number per image: draw one value per pixel (noise of the images' "
            "full shape)."
        )
    independence_checks(noise)
    if add_noise(torch.ones(8, 1, 28, 28), 0.1).mean() < 0.5:  # about 0.96 when right
        raise Hint(
            "the output does not contain the images (white images come back near 0): return "
            "the images plus the noise, clipped to [0, 1], not the noise alone."
        )
    # 50,176 draws: the sample sd is within 3% of 0.1 and the mean within 0.005 of 0 unless they
    # are 10 standard errors off, so a correct answer fails with a probability below 1e-20.
    if abs(spread / 0.1 - 1) < 0.03 and abs(centre) < 0.005:
        shape = gaussian_shape_hint(noise / 0.1, "torch.randn (or torch.randn_like)")
        if shape is not None:
            raise Hint(shape)
        return
    scale_mistakes(add_noise, grey, spread, centre)


def independence_checks(noise: torch.Tensor) -> None:
    """The noise (N, 1, 28, 28) of a batch: no rows, columns or images share it."""
    for dim, along, shape in ((3, "row", "(N, 1, 28, 1)"), (2, "column", "(N, 1, 1, 28)")):
        if shared_along(noise, dim):
            raise Hint(
                f"the pixels of a {along} share one noise value: the noise was drawn with shape "
                f"{shape} and broadcast along the {along}. Draw one value per pixel, of the "
                "images' full shape."
            )
    pair = shared_between(noise)
    if pair is not None and shared_between(noise[:2]) is not None:
        raise Hint(
            "every image got the same noise: draw noise of the images' full shape, "
            "(N, 1, 28, 28), not one noise image for the batch."
        )
    if pair is not None:
        raise Hint(
            f"images {pair[0]} and {pair[1]} of the batch got the same noise: draw fresh noise "
            "for the whole batch at once (of the images' full shape), not a few noise images "
            "reused."
        )


def channel_checks(add_noise: Callable) -> None:
    """On colour images (N, 3, 28, 28) the channels of a pixel get independent noise too."""
    colour = torch.full((8, 3, 28, 28), 0.5)  # (8, 3, 28, 28)
    fixed = (
        "add_noise must work for images of any shape, e.g. 3-channel ones: draw noise of the "
        "images' own shape (torch.randn_like, or images.shape) rather than a fixed (N, 1, 28, 28)"
    )
    try:
        noisy = add_noise(colour, 0.1)
    except RuntimeError as error:
        raise Hint(f"{fixed} ({type(error).__name__}: {str(error).splitlines()[0]}).") from None
    if not isinstance(noisy, torch.Tensor) or tuple(noisy.shape) != (8, 3, 28, 28):
        raise Hint(f"{fixed}; for (8, 3, 28, 28) images it returned {describe(noisy)}.")
    if shared_along(noisy - colour, 1):
        raise Hint(
            "the channels of a pixel share one noise value: the noise was drawn with one channel "
            "(N, 1, H, W) and broadcast over the channels. Draw noise of the images' full shape."
        )


def scale_mistakes(add_noise: Callable, grey: torch.Tensor, spread: float, centre: float) -> None:
    """The noise's mean or standard deviation is off: name the mistake that explains it."""
    if abs(spread / 0.1 - 1) < 0.03 and abs(centre) >= 0.005:
        raise Hint(
            f"the noise is not centred: its mean is {centre:.3g}, not 0 (torch.rand draws from "
            "[0, 1), whose mean is 1/2). Draw zero-mean Gaussian noise with torch.randn."
        )
    # Each mistake as the noise's standard deviation it gives for `std`: checked at a second
    # std as well, since sqrt(0.1) and a fixed 0.3 are within 5% of each other at std=0.1.
    mistakes: dict[str, Callable[[float], float]] = {
        "the noise's standard deviation is std**2 (0.01 for std=0.1): `std` is already the "
        "standard deviation, multiply the standard normal noise by it directly.": lambda s: s**2,
        "the noise's standard deviation is sqrt(std) (0.32 for std=0.1): `std` is the standard "
        "deviation, not the variance.": math.sqrt,
        "the noise has standard deviation 1: multiply the standard normal noise by std.": (
            lambda s: 1.0
        ),
        "the noise's standard deviation stays 0.3 whatever std is: use the `std` argument "
        "rather than a fixed value.": lambda s: 0.3,
    }
    other = (add_noise(grey, 0.04) - grey).std().item()
    for hint, wrong in mistakes.items():
        if all(
            abs(measured / clipped_spread(wrong(std)) - 1) < 0.05
            for measured, std in ((spread, 0.1), (other, 0.04))
        ):
            raise Hint(hint)
    if abs(spread / (0.1 / math.sqrt(12)) - 1) < 0.05:
        raise Hint("the noise is uniform (torch.rand): use Gaussian noise (torch.randn).")
    raise Hint(
        f"for std=0.1 the added noise has mean {centre:.3g} and standard deviation "
        f"{spread:.3g}; expected mean 0 and standard deviation 0.1."
    )


@cache
def clipped_spread(std: float) -> float:
    """Standard deviation of Gaussian noise of `std` added to 0.5 and clipped to [0, 1]."""
    noise = std * torch.randn(100_000, generator=fixed_generator(8))  # (100000,)
    return noise.clamp(-0.5, 0.5).std().item()


def generator_checks(add_noise: Callable) -> None:
    """What `generator` means: the same seed gives the same noise, another seed other noise, and
    the caller's generator advances (two draws from it differ); without one, every call differs."""
    grey = torch.full((4, 1, 28, 28), 0.5)  # (4, 1, 28, 28)
    first = add_noise(grey, 0.1, generator=fixed_generator(2))
    again = add_noise(grey, 0.1, generator=fixed_generator(2))
    if not torch.equal(first, again):
        raise Hint(
            "two calls with identically seeded generators gave different noise: pass "
            "`generator=generator` to the function that draws the noise."
        )
    if torch.equal(add_noise(grey, 0.1), add_noise(grey, 0.1)):
        raise Hint(
            "two calls without a generator gave the same noise: don't seed inside add_noise; "
            "each call should draw fresh noise."
        )
    if torch.equal(first, add_noise(grey, 0.1, generator=fixed_generator(3))):
        raise Hint(
            "generators seeded differently gave the same noise: the `generator` passed in is "
            "not what draws it (a generator of your own with a fixed seed is). Draw with "
            "generator=generator."
        )
    shared = fixed_generator(2)
    if torch.equal(add_noise(grey, 0.1, generator=shared), add_noise(grey, 0.1, generator=shared)):
        raise Hint(
            "two calls with the same generator gave the same noise: the caller's generator must "
            "advance as it draws, but it is reset or copied (manual_seed, set_state or a new "
            "Generator from its state). Draw from it directly."
        )
