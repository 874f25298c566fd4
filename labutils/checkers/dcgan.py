"""Checkers of chapter 3 (DCGAN): one discriminator step, and one-sided label smoothing."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import discriminator_loss
from ..models import Discriminator, Generator
from .core import (
    SEED,
    Hint,
    close,
    compare,
    confident,
    exercise,
    fixed_generator,
    require_graph,
    require_number,
    require_stable_with_logits,
    require_tensor,
)
from .updates import (
    StepOutcome,
    compare_update,
    require_trainable,
    run_step,
    sgd_update,
    update_mistakes,
)


@exercise("3.1", "my_discriminator_step")
def check_discriminator_step(my_discriminator_step: Callable) -> None:
    """Exercise 3.1: `my_discriminator_step(generator, discriminator, optimizer_d, real, noise)`
    -> float; compares the update with the reference and its usual mistakes, and checks what the
    step leaves behind: no gradient in the generator, every parameter trainable, training mode."""
    generator, discriminator = Generator(nz=8, width=4).train(), Discriminator(width=4).train()
    real = 2 * torch.rand(6, 1, 28, 28, generator=fixed_generator()) - 1  # (6, 1, 28, 28)
    noise = torch.randn(6, 8, generator=fixed_generator(5))  # (6, 8)
    fake = generator(noise).detach()  # (6, 1, 28, 28), as the learner's generator will make it
    learner_generator = copy.deepcopy(generator)
    eval_fake = copy.deepcopy(generator).eval()(noise).detach()  # (6, 1, 28, 28)

    def update(loss_of: Callable[[nn.Module], torch.Tensor], **how: bool) -> torch.Tensor:
        return sgd_update(discriminator, loss_of, **how)[0]

    def standard(d: nn.Module) -> torch.Tensor:
        return discriminator_loss(d(real), d(fake))

    def joint(d: nn.Module) -> torch.Tensor:  # one pass over both halves: also right
        logits = d(torch.cat([real, fake]))  # (12,)
        return discriminator_loss(logits[:6], logits[6:])

    outcome = run_step(
        lambda d, opt, *args: my_discriminator_step(learner_generator, d, opt, *args),
        discriminator,
        real.clone(),
        noise.clone(),
    )
    require_the_given_noise(my_discriminator_step, generator, discriminator, real, noise, outcome)
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in learner_generator.parameters()):
        raise Hint(
            "the generator's weights received gradients: detach the fake images "
            "(fake.detach()) before the discriminator sees them, so that the discriminator's "
            "loss trains only the discriminator."
        )
    expected, expected_loss = sgd_update(discriminator, standard)
    if close(outcome.change, update(joint), rtol=1e-3):
        expected, expected_loss = sgd_update(discriminator, joint)
    mistakes = [
        *update_mistakes(
            "optimizer_d", discriminator, outcome, expected, update(standard, clear=False)
        ),
        *loss_mistakes(update, real, fake, eval_fake),
        (
            "the loss's sign is flipped: the step should lower the discriminator's "
            "cross-entropy, -log D(x) - log(1 - D(G(z))), not raise it.",
            -expected,
        ),
        (
            "the update is half the reference: the two cross-entropies are averaged; the "
            "discriminator loss is their sum.",
            0.5 * expected,
        ),
    ]
    compare_update(outcome, "optimizer_d", expected, mistakes)
    require_trainable(learner_generator, "generator")
    require_trainable(outcome.model, "discriminator")
    for name, model in (("generator", learner_generator), ("discriminator", outcome.model)):
        if not model.training:
            raise Hint(
                f"the step leaves the {name} in eval mode, so the training that follows would "
                "use BatchNorm's running statistics: both networks must stay in training mode, "
                "as in gan_step (.train())."
            )
    require_float_loss(outcome.returned, expected_loss)


def require_the_given_noise(
    my_discriminator_step: Callable,
    generator: nn.Module,
    discriminator: nn.Module,
    real: torch.Tensor,
    noise: torch.Tensor,
    outcome: StepOutcome,
) -> None:
    """The fakes come from `noise`: the same inputs under another random seed give the same
    update (the reference step draws nothing)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED + 1)
        again = run_step(
            lambda d, opt, *args: my_discriminator_step(copy.deepcopy(generator), d, opt, *args),
            discriminator,
            real.clone(),
            noise.clone(),
        )
    if not torch.allclose(again.change, outcome.change, rtol=1e-5, atol=1e-8):
        raise Hint(
            "two calls with the same `real` and `noise` changed the weights differently: the "
            "step draws noise of its own (torch.randn). Make the fakes from the `noise` argument, "
            "generator(noise)."
        )


def loss_mistakes(
    update: Callable[[Callable[[nn.Module], torch.Tensor]], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    eval_fake: torch.Tensor,
) -> list[tuple[str, torch.Tensor]]:
    """The updates of the usual mistakes in the discriminator's loss, with their hints."""
    return [
        (
            "the real and fake labels are swapped: the discriminator should output 1 for "
            "real images and 0 for generated ones.",
            update(lambda d: discriminator_loss(d(fake), d(real))),
        ),
        (
            "the real images are rescaled once more: `real` is already in [-1, 1].",
            update(lambda d: discriminator_loss(d(2 * real - 1), d(fake))),
        ),
        (
            "the fakes were made with the generator in eval mode, so its BatchNorm used running "
            "statistics: both networks must stay in training mode, as in gan_step.",
            update(lambda d: discriminator_loss(d(real), d(eval_fake))),
        ),
        (
            "the discriminator ran in eval mode, so its BatchNorm used running statistics: both "
            "networks must stay in training mode, as in gan_step (discriminator.train()).",
            update(lambda d: discriminator_loss(d.eval()(real), d(fake))),
        ),
    ]


def require_float_loss(value: object, expected: float) -> None:
    """The step returns its loss as a number (a Python or NumPy float) equal to the reference."""
    if isinstance(value, torch.Tensor):
        raise Hint(
            "returns a tensor, not a number: convert the loss with .item(). A number is what "
            "the exercise asks for; a tensor would keep the whole computation graph alive."
        )
    value = require_number(value, "The returned loss")
    if not math.isclose(value, expected, rel_tol=1e-4):
        raise Hint(
            f"returns {value:.6g}, but the loss of this batch before the update is "
            f"{expected:.6g}: return the loss you called backward() on."
        )


def smoothed_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float, fake_target: float
) -> torch.Tensor:
    """Binary cross-entropy of the real and fake logits against constant targets, summed."""
    real = F.binary_cross_entropy_with_logits(
        real_logits, torch.full_like(real_logits, real_target)
    )
    fake = F.binary_cross_entropy_with_logits(
        fake_logits, torch.full_like(fake_logits, fake_target)
    )
    return real + fake


@exercise("3.2", "my_smoothed_discriminator_loss")
def check_smoothed_discriminator_loss(my_smoothed_discriminator_loss: Callable) -> None:
    """Exercise 3.2: one-sided label smoothing, real targets 1 - smoothing, fake targets 0;
    compared with the reference for the default smoothing (0.1) and for 0.2, then on confident
    logits (|logit| >= 30)."""
    generator = fixed_generator(6)
    real_logits = (torch.randn(8, generator=generator) + 1).requires_grad_()  # (8,)
    fake_logits = (torch.randn(8, generator=generator) - 1).requires_grad_()  # (8,)
    real, fake = real_logits.detach(), fake_logits.detach()
    for s, loss in (
        (0.1, my_smoothed_discriminator_loss(real_logits, fake_logits)),
        (0.2, my_smoothed_discriminator_loss(real_logits, fake_logits, smoothing=0.2)),
    ):
        loss = require_tensor(loss, (), f"The loss for smoothing={s}")
        compare(
            loss,
            smoothed_loss(real, fake, 1 - s, 0),
            smoothing_mistakes(real, fake, s),
            f"The loss for smoothing={s}",
        )
        require_graph(loss, "The loss")
    sure_real, sure_fake = confident(real, generator), confident(fake, generator)  # (8,) each
    require_stable_with_logits(
        my_smoothed_discriminator_loss(sure_real, sure_fake),
        smoothed_loss(sure_real.detach(), sure_fake.detach(), 0.9, 0),
        "The loss for smoothing=0.1",
    )


def smoothing_mistakes(
    real: torch.Tensor, fake: torch.Tensor, s: float
) -> list[tuple[str, torch.Tensor]]:
    """The losses of the usual label-smoothing mistakes, with their hints."""
    reference = smoothed_loss(real, fake, 1 - s, 0)
    return [
        (
            "the fake labels are smoothed too (two-sided smoothing): only the real targets "
            "become 1 - smoothing; the fake targets stay 0, so that D is not rewarded for "
            "calling generated images slightly real.",
            smoothed_loss(real, fake, 1 - s, s),
        ),
        (
            "only the fake labels are smoothed: it is the real targets that become "
            "1 - smoothing, while the fake targets stay 0.",
            smoothed_loss(real, fake, 1, s),
        ),
        (
            "the real target is 1 + smoothing: it should be 1 - smoothing.",
            smoothed_loss(real, fake, 1 + s, 0),
        ),
        (
            "the real target is the smoothing value itself: it should be 1 - smoothing.",
            smoothed_loss(real, fake, s, 0),
        ),
        (
            "no smoothing is applied (real targets are 1) or the `smoothing` argument is ignored.",
            smoothed_loss(real, fake, 1, 0),
        ),
        (
            "the real and fake targets are swapped: real images get 1 - smoothing, fakes 0.",
            smoothed_loss(fake, real, 1 - s, 0),
        ),
        (
            "the two terms are averaged: add them, as in the unsmoothed discriminator loss.",
            reference / 2,
        ),
        ("the sign is flipped: a cross-entropy is never negative.", -reference),
        (
            "the two terms are summed over the batch: average each over the examples, as "
            "binary_cross_entropy_with_logits does by default.",
            reference * len(real),
        ),
        (
            "the smoothing argument is ignored: the default 0.1 is used for every call.",
            smoothed_loss(real, fake, 0.9, 0),
        ),
    ]
