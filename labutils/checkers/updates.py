"""Update steps (Exercises 1.1 and 3.1): run the learner's step on a copy of a model with plain
SGD and stale gradients, and compare the change of the weights with the reference update and the
updates that the usual mistakes in the order zero_grad -> backward -> step produce."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .core import Hint, compare, fixed_generator

LR = 0.1  # the checkers hand the learner plain SGD, whose update is easy to predict


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All parameters of `model` in one detached vector, for comparing updates."""
    return torch.cat([p.detach().flatten() for p in model.parameters()])  # (P,)


def fill_stale_gradients(model: nn.Module) -> None:
    """Leave gradients from an imaginary earlier step in `model`: a step that does not clear them
    first adds them to its own, which shows in its update."""
    generator = fixed_generator(1)
    for p in model.parameters():
        stale = 0.1 * torch.randn(p.shape, generator=generator)
        p.grad = torch.empty_like(p).copy_(stale)  # in p's memory layout, as backward makes it


def sgd_update(
    model: nn.Module,
    loss_of: Callable[[nn.Module], torch.Tensor],
    clear: bool = True,
    step: bool = True,
) -> tuple[torch.Tensor, float]:
    """Change of the parameters (P,) of a copy of `model` after one SGD update on
    `loss_of(copy)`, and the loss; `clear=False` keeps the stale gradients, `step=False` skips
    the update."""
    model = copy.deepcopy(model)
    before = flat_parameters(model)
    updater = torch.optim.SGD(model.parameters(), lr=LR)
    fill_stale_gradients(model)
    if clear:
        updater.zero_grad()
    loss = loss_of(model)
    loss.backward()
    if step:
        updater.step()
    return flat_parameters(model) - before, float(loss.detach())


def stale_only_update(model: nn.Module) -> torch.Tensor:
    """The change that `step()` before `backward()` makes: an SGD step on the stale gradients."""
    model = copy.deepcopy(model)
    before = flat_parameters(model)
    fill_stale_gradients(model)
    torch.optim.SGD(model.parameters(), lr=LR).step()
    return flat_parameters(model) - before


class CountingSGD(torch.optim.SGD):
    """The SGD handed to the learner's step, counting its `step()` calls: a step that changes
    the weights without them ignored the optimizer it was given."""

    def __init__(self, params: object, lr: float):
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure: Callable | None = None) -> object:
        self.steps += 1
        return super().step(closure)


@dataclass
class StepOutcome:
    """What the learner's step did to a model copy: the change of its weights, what it returned,
    whether gradients were left in `.grad` afterwards, the model itself (to inspect its state),
    and how many times it called the given optimizer's step()."""

    change: torch.Tensor
    returned: object
    gradients_left: bool
    model: nn.Module
    optimizer_steps: int


def run_step(step: Callable, model: nn.Module, *args: torch.Tensor) -> StepOutcome:
    """Call the learner's `step(model_copy, sgd, *args)` on a copy of `model` with stale
    gradients."""
    model = copy.deepcopy(model)
    before = flat_parameters(model)
    optimizer = CountingSGD(model.parameters(), lr=LR)
    fill_stale_gradients(model)
    returned = step(model, optimizer, *args)
    left = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())
    return StepOutcome(flat_parameters(model) - before, returned, left, model, optimizer.steps)


def require_given_optimizer(outcome: StepOutcome, optimizer: str) -> None:
    """The weights may change only through the optimizer the step was given."""
    if outcome.optimizer_steps == 0 and bool(outcome.change.abs().sum() > 0):
        raise Hint(
            f"the weights changed, but {optimizer}.step() was never called: the step creates its "
            f"own optimizer or updates the weights by hand. Use the `{optimizer}` argument, which "
            "keeps its state (e.g. Adam's moment estimates) from step to step."
        )


def update_mistakes(
    optimizer: str,
    model: nn.Module,
    outcome: StepOutcome,
    expected: torch.Tensor,
    accumulated: torch.Tensor,
) -> list[tuple[str, torch.Tensor]]:
    """The order mistakes every update exercise checks, as (hint, change) pairs for
    `compare_update`. Mistakes with the same change are told apart by the gradients the step
    leaves behind."""
    if outcome.gradients_left:
        nothing = f"the weights did not change: call {optimizer}.step() after backward()."
        stale = (
            "the update includes gradients left from an earlier step: call "
            f"{optimizer}.zero_grad() before backward(), otherwise gradients accumulate."
        )
    else:
        nothing = (
            f"the weights did not change: {optimizer}.zero_grad() runs between backward() and "
            "step(), so step() finds no gradients. Clear them before backward() instead."
        )
        stale = (
            f"{optimizer}.zero_grad() runs only after step(): the gradients left from an earlier "
            "step are added to this update. Call it before backward()."
        )
    return [
        (nothing, 0 * expected),
        (stale, accumulated),
        (
            f"{optimizer}.step() runs before backward(): the update uses the gradients of an "
            "earlier step, not of this batch's loss.",
            stale_only_update(model),
        ),
    ]


def compare_update(
    outcome: StepOutcome,
    optimizer: str,
    expected: torch.Tensor,
    mistakes: Sequence[tuple[str, torch.Tensor]],
) -> None:
    """Compare a parameter change with the reference update and the updates of known mistakes,
    after making sure the change came from the given optimizer."""
    require_given_optimizer(outcome, optimizer)
    compare(outcome.change, expected, mistakes, "The change of the weights", rtol=1e-3)


def require_trainable(model: nn.Module, name: str) -> None:
    """A step must leave every parameter of `model` trainable, as it found them."""
    if not all(p.requires_grad for p in model.parameters()):
        raise Hint(
            f"the {name}'s parameters are left with requires_grad=False: the next step that "
            f"should train the {name} would not. Detach the fake images instead (or restore "
            "requires_grad_(True) before returning)."
        )
