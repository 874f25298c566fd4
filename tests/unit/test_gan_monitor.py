"""The GAN health monitor: each failure mode, provoked, gives one clear warning; health gives none.

The provoked runs use a small monitor window (24 steps) so that tiny models show each failure
within a few dozen steps; the synthetic histories test the rules at the default settings.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from labutils import Discriminator, Generator, fit_dcgan, seed_everything
from labutils.monitor import FAILURE_MODES, GANHealthWarning, GANMonitor, diversity, variety

WINDOW = 24


def health_warnings(run) -> list[str]:
    """The GANHealthWarning messages that `run()` issues."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, GANHealthWarning)]


def train_tiny_gan(images, *, lr_d=2e-4, epochs=5, constant=False, frozen=False) -> list[str]:
    """Train a width-8 DCGAN (16 steps of 16 images per epoch); return its health warnings."""
    seed_everything(0)
    generator, discriminator = Generator(nz=16, width=8), Discriminator(width=8)
    if constant:  # the last layer's weights at 0: every noise vector gives tanh(bias)
        with torch.no_grad():
            generator.net[-2].weight.zero_()
        generator.net[-2].weight.requires_grad_(False)
    if frozen:  # a generator that never learns: every gradient it receives is replaced by zeros
        for parameter in generator.parameters():
            parameter.register_hook(torch.zeros_like)
    monitor = GANMonitor(images, window=WINDOW, min_steps=WINDOW)
    return health_warnings(
        lambda: fit_dcgan(
            generator,
            discriminator,
            images[:256],
            epochs=epochs,
            batch_size=16,
            fixed_noise=torch.randn(64, 16),
            lr=2e-4,
            lr_d=lr_d,
            monitor=monitor,
        )  # fmt: skip
    )


@pytest.fixture(scope="module")
def images(mnist_test) -> torch.Tensor:
    return mnist_test[0][:256]


def test_a_ten_times_faster_discriminator_is_reported_as_dominating(images):
    messages = train_tiny_gan(images, lr_d=2e-3)
    dominance = [m for m in messages if "the discriminator dominates" in m]
    assert len(dominance) == 1
    assert "D(x) averaged 0.9" in dominance[0] and FAILURE_MODES in dominance[0]


def test_a_generator_with_constant_output_is_reported_as_collapsed(images):
    messages = train_tiny_gan(images, epochs=2, constant=True)
    collapse = [m for m in messages if "samples have collapsed" in m]
    assert len(collapse) == 1
    assert "variety 0.00" in collapse[0] and FAILURE_MODES in collapse[0]


def test_a_generator_that_stops_learning_is_reported_as_diverging(images):
    messages = train_tiny_gan(images, lr_d=2e-3, frozen=True)
    assert any(m.startswith("GAN health: the loss_g diverges") for m in messages)


def test_a_healthy_run_gives_no_warning(images):
    assert train_tiny_gan(images, epochs=3) == []


def synthetic_history(steps: int, **series) -> dict:
    """A fit history of `steps` steps: healthy values unless `series` overrides them."""
    noise = torch.Generator().manual_seed(0)

    def around(value: float) -> list[float]:
        return (value + 0.05 * torch.randn(steps, generator=noise)).tolist()

    history = {
        "step_d_real": around(0.8),
        "step_d_fake": around(0.3),
        "step_loss_g": around(1.5),
        "step_loss_d": around(0.9),
    }
    return history | series


def test_the_default_monitor_is_quiet_on_healthy_values(mnist_test):
    history = synthetic_history(1000, test_samples=[mnist_test[0][64:128] * 2 - 1])
    assert health_warnings(lambda: GANMonitor(mnist_test[0])(history)) == []


def test_each_failure_is_reported_once_per_run(mnist_test):
    monitor = GANMonitor(mnist_test[0])
    history = synthetic_history(600, step_d_real=[0.99] * 600, step_d_fake=[0.01] * 600)
    first = health_warnings(lambda: monitor(history))
    again = health_warnings(lambda: monitor(history))
    assert len(first) == 1 and "over the 100 steps up to step 100" in first[0]
    assert again == []


def test_collapse_is_judged_only_after_min_steps(mnist_test):
    same = [mnist_test[0][:1].expand(64, 1, 28, 28) * 2 - 1]  # 64 copies of one digit
    assert (
        health_warnings(
            lambda: GANMonitor(mnist_test[0])(synthetic_history(499, test_samples=same))
        )
        == []
    )
    messages = health_warnings(
        lambda: GANMonitor(mnist_test[0])(synthetic_history(500, test_samples=same))
    )
    assert len(messages) == 1 and "collapsed" in messages[0]


def test_a_rising_loss_above_the_floor_diverges_a_high_flat_one_does_not(mnist_test):
    rising = torch.linspace(1.0, 12.0, 400).tolist()
    flat = [7.0] * 400
    messages = health_warnings(
        lambda: GANMonitor(mnist_test[0])(synthetic_history(400, step_loss_d=rising))
    )
    assert len(messages) == 1 and "the loss_d diverges" in messages[0]
    assert (
        health_warnings(lambda: GANMonitor(mnist_test[0])(synthetic_history(400, step_loss_g=flat)))
        == []
    )


def test_variety_is_zero_for_copies_and_high_for_real_digits(mnist_test):
    digits = mnist_test[0][:64] * 2 - 1
    assert variety(digits[:1].expand(64, 1, 28, 28)) == 0
    assert variety(torch.zeros(8, 1, 28, 28)) == 0  # a uniform batch, no division by zero
    assert 0.6 < variety(digits) < 0.8
    assert variety(digits * 0.01) == pytest.approx(variety(digits))  # blind to contrast


def test_diversity_is_the_mean_distance_between_two_images():
    images = torch.zeros(3, 1, 28, 28)
    images[1, 0, 0, :3] = 1.0  # distance sqrt(3) from image 0
    images[2, 0, 0, :4] = 1.0  # distance 2 from image 0, 1 from image 1
    expected = (3**0.5 + 2 + 1) / 3
    assert diversity(images) == pytest.approx(expected)
