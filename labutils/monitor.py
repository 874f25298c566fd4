"""Watching a GAN train: warn once, clearly, when a run shows one of the known failure modes.

`fit_dcgan` calls a `GANMonitor` after every epoch with the history so far. It looks at the
per-step values `gan_step` records -- D(x), D(G(z)), both losses -- and at the images the
generator makes from the fixed noise, and warns (a GANHealthWarning, at most once per kind) when
- the discriminator dominates: averaged over `window` steps, D(x) > 0.95 and D(G(z)) < 0.05;
- the generator's samples collapse: after `min_steps` steps, the fixed-noise batch is far less
  varied than a batch of real images (see `variety`);
- a loss diverges: averaged over `window` steps, it is above `divergence_floor` and still rising.
The checks read values already on the host, so monitoring costs no GPU synchronisation.
"""

from __future__ import annotations

import warnings

import torch

FAILURE_MODES = "chapter 3, section 'Failure modes and what to look for'"
DOMINANT = (0.95, 0.05)  # D(x) above, D(G(z)) below: the discriminator has won


class GANHealthWarning(UserWarning):
    """A DCGAN run shows a known failure mode; the message says which and where to read on."""


def diversity(images: torch.Tensor) -> float:
    """Mean Euclidean distance between two different images of a batch (N, 1, 28, 28); 0 if all
    are the same. Real MNIST digits scaled to [-1, 1] are about 19.6 apart."""
    return float(torch.pdist(images.flatten(1).double()).mean())  # over N * (N - 1) / 2 pairs


def variety(images: torch.Tensor) -> float:
    """The share of a batch's pixel variance that comes from images differing from each other.

    0 when every image of the batch (N, 1, 28, 28) is the same, whatever it looks like; about
    0.7 for real MNIST digits. Unlike `diversity`, it is blind to contrast: a young generator's
    faint but varied samples do not count as collapsed.
    """
    pixels = images.flatten(1).double()  # (N, 784)
    between = pixels.var(dim=0).mean()  # each pixel's variance across the batch, averaged
    return float(between / pixels.var().clamp_min(1e-12))  # a uniform batch gives 0


def rolling_mean(values: list[float], window: int) -> torch.Tensor:
    """Means of every `window` consecutive values, (len(values) - window + 1,); empty if fewer."""
    series = torch.tensor(values, dtype=torch.float64)  # (S,)
    if series.numel() < window:
        return series[:0]
    sums = torch.cat([torch.zeros(1, dtype=torch.float64), series.cumsum(0)])  # (S + 1,)
    return (sums[window:] - sums[:-window]) / window  # (S - window + 1,)


class GANMonitor:
    """Called with a `fit` history after each epoch; warns once per failure mode it sees.

    The thresholds are deliberately far from a healthy run's values, so that a warning means
    something: a healthy DCGAN on MNIST keeps D(x) around 0.6-0.9, D(G(z)) around 0.1-0.4 and a
    generator loss of 1-4, and its samples grow more varied as it learns.
    Smaller `window` and `min_steps` make it react sooner (e.g. to demonstrate a failure).
    """

    def __init__(
        self,
        real_images: torch.Tensor,
        *,
        window: int = 100,
        min_steps: int = 500,
        collapse_ratio: float = 0.3,
        divergence_floor: float = 6.0,
    ):
        self.real_variety = variety(real_images[:64] * 2 - 1)  # in the generator's range [-1, 1]
        self.window = window
        self.min_steps = min_steps
        self.collapse_ratio = collapse_ratio
        self.divergence_floor = divergence_floor
        self.warned: set[str] = set()

    def __call__(self, history: dict[str, list]) -> None:
        """Check the run so far; each failure mode is reported at most once per monitor."""
        self.check_dominance(history["step_d_real"], history["step_d_fake"])
        if history.get("test_samples") and len(history["step_d_real"]) >= self.min_steps:
            self.check_collapse(history["test_samples"][-1])
        for name in ("loss_g", "loss_d"):
            self.check_divergence(name, history[f"step_{name}"])

    def warn(self, kind: str, what: str) -> None:
        """Issue the GANHealthWarning for `kind`, unless it was issued already."""
        if kind in self.warned:
            return
        self.warned.add(kind)
        warnings.warn(f"GAN health: {what} See {FAILURE_MODES}.", GANHealthWarning, stacklevel=3)

    def check_dominance(self, d_real: list[float], d_fake: list[float]) -> None:
        """D wins outright for `window` steps: G's gradients vanish and it stops learning."""
        real, fake = rolling_mean(d_real, self.window), rolling_mean(d_fake, self.window)
        hits = ((real > DOMINANT[0]) & (fake < DOMINANT[1])).nonzero()
        if len(hits):
            step = int(hits[0]) + self.window
            self.warn(
                "dominance",
                f"the discriminator dominates: over the {self.window} steps up to step {step}, "
                f"D(x) averaged {real[hits[0]].item():.3f} and D(G(z)) "
                f"{fake[hits[0]].item():.3f}, so the generator gets almost no useful gradient. "
                "Lower the discriminator's learning rate (lr_d) or give it fewer updates.",
            )

    def check_collapse(self, samples: torch.Tensor) -> None:
        """The fixed-noise samples are far more alike than real digits: mode collapse."""
        fake = variety(samples)
        if fake < self.collapse_ratio * self.real_variety:
            self.warn(
                "collapse",
                f"the generator's samples have collapsed: the fixed-noise batch has variety "
                f"{fake:.2f}, real digits {self.real_variety:.2f} (warning below "
                f"{self.collapse_ratio:.0%} of that): the generator makes nearly the same image "
                "whatever the noise.",
            )

    def check_divergence(self, name: str, values: list[float]) -> None:
        """A loss's `window`-step mean is above `divergence_floor` and above the window before."""
        means = rolling_mean(values, self.window)  # (S - window + 1,)
        later, earlier = means[self.window :], means[: -self.window]  # windows `window` apart
        hits = ((later > self.divergence_floor) & (later > earlier)).nonzero()
        if len(hits):
            i = int(hits[0])
            self.warn(
                f"divergence-{name}",
                f"the {name} diverges: averaged over {self.window} steps it climbed from "
                f"{earlier[i].item():.2f} to {later[i].item():.2f} by step {i + 2 * self.window}. "
                "One player has won and the other is no longer learning; lower the learning "
                "rates or restart from an earlier checkpoint.",
            )
