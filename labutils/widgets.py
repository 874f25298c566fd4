"""Interactive widgets for the chapters: a 2-D latent-space explorer, an interpolation slider
between two test digits, and a DCGAN sampler.

Each widget is an ipywidgets box whose `show(...)` method does the work of one slider move and
returns the images it drew, so that tests can drive a widget without a browser. A widget needs a
running Python kernel to answer its sliders (Jupyter, Colab); the static book has none, so each
widget has a fallback figure that shows the same images over the sliders' range. Only widgets
common to ipywidgets 7 (Colab's) and 8 are used. Images are shown as `<img>` tags with alt text in
an HTML widget: `ipywidgets.Image` has no alt text, and ipywidgets 8 cannot draw one that has a
tooltip.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .models import VAE, Autoencoder, Generator, mean_code
from .plots import image_grid, interpolate, latent_scatter, show_images, show_manifold
from .sampling import device_of, evaluating, sample_dcgan

DIGIT_SCALE = 5  # a 28x28 digit is shown as 140x140 screen pixels
GRID_SCALE = 2  # a grid of generated digits is shown at twice its size


def to_png(pixels: torch.Tensor, scale: int = 1) -> bytes:
    """PNG bytes of a greyscale image (H, W) in [0, 1], drawn dark on white like the book's
    figures (colour map `gray_r`), each pixel a `scale` x `scale` block so that it stays sharp."""
    big = pixels.detach().float().cpu().clamp(0, 1)  # (H, W)
    big = big.repeat_interleave(scale, 0).repeat_interleave(scale, 1)  # (H * scale, W * scale)
    buffer = io.BytesIO()
    plt.imsave(buffer, big.numpy(), cmap="gray_r", vmin=0, vmax=1, format="png")
    return buffer.getvalue()


class MarkedFigure:
    """A figure drawn once, then redrawn as PNG with only one marker moved: redrawing a scatter
    of thousands of points for every slider move would take about a second; this takes ms."""

    def __init__(self, fig: Figure):
        """Draw `fig` (closed, so that Jupyter does not show it) and keep it as the background."""
        plt.close(fig)
        self.canvas = FigureCanvasAgg(fig)
        self.axes = fig.axes[0]
        (self.marker,) = self.axes.plot([], [], "X", ms=16, mfc="black", mec="white", mew=2)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self, x: float, y: float) -> bytes:
        """PNG bytes of the figure with the marker at data point (x, y)."""
        self.canvas.restore_region(self.background)
        self.marker.set_data([x], [y])
        self.axes.draw_artist(self.marker)
        buffer = io.BytesIO()
        plt.imsave(buffer, np.asarray(self.canvas.buffer_rgba()), format="png")
        return buffer.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    """An HTML `<img>` that carries PNG bytes inline (no file to serve) and its alt text."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def latent_codes(model: VAE | Autoencoder, images: torch.Tensor) -> torch.Tensor:
    """Codes (N, latent_dim) of images (N, 1, 28, 28): the mean of q(z|x) for a VAE."""
    with evaluating(model):
        return mean_code(model, images.to(device_of(model)))


def decode(model: VAE | Autoencoder, z: torch.Tensor) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1], on the CPU, decoded from latents (N, latent_dim)."""
    with evaluating(model):
        return model.decode(z.to(device_of(model))).cpu()


def first_of_each_digit(labels: torch.Tensor) -> dict[int, int]:
    """The index of the first example of each digit present in `labels` (N,)."""
    firsts: dict[int, int] = {}
    for index, label in enumerate(labels.tolist()):
        firsts.setdefault(label, index)
    return firsts


class LatentExplorer(widgets.VBox):
    """Two sliders choose a point (z1, z2) of a 2-D latent space; the widget shows the digit
    decoded there, and marks the point on the scatter of the test images' codes."""

    def __init__(
        self,
        model: VAE | Autoencoder,
        images: torch.Tensor,
        labels: torch.Tensor,
        limit: float = 3.0,
    ):
        """`images` (N, 1, 28, 28) and `labels` (N,) give the scatter; sliders span +-limit."""
        if model.latent_dim != 2:
            raise ValueError(
                f"LatentExplorer needs a model with latent_dim=2, not {model.latent_dim}."
            )
        sliders = [
            widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.1, description=name)
            for name in ("z₁", "z₂")
        ]
        digit, scatter = widgets.HTML(), widgets.HTML()
        super().__init__([widgets.HBox(sliders), widgets.HBox([digit, scatter])])
        self.autoencoder, self.sliders, self.digit, self.scatter = model, sliders, digit, scatter
        codes = latent_codes(model, images)  # (N, 2)
        fig = latent_scatter(codes, labels, "test images' codes")
        fig.axes[0].set(xlim=(-limit, limit), ylim=(-limit, limit))  # the sliders' range
        self.map = MarkedFigure(fig)
        for slider in sliders:
            slider.continuous_update = False  # redraw when the slider is let go
            slider.observe(lambda _change: self.show(*(s.value for s in self.sliders)), "value")
        self.show(0.0, 0.0)

    def show(self, z1: float, z2: float) -> torch.Tensor:
        """Decode (z1, z2), show the digit and mark the point; return the image (1, 28, 28)."""
        image = decode(self.autoencoder, torch.tensor([[z1, z2]]))[0]  # (1, 28, 28)
        point = f"(z₁, z₂) = ({z1:.2f}, {z2:.2f})"
        self.digit.value = img_tag(to_png(image[0], DIGIT_SCALE), f"The digit decoded at {point}")
        self.scatter.value = img_tag(
            self.map.png(z1, z2), f"The test images' codes coloured by digit, a cross at {point}"
        )
        return image


def explorer_fallback(model: VAE | Autoencoder, limit: float = 3.0, steps: int = 13) -> Figure:
    """The explorer's static stand-in: the digits decoded on a steps x steps grid of slider
    positions (z1, z2) in [-limit, limit]^2, each drawn where its point lies."""
    with evaluating(model):
        fig = show_manifold(model.decode, -limit, limit, steps, device_of(model))
    fig.axes[0].set_title("Decoded digit at each slider position (z₁, z₂)")
    return fig


class Interpolator(widgets.VBox):
    """Choose two digits; the first test image of each is encoded, and a slider t in [0, 1] walks
    the straight line between the two codes, showing the image decoded at each point."""

    def __init__(
        self,
        model: VAE | Autoencoder,
        images: torch.Tensor,
        labels: torch.Tensor,
        start_digit: int = 1,
        end_digit: int = 7,
    ):
        """`images` (N, 1, 28, 28) with `labels` (N,) hold the digits to choose from."""
        self.firsts = first_of_each_digit(labels)
        digits = sorted(self.firsts)
        choices = [
            widgets.Dropdown(options=digits, value=value, description=name)
            for name, value in (("from digit", start_digit), ("to digit", end_digit))
        ]
        slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t")
        pictures = [widgets.HTML() for _ in range(3)]  # start, z(t), end
        super().__init__([widgets.HBox(choices), slider, widgets.HBox(pictures)])
        self.autoencoder, self.images, self.choices = model, images, choices
        self.slider, self.pictures = slider, pictures
        for choice in choices:
            choice.observe(lambda _change: self.choose(*(c.value for c in self.choices)), "value")
        slider.observe(lambda change: self.show(change["new"]), "value")
        self.choose(start_digit, end_digit)

    def choose(self, start_digit: int, end_digit: int) -> None:
        """Take the first test image of each digit as the ends of the line, and redraw."""
        ends = self.images[[self.firsts[start_digit], self.firsts[end_digit]]]  # (2, 1, 28, 28)
        self.ends = latent_codes(self.autoencoder, ends)  # (2, latent_dim)
        self.digits = (start_digit, end_digit)
        for picture, image, (name, digit) in zip(
            self.pictures[::2], ends, (("start", start_digit), ("end", end_digit)), strict=True
        ):
            picture.value = img_tag(to_png(image[0], DIGIT_SCALE), f"The {name}: a test {digit}")
        self.show(self.slider.value)

    def show(self, t: float) -> torch.Tensor:
        """Decode the point (1 - t) z_start + t z_end; show it and return it (1, 28, 28)."""
        z = (1 - t) * self.ends[0] + t * self.ends[1]  # (latent_dim,)
        image = decode(self.autoencoder, z[None])[0]  # (1, 28, 28)
        start, end = self.digits
        alt = f"The image decoded at t = {t:.2f} on the way from the {start} to the {end}"
        self.pictures[1].value = img_tag(to_png(image[0], DIGIT_SCALE), alt)
        return image


def interpolation_fallback(
    model: VAE | Autoencoder,
    images: torch.Tensor,
    labels: torch.Tensor,
    start_digit: int = 1,
    end_digit: int = 7,
    steps: int = 11,
) -> Figure:
    """The interpolator's static stand-in: the images decoded at `steps` evenly spaced values of
    t from 0 to 1 between the first test images of two digits."""
    firsts = first_of_each_digit(labels)
    ends = latent_codes(model, images[[firsts[start_digit], firsts[end_digit]]])  # (2, latent_dim)
    path = decode(model, interpolate(ends[0], ends[1], steps))  # (steps, 1, 28, 28)
    return show_images(path, nrow=steps, title=f"From {start_digit} (t = 0) to {end_digit} (t = 1)")


def gan_samples(generator: Generator, seed: int, count: int) -> torch.Tensor:
    """Images (count, 1, 28, 28) in [0, 1], on the CPU, from the noise that `seed` draws.

    The noise is drawn on the CPU, so that a seed gives the same digits on any device.
    """
    return sample_dcgan(generator, count, torch.Generator().manual_seed(seed)).cpu()


class GanSampler(widgets.VBox):
    """A seed slider and a button: each seed draws a batch of noise that the generator turns
    into a grid of digits; the button moves to the next seed."""

    def __init__(self, generator: Generator, count: int = 36, nrow: int = 6, seed: int = 0):
        """Show `count` samples, `nrow` per row, starting with `seed`."""
        slider = widgets.IntSlider(value=seed, min=0, max=999, description="seed")
        slider.continuous_update = False
        button = widgets.Button(description="New samples")
        grid = widgets.HTML()
        super().__init__([widgets.HBox([slider, button]), grid])
        self.generator, self.count, self.nrow = generator, count, nrow
        self.slider, self.button, self.grid = slider, button, grid
        slider.observe(lambda change: self.show(change["new"]), "value")
        button.on_click(lambda _button: self.next_seed())
        self.show(seed)

    def next_seed(self) -> None:
        """Move the slider to the next seed (its observer draws the new grid)."""
        self.slider.value = (self.slider.value + 1) % (self.slider.max + 1)

    def show(self, seed: int) -> torch.Tensor:
        """Draw and show the samples of `seed`; return them (count, 1, 28, 28) in [0, 1]."""
        samples = gan_samples(self.generator, seed, self.count)
        grid = image_grid(samples, self.nrow)  # (H, W) in [0, 1]
        alt = f"A grid of {self.count} digits generated from the noise of seed {seed}"
        self.grid.value = img_tag(to_png(grid, GRID_SCALE), alt)
        return samples


def sampler_fallback(
    generator: Generator, seeds: tuple[int, ...] = (0, 1, 2), count: int = 36, nrow: int = 6
) -> Figure:
    """The sampler's static stand-in: the grids of the first few seeds, side by side."""
    fig, axes = plt.subplots(1, len(seeds), figsize=(3.2 * len(seeds), 3.5), squeeze=False)
    for ax, seed in zip(axes[0], seeds, strict=True):
        show_images(gan_samples(generator, seed, count), nrow, f"seed {seed}", ax=ax)
    fig.tight_layout()
    return fig
