"""The widgets' callbacks, driven without a browser: moving a slider shows what the model computes
for that slider value, read back from the PNG the widget displays, and the static fallback
figures draw the same images.
"""

from __future__ import annotations

import base64
import io
import re

import ipywidgets
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from labutils import VAE, Autoencoder, Generator
from labutils.widgets import (
    DIGIT_SCALE,
    GRID_SCALE,
    GanSampler,
    Interpolator,
    LatentExplorer,
    explorer_fallback,
    interpolation_fallback,
    sampler_fallback,
    to_png,
)

PNG_STEP = 2 / 255 + 1e-6  # a 256-colour map, then an 8-bit PNG pixel: two roundings


@pytest.fixture(autouse=True)
def close_figures():
    """Close the fallback figures each test draws."""
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def test_split(mnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    """300 test images (300, 1, 28, 28) and labels (300,): every digit appears."""
    images, labels = mnist_test[0][:300], mnist_test[1][:300]
    assert set(labels.tolist()) == set(range(10))
    return images, labels


def seeded(model: torch.nn.Module) -> torch.nn.Module:
    """A model with random but repeatable weights (the widgets need no trained model)."""
    torch.manual_seed(0)
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    return model


def shown(widget: ipywidgets.HTML, scale: int) -> tuple[np.ndarray, str]:
    """The greyscale values in [0, 1] (H, W) of the PNG in a widget's <img>, one per
    `scale` x `scale` block, and the image's alt text."""
    data = re.search(r'src="data:image/png;base64,([^"]+)"', widget.value).group(1)
    rgba = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)))  # (H, W, 4)
    alt = re.search(r'alt="([^"]*)"', widget.value).group(1)
    return 1.0 - rgba[::scale, ::scale, 0], alt  # ink is dark: colour map gray_r


def first(labels: torch.Tensor, digit: int) -> int:
    """Index of the first example of `digit`."""
    return int((labels == digit).nonzero()[0])


def test_to_png_draws_grey_ink_dark_on_white_and_scales_pixels():
    pixels = torch.tensor([[0.0, 0.25], [0.5, 1.0]])
    rgba = matplotlib.image.imread(io.BytesIO(to_png(pixels, scale=3)))
    assert rgba.shape == (6, 6, 4)
    assert np.array_equal(rgba[..., 0], rgba[..., 1]) and np.array_equal(rgba[..., 1], rgba[..., 2])
    assert np.allclose(1.0 - rgba[::3, ::3, 0], pixels.numpy(), atol=PNG_STEP)
    assert np.array_equal(rgba[:3, :3], np.broadcast_to(rgba[0, 0], (3, 3, 4)))  # one block


@pytest.mark.parametrize("model_class", [VAE, Autoencoder])
def test_explorer_shows_the_decoding_of_the_slider_point(test_split, model_class):
    model = seeded(model_class(latent_dim=2, hidden=(32,)))
    explorer = LatentExplorer(model, *test_split)
    explorer.sliders[0].value = 1.2
    explorer.sliders[1].value = -0.7
    with torch.no_grad():
        expected = model.decode(torch.tensor([[1.2, -0.7]]))[0, 0]  # (28, 28)
    digit, alt = shown(explorer.digit, DIGIT_SCALE)
    assert np.allclose(digit, expected.numpy(), atol=PNG_STEP)
    assert "(1.20, -0.70)" in alt
    assert torch.allclose(explorer.show(1.2, -0.7)[0], expected)


def test_explorer_marks_the_point_on_the_scatter(test_split):
    explorer = LatentExplorer(seeded(VAE(latent_dim=2, hidden=(32,))), *test_split)
    explorer.sliders[0].value = 2.0
    explorer.sliders[1].value = 2.5  # away from the codes of an untrained model
    scatter, alt = shown(explorer.scatter, 1)
    x, y = explorer.map.axes.transData.transform((2.0, 2.5))  # pixels from the bottom left
    row, column = scatter.shape[0] - int(round(y)), int(round(x))
    assert scatter[row - 2 : row + 3, column - 2 : column + 3].min() > 0.95  # the black cross
    assert "cross at (z₁, z₂) = (2.00, 2.50)" in alt


def test_explorer_needs_a_2d_latent_space(test_split):
    with pytest.raises(ValueError, match="latent_dim=2, not 20"):
        LatentExplorer(VAE(latent_dim=20), *test_split)


def test_interpolator_decodes_the_point_at_t_on_the_line(test_split):
    images, labels = test_split
    model = seeded(VAE(latent_dim=20, hidden=(32,)))
    interpolator = Interpolator(model, images, labels, start_digit=2, end_digit=7)
    interpolator.slider.value = 0.3
    with torch.no_grad():
        mu, _ = model.encode(images[[first(labels, 2), first(labels, 7)]])  # (2, 20)
        expected = model.decode((0.7 * mu[0] + 0.3 * mu[1])[None])[0, 0]  # (28, 28)
    middle, alt = shown(interpolator.pictures[1], DIGIT_SCALE)
    assert np.allclose(middle, expected.numpy(), atol=PNG_STEP)
    assert alt == "The image decoded at t = 0.30 on the way from the 2 to the 7"
    assert torch.allclose(interpolator.show(0.3)[0], expected, atol=1e-6)


def test_interpolator_ends_follow_the_chosen_digits(test_split):
    images, labels = test_split
    model = seeded(Autoencoder(latent_dim=8, hidden=(32,)))
    interpolator = Interpolator(model, images, labels)
    interpolator.choices[0].value = 4
    interpolator.choices[1].value = 9
    start, start_alt = shown(interpolator.pictures[0], DIGIT_SCALE)
    end, _ = shown(interpolator.pictures[2], DIGIT_SCALE)
    assert np.allclose(start, images[first(labels, 4), 0].numpy(), atol=PNG_STEP)
    assert np.allclose(end, images[first(labels, 9), 0].numpy(), atol=PNG_STEP)
    assert start_alt == "The start: a test 4"
    with torch.no_grad():
        at_end = model.decode(model.encode(images[[first(labels, 9)]]))[0]
    assert torch.allclose(interpolator.show(1.0), at_end, atol=1e-6)


def gan() -> Generator:
    """A small seeded generator, left in training mode as during training."""
    torch.manual_seed(0)
    return Generator(nz=8, width=4).train()


def expected_samples(generator: Generator, seed: int, count: int) -> torch.Tensor:
    """What seed `seed` must give: `count` noise vectors drawn on the CPU, generated in eval
    mode."""
    noise = torch.randn(count, generator.nz, generator=torch.Generator().manual_seed(seed))
    generator.eval()
    with torch.no_grad():
        images = generator(noise)  # (count, 1, 28, 28)
    generator.train()
    return images


def test_sampler_shows_the_samples_of_the_seed():
    generator = gan()
    sampler = GanSampler(generator, count=16, nrow=4)
    sampler.slider.value = 5
    expected = expected_samples(generator, 5, 16)
    grid, alt = shown(sampler.grid, GRID_SCALE)
    assert grid.shape == (4 * 30 + 2, 4 * 30 + 2)  # 28-pixel tiles with 2-pixel gaps
    for index in (0, 7, 15):  # tiles row by row, in [-1, 1] shown as [0, 1]
        row, column = divmod(index, 4)
        tile = grid[2 + 30 * row : 30 + 30 * row, 2 + 30 * column : 30 + 30 * column]
        assert np.allclose(tile, (expected[index, 0].numpy() + 1) / 2, atol=PNG_STEP)
    assert alt == "A grid of 16 digits generated from the noise of seed 5"
    assert torch.allclose(sampler.show(5), (expected + 1) / 2, atol=1e-6)  # in [0, 1]


def test_sampler_button_moves_to_the_next_seed():
    sampler = GanSampler(gan(), count=4, nrow=2, seed=41)
    sampler.button.click()
    assert sampler.slider.value == 42
    assert sampler.grid.value == GanSampler(gan(), count=4, nrow=2, seed=42).grid.value


def test_widgets_leave_the_model_as_they_found_it():
    generator = gan()
    running_mean = generator.net[1].running_mean.clone()
    GanSampler(generator, count=8).next_seed()
    assert generator.training  # still in training mode
    assert torch.equal(generator.net[1].running_mean, running_mean)  # BatchNorm not updated


def test_explorer_fallback_draws_the_digit_of_each_slider_position():
    model = seeded(VAE(latent_dim=2, hidden=(32,)))
    fig = explorer_fallback(model, limit=2.0, steps=5)
    picture = fig.axes[0].images[0]
    assert picture.get_extent() == [-2.0, 2.0, -2.0, 2.0]
    grid = picture.get_array()  # (5 * 30 + 2, 5 * 30 + 2)
    with torch.no_grad():
        top_left, bottom_right = model.decode(torch.tensor([[-2.0, 2.0], [2.0, -2.0]]))
    assert np.allclose(grid[2:30, 2:30], top_left[0].numpy(), atol=1e-6)
    assert np.allclose(grid[-30:-2, -30:-2], bottom_right[0].numpy(), atol=1e-6)


def test_interpolation_fallback_runs_from_start_to_end(test_split):
    images, labels = test_split
    model = seeded(VAE(latent_dim=20, hidden=(32,)))
    fig = interpolation_fallback(model, images, labels, start_digit=3, end_digit=8, steps=6)
    strip = fig.axes[0].images[0].get_array()  # (32, 6 * 30 + 2)
    assert strip.shape == (32, 182)
    with torch.no_grad():
        mu, _ = model.encode(images[[first(labels, 3), first(labels, 8)]])
        ends = model.decode(mu)  # (2, 1, 28, 28)
    assert np.allclose(strip[2:30, 2:30], ends[0, 0].numpy(), atol=1e-6)
    assert np.allclose(strip[2:30, -30:-2], ends[1, 0].numpy(), atol=1e-6)


def test_sampler_fallback_shows_one_grid_per_seed():
    generator = gan()
    fig = sampler_fallback(generator, seeds=(3, 4), count=4, nrow=2)
    assert [ax.get_title() for ax in fig.axes] == ["seed 3", "seed 4"]
    for ax, seed in zip(fig.axes, (3, 4), strict=True):
        first_tile = ax.images[0].get_array()[2:30, 2:30]
        expected = (expected_samples(generator, seed, 4)[0, 0] + 1) / 2
        assert np.allclose(first_tile, expected.numpy(), atol=1e-6)
