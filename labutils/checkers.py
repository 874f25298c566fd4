"""Self-checks for the exercises: `check_kl_divergence(my_kl_divergence)` and friends.

A checker calls the learner's function on fixed inputs and compares what it returns (or what it
does to a model) with the reference behaviour. When they differ, it computes the usual wrong
answers -- a missing factor 1/2, a swapped label, a forgotten `zero_grad()` -- on the same inputs;
if the learner's result matches one of them, the message names that mistake. Otherwise it says
where the result differs. Messages describe mistakes, never the solution's code.

Every checker prints its message and returns a `CheckResult`, which is truthy when the checks pass
and carries the message in `.message`. `check_on_track(history, run)` compares a training run's
loss curve with the band recorded from the reference solution (see `scripts/record_bands.py`).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

from .losses import discriminator_loss, kl_divergence, reconstruction_bce
from .models import Autoencoder, Discriminator, Generator
from .paths import smoke_mode

SEED = 1234  # every checker draws its fixed inputs (and seeds the learner's randomness) from this
LR = 0.1  # the checkers hand the learner plain SGD, whose update is easy to predict
BANDS_FILE = "reference_bands.json"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: truthy when it passed; `message` is what was printed."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's value: the checker has already printed the message once."""


class Hint(Exception):
    """A check failed; the exception's text is what the learner reads."""


def run_checks(
    exercise: str, function: Callable, checks: Callable[[Callable], None]
) -> CheckResult:
    """Run `checks(function)` with the random generators seeded (and restored afterwards), print
    the outcome and return it. A `Hint` or any error raised by the learner's function is a
    failure."""
    name = f"{getattr(function, '__name__', 'your function')} ({exercise})"
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            checks(function)
    except Hint as hint:
        result = CheckResult(False, f"❌ {name}: {hint}")
    except NotImplementedError:
        result = CheckResult(
            False, f"❌ {name} is not written yet (it raises NotImplementedError)."
        )
    except Exception as error:  # the learner's code may raise anything; report it, don't crash
        result = CheckResult(False, f"❌ {name} raised {type(error).__name__}: {error}")
    else:
        result = CheckResult(True, f"✅ {name} passes all checks.")
    print(result.message)
    return result


def fixed_generator(offset: int = 0) -> torch.Generator:
    """A CPU generator seeded from SEED, so that every run of a checker sees the same inputs."""
    return torch.Generator().manual_seed(SEED + offset)


def require_tensor(value: object, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """`value` if it is a tensor of `shape`, else a Hint saying what it is instead."""
    if not isinstance(value, torch.Tensor):
        raise Hint(f"{what} should be a torch.Tensor of shape {shape}, got {type(value).__name__}.")
    if tuple(value.shape) != shape:
        raise Hint(f"{what} should have shape {shape}, got {tuple(value.shape)}.")
    return value


def require_number(value: object, what: str) -> float:
    """`value` as a float if it is one number (a Python number or a one-element tensor)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise Hint(f"{what} should be a single number (a float), got {type(value).__name__}.")


def require_graph(value: torch.Tensor, what: str) -> None:
    """A result computed from inputs that require gradients must keep its autograd graph."""
    if not value.requires_grad:
        raise Hint(
            f"{what} carries no gradient: compute it with torch operations only (no .item(), "
            ".detach(), .numpy() or torch.no_grad()), so that backward() can reach the model."
        )


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4) -> bool:
    """Same shape and values equal to a relative tolerance (NaN matches NaN), in float64."""
    actual, expected = torch.as_tensor(actual).detach(), torch.as_tensor(expected).detach()
    if actual.shape != expected.shape:
        return False
    scale = expected.abs().nan_to_num().max().item() if expected.numel() else 0.0
    return torch.allclose(
        actual.double().cpu(),
        expected.double(),
        rtol=rtol,
        atol=1e-6 * max(scale, 1.0),
        equal_nan=True,
    )


def difference(actual: torch.Tensor, expected: torch.Tensor, what: str) -> str:
    """Where and by how much `actual` differs from `expected` (same shape)."""
    actual = actual.detach().double().cpu()
    if not torch.isfinite(actual).all():
        return f"{what} contains NaN or infinite values (e.g. the log of a negative number)."
    if actual.dim() == 0:
        return f"{what} is {actual.item():.6g}; the reference gives {expected.item():.6g}."
    gap = (actual - expected.double()).abs()  # same shape as expected
    index = tuple(int(i) for i in torch.unravel_index(gap.argmax(), gap.shape))
    return (
        f"{what} differs from the reference by up to {gap.max().item():.4g}, at index {index}: "
        f"got {actual[index].item():.6g}, expected {expected[index].item():.6g}."
    )


def compare(
    actual: torch.Tensor,
    expected: torch.Tensor,
    mistakes: Sequence[tuple[str, torch.Tensor]],
    what: str,
    rtol: float = 1e-4,
) -> None:
    """Pass if `actual` matches `expected`; else raise the hint of the first mistake it matches,
    or a description of the difference."""
    if close(actual, expected, rtol):
        return
    for hint, wrong in mistakes:
        if close(actual, wrong, rtol):
            raise Hint(hint)
    raise Hint(difference(actual, expected, what))


# --- Chapter 1: autoencoders ----------------------------------------------------------------


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
    """Change of the parameters (P,) of a copy of `model` after one SGD update on `loss_of(copy)`,
    and the loss; `clear=False` keeps the stale gradients, `step=False` skips the update."""
    model = copy.deepcopy(model)
    before = flat_parameters(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    fill_stale_gradients(model)
    if clear:
        optimizer.zero_grad()
    loss = loss_of(model)
    loss.backward()
    if step:
        optimizer.step()
    return flat_parameters(model) - before, float(loss.detach())


def compare_update(
    change: torch.Tensor, expected: torch.Tensor, mistakes: Sequence[tuple[str, torch.Tensor]]
) -> None:
    """Compare a parameter change with the reference update and the updates of known mistakes."""
    compare(change, expected, mistakes, "The change of the weights", rtol=1e-3)


def require_float_loss(value: object, expected: float) -> None:
    """A step function returns its loss as a Python float equal to the reference loss."""
    if isinstance(value, torch.Tensor):
        raise Hint(
            "returns a tensor, not a float: convert the loss with .item(). A float is what the "
            "training loop logs; a tensor would keep the whole computation graph alive."
        )
    value = require_number(value, "The returned loss")
    if not math.isclose(value, expected, rel_tol=1e-4):
        raise Hint(
            f"returns {value:.6g}, but the loss of this batch before the update is "
            f"{expected:.6g}: return the loss you called backward() on."
        )


def update_order_mistakes(
    optimizer: str, expected: torch.Tensor, accumulated: torch.Tensor
) -> list[tuple[str, torch.Tensor]]:
    """The two mistakes every update exercise checks, with `compare_update`'s (hint, change)
    pairs: no `step()` (nothing changes), and no `zero_grad()` (`accumulated`, the update with
    the stale gradients kept)."""
    return [
        (f"the weights did not change: call {optimizer}.step() after backward().", 0 * expected),
        (
            "the update includes gradients left from an earlier step: call "
            f"{optimizer}.zero_grad() before backward(), otherwise gradients accumulate.",
            accumulated,
        ),
    ]


def run_step(step: Callable, model: nn.Module, *args: torch.Tensor) -> tuple[torch.Tensor, object]:
    """Call the learner's `step(model_copy, sgd, *args)` on a copy of `model` with stale gradients;
    return the change of its parameters and what `step` returned."""
    model = copy.deepcopy(model)
    before = flat_parameters(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    fill_stale_gradients(model)
    returned = step(model, optimizer, *args)
    return flat_parameters(model) - before, returned


def check_ae_step(my_ae_step: Callable) -> CheckResult:
    """Exercise 1.1: `my_ae_step(model, optimizer, images) -> float`, one update on the MSE."""
    return run_checks("Exercise 1.1", my_ae_step, ae_step_checks)


def ae_step_checks(my_ae_step: Callable) -> None:
    """Compare the learner's update of a small autoencoder with the reference and its mistakes."""
    model = Autoencoder(latent_dim=3, hidden=(8,))
    images = torch.rand(5, 1, 28, 28, generator=fixed_generator())  # (5, 1, 28, 28)

    def updated(loss: Callable[[torch.Tensor], torch.Tensor], **how: bool) -> torch.Tensor:
        return sgd_update(model, lambda m: loss(m(images)), **how)[0]

    def mse(output: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, images)

    expected, expected_loss = sgd_update(model, lambda m: mse(m(images)))
    change, returned = run_step(my_ae_step, model, images.clone())
    per_image = "MSE summed over the pixels: the loss is the mean over pixels and images."
    compare_update(
        change,
        expected,
        [
            *update_order_mistakes("optimizer", expected, updated(mse, clear=False)),
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
        ],
    )
    require_float_loss(returned, expected_loss)


def check_add_noise(add_noise: Callable) -> CheckResult:
    """Exercise 1.2: `add_noise(images, std, generator=None)`: Gaussian noise, clipped to [0, 1]."""
    return run_checks("Exercise 1.2", add_noise, add_noise_checks)


def add_noise_checks(add_noise: Callable) -> None:
    """Check shape, purity, clipping, the noise's statistics and the use of `generator`."""
    edges = (torch.arange(64 * 784) % 2).float().view(64, 1, 28, 28)  # half 0s, half 1s
    original = edges.clone()
    noisy = require_tensor(add_noise(edges, 0.3), (64, 1, 28, 28), "The noisy images")
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
    generator_checks(add_noise)


def noise_statistics_checks(add_noise: Callable) -> None:
    """On mid-grey images the added noise must be N(0, std^2), clipped where it leaves [0, 1]."""
    grey = torch.full((64, 1, 28, 28), 0.5)  # (64, 1, 28, 28)
    noise = add_noise(grey, 0.1) - grey  # (64, 1, 28, 28)
    spread, centre = noise.std().item(), noise.mean().item()
    if spread == 0:
        raise Hint("no noise was added: the output equals the input.")
    if abs(spread / 0.1 - 1) < 0.03 and abs(centre) < 0.005:
        return
    mistakes = {
        "the noise's standard deviation is std**2 (0.01 for std=0.1): `std` is already the "
        "standard deviation, multiply the standard normal noise by it directly.": 0.01,
        "the noise's standard deviation is sqrt(std) (0.32 for std=0.1): `std` is the standard "
        "deviation, not the variance.": math.sqrt(0.1),
        "the noise has standard deviation 1: multiply the standard normal noise by std.": 1.0,
    }
    for hint, wrong in mistakes.items():
        if abs(spread / clipped_spread(wrong) - 1) < 0.05:
            raise Hint(hint)
    if abs(spread / (0.1 / math.sqrt(12)) - 1) < 0.05:
        raise Hint("the noise is uniform (torch.rand): use Gaussian noise (torch.randn).")
    raise Hint(
        f"for std=0.1 the added noise has mean {centre:.3g} and standard deviation "
        f"{spread:.3g}; expected mean 0 and standard deviation 0.1."
    )


def clipped_spread(std: float) -> float:
    """Standard deviation of Gaussian noise of `std` added to 0.5 and clipped to [0, 1]."""
    noise = std * torch.randn(100_000, generator=fixed_generator(8))  # (100000,)
    return noise.clamp(-0.5, 0.5).std().item()


def generator_checks(add_noise: Callable) -> None:
    """The same seeded generator gives the same noise; different draws differ."""
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


def check_code_gaussian(fit_code_gaussian: Callable) -> CheckResult:
    """Exercise 1.3: `fit_code_gaussian(codes) -> (mean (D,), covariance (D, D))`."""
    return run_checks("Exercise 1.3", fit_code_gaussian, code_gaussian_checks)


def code_gaussian_checks(fit_code_gaussian: Callable) -> None:
    """Compare the fit of correlated codes with the sample mean and covariance."""
    generator = fixed_generator()
    mixing = torch.randn(4, 4, generator=generator)  # (4, 4)
    codes = torch.randn(500, 4, generator=generator) @ mixing + torch.arange(4.0) - 1  # (500, 4)
    fitted = fit_code_gaussian(codes.clone())
    if not isinstance(fitted, tuple) or len(fitted) != 2:
        raise Hint("should return a tuple (mean, covariance).")
    mean, covariance = fitted
    if isinstance(mean, torch.Tensor) and tuple(mean.shape) == (500,):
        raise Hint("the mean has one entry per code (500): average over the examples, dim=0.")
    mean = require_tensor(mean, (4,), "The mean")
    if isinstance(covariance, torch.Tensor) and tuple(covariance.shape) == (500, 500):
        raise Hint(
            "the covariance is 500 x 500, one row per example: the covariance is between the "
            "code's dimensions (torch.cov expects one variable per row, i.e. codes.T)."
        )
    if isinstance(covariance, torch.Tensor) and tuple(covariance.shape) == (4,):
        raise Hint(
            "the covariance is a vector: these are the variances only. Sampling needs the full "
            "(D, D) matrix, whose off-diagonal entries say how the code's dimensions co-vary."
        )
    covariance = require_tensor(covariance, (4, 4), "The covariance")
    compare(mean, codes.mean(dim=0), [], "The mean")
    centred = codes - codes.mean(dim=0)  # (500, 4)
    if close(covariance, centred.T @ centred / 500, rtol=1e-3):
        return  # the maximum-likelihood estimate (divide by N) is as good as the unbiased one
    uncentred = [codes.T @ codes / n for n in (499, 500)]  # (4, 4) each
    hint = "the covariance was computed without subtracting the mean from the codes first."
    compare(covariance, torch.cov(codes.T), [(hint, m) for m in uncentred], "The covariance", 1e-3)


# --- Chapter 2: variational autoencoders ------------------------------------------------------


def check_reparameterize(my_reparameterize: Callable) -> CheckResult:
    """Exercise 2.1: `my_reparameterize(mu, logvar)`, a differentiable sample of N(mu, sigma^2)."""
    return run_checks("Exercise 2.1", my_reparameterize, reparameterize_checks)


def reparameterize_checks(my_reparameterize: Callable) -> None:
    """Draw 20,000 samples of three latent dimensions; check the noise's statistics and that
    gradients reach mu and logvar."""
    count = 20_000
    mu = torch.tensor([0.5, -2.0, 1.0]).repeat(count, 1).requires_grad_()  # (N, 3)
    logvar = torch.tensor([1.0, -1.0, 0.4]).repeat(count, 1).requires_grad_()  # (N, 3)
    z = require_tensor(my_reparameterize(mu, logvar), (count, 3), "z")
    noise = (z - mu).detach()  # (N, 3)
    if noise.abs().max() == 0:
        raise Hint("z equals mu: add the noise sigma * eps, with eps drawn from N(0, 1).")
    if noise.std(dim=0).max() < 1e-6:
        raise Hint(
            "every example got the same noise: draw one eps per entry of mu "
            "(a tensor of mu's shape), not one vector for the whole batch."
        )
    noise_scale_checks(noise, logvar[0].detach())
    gradient_checks(z, mu, logvar)


def noise_scale_checks(noise: torch.Tensor, logvar: torch.Tensor) -> None:
    """The noise z - mu of each latent dimension must have mean 0 and sd sigma = exp(logvar/2)."""
    sigma = torch.exp(0.5 * logvar)  # (3,)
    spread, centre = noise.std(dim=0), noise.mean(dim=0)  # (3,), (3,)
    if torch.allclose(spread, sigma, rtol=0.03) and (centre.abs() < 0.05 * sigma).all():
        return
    mistakes = [
        (
            "logvar is used as sigma: logvar is log(sigma^2), so sigma = exp(logvar / 2).",
            logvar.abs(),
        ),
        (
            "exp(logvar) is used as sigma, but exp(logvar) is the variance sigma^2: "
            "the standard deviation is its square root, exp(logvar / 2).",
            logvar.exp(),
        ),
        ("the noise is not scaled: multiply eps by sigma = exp(logvar / 2).", torch.ones(3)),
        (
            "the noise is not standard normal (torch.rand draws uniformly from [0, 1)): "
            "draw eps with torch.randn / torch.randn_like.",
            sigma / math.sqrt(12),
        ),
    ]
    for hint, wrong in mistakes:
        if torch.allclose(spread, wrong, rtol=0.05):
            raise Hint(hint)
    raise Hint(
        f"z - mu has standard deviations {spread.numpy().round(3).tolist()} and means "
        f"{centre.numpy().round(3).tolist()} over the samples; expected standard deviations "
        f"{sigma.numpy().round(3).tolist()} (sigma = exp(logvar / 2)) and means 0."
    )


def gradient_checks(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> None:
    """dz/dmu is 1 for every entry and the gradient with respect to logvar is non-zero."""
    require_graph(z, "z")
    z.sum().backward()
    if mu.grad is None or not torch.allclose(mu.grad, torch.ones_like(mu)):
        raise Hint(
            "the gradient of z with respect to mu is not 1: write z as mu + sigma * eps, with "
            "eps drawn separately (sampling with torch.normal(mu, sigma) passes no gradient)."
        )
    if logvar.grad is None or logvar.grad.abs().sum() == 0:
        raise Hint(
            "no gradient reaches logvar: compute sigma from logvar with torch operations and "
            "multiply the separately drawn eps by it."
        )


def latent_inputs(count: int = 4, dim: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed mu and logvar (count, dim) of mixed signs, requiring gradients."""
    generator = fixed_generator(3)
    mu = torch.randn(count, dim, generator=generator).requires_grad_()  # (count, dim)
    logvar = (0.8 * torch.randn(count, dim, generator=generator)).requires_grad_()
    return mu, logvar


def check_kl_divergence(my_kl_divergence: Callable) -> CheckResult:
    """Exercise 2.2: `my_kl_divergence(mu, logvar)`, KL(q(z|x) || N(0, I)) per example, (N,)."""
    return run_checks("Exercise 2.2", my_kl_divergence, kl_checks)


def kl_checks(my_kl_divergence: Callable) -> None:
    """Compare with the closed form and the closed form's usual mistakes."""
    mu, logvar = latent_inputs()  # (4, 3) each
    kl = my_kl_divergence(mu, logvar)
    expected = kl_divergence(mu, logvar).detach()  # (4,)
    if isinstance(kl, torch.Tensor) and kl.dim() == 0:
        compare(
            kl,
            expected.sum(),
            [("returns one number for the batch, the average over the examples.", expected.mean())],
            "The batch's KL",
        )
        raise Hint(
            "returns one number, the sum over the batch: return one KL per example, shape (N,) "
            "(the loss averages them later)."
        )
    if isinstance(kl, torch.Tensor) and tuple(kl.shape) == (4, 3):
        raise Hint("returns one value per latent dimension: sum over the latent dimensions.")
    kl = require_tensor(kl, (4,), "The KL divergence")
    lv, mu, sq = logvar.detach(), mu.detach(), mu.detach().pow(2)
    terms = 1 + lv - sq - lv.exp()  # (4, 3)
    as_sigma = "logvar is treated as sigma; it is log(sigma^2): sigma^2 = exp(logvar)."
    compare(
        kl,
        expected,
        [
            ("off by a factor of 2: check the 1/2 in front of the sum.", -terms.sum(1)),
            ("off by a factor of 2: check the 1/2 in front of the sum.", -0.25 * terms.sum(1)),
            ("the sign is flipped: the KL divergence is never negative.", 0.5 * terms.sum(1)),
            (
                "averages over the latent dimensions: the KL of independent dimensions is "
                "their sum.",
                -0.5 * terms.mean(1),
            ),
            (
                "logvar is treated as log(sigma); it is log(sigma^2), so sigma^2 = exp(logvar).",
                -0.5 * (1 + 2 * lv - sq - (2 * lv).exp()).sum(1),
            ),
            (as_sigma, -0.5 * (1 + (lv**2).log() - sq - lv**2).sum(1)),
            (as_sigma, -0.5 * (1 + 2 * lv.log() - sq - lv**2).sum(1)),
            ("the constant 1 inside the sum is missing.", -0.5 * (lv - sq - lv.exp()).sum(1)),
        ],
        "The KL divergence",
    )
    require_graph(kl, "The KL divergence")


def check_beta_vae_loss(my_beta_vae_loss: Callable) -> CheckResult:
    """Exercise 2.3: `my_beta_vae_loss(logits, images, mu, logvar, beta)`, a scalar."""
    return run_checks("Exercise 2.3", my_beta_vae_loss, beta_vae_checks)


def beta_vae_checks(my_beta_vae_loss: Callable) -> None:
    """Compare with BCE summed over pixels + beta * KL, averaged over the batch, for two betas."""
    generator = fixed_generator(4)
    logits = (2 * torch.randn(4, 1, 28, 28, generator=generator)).requires_grad_()
    images = torch.rand(4, 1, 28, 28, generator=generator)  # (4, 1, 28, 28)
    mu, logvar = latent_inputs(4, 5)  # (4, 5) each
    bce = reconstruction_bce(logits, images).detach()  # (4,)
    kl = kl_divergence(mu, logvar).detach()  # (4,)
    loss = my_beta_vae_loss(logits, images, mu, logvar, 4.0)
    if isinstance(loss, torch.Tensor) and tuple(loss.shape) == (4,):
        raise Hint("returns one loss per example: average them over the batch (a scalar).")
    loss = require_tensor(loss, (), "The loss")
    sigmoid_bce = F.binary_cross_entropy_with_logits(torch.sigmoid(logits.detach()), images)
    compare(
        loss,
        bce.mean() + 4 * kl.mean(),
        [
            (
                "beta multiplies the wrong term: it weighs the KL divergence, not the "
                "reconstruction.",
                4 * bce.mean() + kl.mean(),
            ),
            (
                "the reconstruction term is averaged over the pixels: sum it over the 784 "
                "pixels (it is the log-likelihood of the whole image), then average over the "
                "batch.",
                bce.mean() / 784 + 4 * kl.mean(),
            ),
            (
                "summed over the batch: average over the examples, so that the loss does not "
                "grow with the batch size.",
                bce.sum() + 4 * kl.sum(),
            ),
            ("beta is not applied: multiply the KL term by beta.", bce.mean() + kl.mean()),
            ("the KL term is subtracted: the loss adds beta * KL.", bce.mean() - 4 * kl.mean()),
            (
                "a sigmoid is applied before the with-logits cross-entropy: the decoder "
                "outputs logits, which that loss expects as they are.",
                784 * sigmoid_bce + 4 * kl.mean(),
            ),
        ],
        "The loss for beta = 4",
    )
    require_graph(loss, "The loss")
    other = my_beta_vae_loss(logits, images, mu, logvar, 0.5)
    hard_coded = ("beta = 4 is hard-coded: use the `beta` argument.", bce.mean() + 4 * kl.mean())
    compare(other, bce.mean() + 0.5 * kl.mean(), [hard_coded], "The loss for beta = 0.5")


# --- Chapter 3: DCGAN -----------------------------------------------------------------------


def check_discriminator_step(my_discriminator_step: Callable) -> CheckResult:
    """Exercise 3.1: `my_discriminator_step(generator, discriminator, optimizer_d, real, noise)`."""
    return run_checks("Exercise 3.1", my_discriminator_step, discriminator_step_checks)


def discriminator_step_checks(my_discriminator_step: Callable) -> None:
    """Compare the learner's discriminator update with the reference and its usual mistakes."""
    generator, discriminator = Generator(nz=8, width=4).train(), Discriminator(width=4).train()
    real = 2 * torch.rand(6, 1, 28, 28, generator=fixed_generator()) - 1  # (6, 1, 28, 28)
    noise = torch.randn(6, 8, generator=fixed_generator(5))  # (6, 8)
    fake = generator(noise).detach()  # (6, 1, 28, 28), as the learner's generator will make it

    def update(loss_of: Callable[[nn.Module], torch.Tensor], **how: bool) -> torch.Tensor:
        return sgd_update(discriminator, loss_of, **how)[0]

    def standard(d: nn.Module) -> torch.Tensor:
        return discriminator_loss(d(real), d(fake))

    def joint(d: nn.Module) -> torch.Tensor:  # one pass over both halves: also right
        logits = d(torch.cat([real, fake]))  # (12,)
        return discriminator_loss(logits[:6], logits[6:])

    learner_generator = copy.deepcopy(generator)
    change, returned = run_step(
        lambda d, opt, *args: my_discriminator_step(learner_generator, d, opt, *args),
        discriminator,
        real.clone(),
        noise.clone(),
    )
    if any(p.grad is not None and p.grad.abs().sum() > 0 for p in learner_generator.parameters()):
        raise Hint(
            "the generator's weights received gradients: detach the fake images "
            "(fake.detach()) before the discriminator sees them, so that the discriminator's "
            "loss trains only the discriminator."
        )
    expected, expected_loss = sgd_update(discriminator, standard)
    if close(change, update(joint), rtol=1e-3):
        expected, expected_loss = sgd_update(discriminator, joint)
    compare_update(
        change,
        expected,
        [
            *update_order_mistakes("optimizer_d", expected, update(standard, clear=False)),
            (
                "the real and fake labels are swapped: the discriminator should output 1 for "
                "real images and 0 for generated ones.",
                update(lambda d: discriminator_loss(d(fake), d(real))),
            ),
            (
                "the real images are rescaled once more: `real` is already in [-1, 1].",
                update(lambda d: discriminator_loss(d(2 * real - 1), d(fake))),
            ),
        ],
    )
    require_float_loss(returned, expected_loss)


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


def check_smoothed_discriminator_loss(my_smoothed_discriminator_loss: Callable) -> CheckResult:
    """Exercise 3.2: one-sided label smoothing, real targets 1 - smoothing, fake targets 0."""
    return run_checks("Exercise 3.2", my_smoothed_discriminator_loss, smoothing_checks)


def smoothing_checks(my_smoothed_discriminator_loss: Callable) -> None:
    """Compare with the reference for the default smoothing (0.1) and for 0.2."""
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
        (
            "the smoothing argument is ignored: the default 0.1 is used for every call.",
            smoothed_loss(real, fake, 0.9, 0),
        ),
    ]


# --- Chapter 4: comparing the models ----------------------------------------------------------


def check_frechet_distance(my_frechet_distance: Callable) -> CheckResult:
    """Exercise 4.4: `my_frechet_distance(mu1, cov1, mu2, cov2) -> float`."""
    return run_checks("Exercise 4.4", my_frechet_distance, frechet_checks)


def gaussian_pairs() -> dict[str, tuple[torch.Tensor, ...]]:
    """Two test cases, (mu1, cov1, mu2, cov2) in float64: 1-D Gaussians, and 3-D ones whose
    covariances do not commute."""
    generator = fixed_generator(7)
    a, b = (torch.randn(3, 3, generator=generator, dtype=torch.float64) for _ in range(2))
    one_d = (
        torch.tensor([0.5]),
        torch.tensor([[2.0]]),
        torch.tensor([-1.0]),
        torch.tensor([[0.5]]),
    )
    three_d = (
        torch.tensor([1.0, -0.5, 2.0]),
        a @ a.T + torch.eye(3),
        torch.tensor([0.0, 0.5, 1.0]),
        b @ b.T + 0.5 * torch.eye(3),
    )
    return {
        "1-D Gaussians": tuple(t.double() for t in one_d),
        "3-D Gaussians": tuple(t.double() for t in three_d),
    }


def frechet_checks(my_frechet_distance: Callable) -> None:
    """Compare with the reference and its mistakes on 1-D, then on full-covariance Gaussians."""
    from .metrics import sqrtm_psd

    for case, (mu1, cov1, mu2, cov2) in gaussian_pairs().items():
        value = require_number(
            my_frechet_distance(mu1.clone(), cov1.clone(), mu2.clone(), cov2.clone()),
            "The distance",
        )
        mean_term = (mu1 - mu2).pow(2).sum()
        traces = cov1.trace() + cov2.trace()
        root1 = sqrtm_psd(cov1)  # (D, D)
        cross = sqrtm_psd(root1 @ cov2 @ root1).trace()  # tr sqrt(cov1 cov2)
        elementwise = "the square root is taken element by element: tr sqrt(cov1 cov2) needs a "
        elementwise += "matrix square root (e.g. by eigendecomposition)."
        compare(
            torch.tensor(value),
            mean_term + traces - 2 * cross,
            [
                (
                    "the factor 2 in front of the trace of the square root term is missing.",
                    mean_term + traces - cross,
                ),
                (elementwise, mean_term + traces - 2 * (cov1 @ cov2).sqrt().trace()),
                (elementwise, mean_term + traces - 2 * (cov1 * cov2).sqrt().trace()),
                (
                    "sqrt(cov1 cov2) is computed as sqrt(cov1) sqrt(cov2), which holds only "
                    "when the two matrices commute.",
                    mean_term + traces - 2 * (root1 @ sqrtm_psd(cov2)).trace(),
                ),
                (
                    "the mean term is not squared: use the squared distance |mu1 - mu2|^2.",
                    mean_term.sqrt() + traces - 2 * cross,
                ),
                (
                    "this is the square root of the Fréchet distance: the FID is its square.",
                    (mean_term + traces - 2 * cross).sqrt(),
                ),
            ],
            f"The distance between the {case}",
        )


def check_class_entropy(my_class_entropy: Callable) -> CheckResult:
    """Exercise 4.5: `my_class_entropy(predicted_labels) -> float`, in nats."""
    return run_checks("Exercise 4.5", my_class_entropy, entropy_checks)


def entropy_checks(my_class_entropy: Callable) -> None:
    """Uniform labels (entropy log 10), then a skewed histogram where two digits never occur."""
    counts = torch.tensor([30, 10, 0, 5, 5, 0, 20, 10, 10, 10])
    skewed = torch.repeat_interleave(torch.arange(10), counts)  # (100,)
    skewed = skewed[torch.randperm(100, generator=fixed_generator())]
    cases = {
        "ten equally common digits": torch.arange(100) % 10,
        "a histogram where digits 2 and 5 never occur": skewed,
    }
    for case, labels in cases.items():
        value = require_number(my_class_entropy(labels.clone()), "The entropy")
        present = torch.bincount(labels, minlength=10).double()
        present = present[present > 0]  # classes with no image contribute 0 log 0 = 0
        probabilities = present / present.sum()
        entropy = -(probabilities * probabilities.log()).sum()
        nan_hint = (
            "the result is NaN: a digit that is never predicted gives 0 * log(0); its term "
            "should count as 0 (leave out the empty classes)."
        )
        compare(
            torch.tensor(value),
            entropy,
            [
                (
                    "the entropy is in bits (log base 2): use the natural log, for nats.",
                    entropy / math.log(2),
                ),
                (
                    "the logarithm is base 10: use the natural log, for nats.",
                    entropy / math.log(10),
                ),
                (
                    "the counts are not normalised into probabilities: divide by the number of "
                    "labels first.",
                    -(present * present.log()).sum(),
                ),
                ("the sign is flipped: entropy is -sum p log p, never negative.", -entropy),
                (nan_hint, torch.tensor(math.nan)),
            ],
            f"The entropy for {case}",
        )


# The function each exercise asks for, and its checker (the tests run the chapters' solutions).
CHECKERS: dict[str, Callable[[Callable], CheckResult]] = {
    "my_ae_step": check_ae_step,
    "add_noise": check_add_noise,
    "fit_code_gaussian": check_code_gaussian,
    "my_reparameterize": check_reparameterize,
    "my_kl_divergence": check_kl_divergence,
    "my_beta_vae_loss": check_beta_vae_loss,
    "my_discriminator_step": check_discriminator_step,
    "my_smoothed_discriminator_loss": check_smoothed_discriminator_loss,
    "my_frechet_distance": check_frechet_distance,
    "my_class_entropy": check_class_entropy,
}


# --- Am I on track? --------------------------------------------------------------------------


@cache
def reference_bands() -> dict:
    """The loss bands of the reference runs, shipped in the package (scripts/record_bands.py)."""
    return json.loads(resources.files(__package__).joinpath(BANDS_FILE).read_text())


def run_band(run: str, smoke: bool | None = None) -> dict:
    """The recorded band of reference run `run` in smoke or full mode (default: $LABUTILS_SMOKE)."""
    runs = reference_bands()["runs"]
    if run not in runs:
        raise ValueError(f"No reference band for {run!r}; known runs: {', '.join(sorted(runs))}.")
    if smoke is None:
        smoke = smoke_mode()
    mode = "smoke" if smoke else "full"
    if mode not in runs[run]:
        raise ValueError(
            f"No {mode}-mode band for {run!r}: record it with scripts/record_bands.py."
        )
    return runs[run][mode]


def curve_of(history: dict | Sequence[float], metric: str) -> tuple[list[float], list[float]]:
    """Per-epoch and per-step values of `metric` from a `fit` history, or a plain list of
    per-epoch values (then no steps)."""
    if not isinstance(history, dict):
        return [float(v) for v in history], []
    if f"train_{metric}" not in history:
        raise ValueError(
            f"The history has no 'train_{metric}' (it has {', '.join(sorted(history))}): pass the "
            "history that the exercise's training call returned."
        )
    steps = [float(v) for v in history.get(f"step_{metric}", [])]
    return [float(v) for v in history[f"train_{metric}"]], steps


def rising(values: list[float], windows: int = 8) -> bool:
    """Whether the curve ends at least 10% above its lowest point, comparing window means so
    that the noise of single steps does not count."""
    size = max(1, len(values) // windows)
    means = [sum(values[i : i + size]) / size for i in range(0, len(values) - size + 1, size)]
    return len(means) > 1 and means[-1] > 1.1 * min(means)


def check_on_track(
    history: dict | Sequence[float], run: str, smoke: bool | None = None
) -> CheckResult:
    """Compare a training run's loss per epoch with the reference solution's band.

    `history` is what `fit` (or a recipe) returned -- or a list of losses, one per epoch -- and
    `run` names the exercise's run ("denoising-ae", "beta-vae"). Call it after one epoch: the
    verdict is on track, too slow (above the band and falling too slowly), diverging (NaN, or
    above the band and rising) or below the band (usually a loss on another scale).
    """
    band = run_band(run, smoke)
    epochs, steps = curve_of(history, band["metric"])
    result = on_track_verdict(band, epochs, steps)
    print(result.message)
    return result


def on_track_verdict(band: dict, epochs: list[float], steps: list[float]) -> CheckResult:
    """The verdict and its message for a run's per-epoch (and per-step) losses."""
    if not epochs:
        return CheckResult(False, "❌ No completed epoch yet: train for at least one epoch.")
    if not all(math.isfinite(v) for v in epochs + steps):
        return CheckResult(
            False,
            "❌ Diverging: the loss became NaN or infinite. Lower the learning rate, and check "
            "the loss for a log of 0 or a division by 0.",
        )
    if steps and len(steps) != band["steps_per_epoch"] * len(epochs):
        settings = ", ".join(f"{name}={value}" for name, value in band["settings"].items())
        return CheckResult(
            False,
            f"❌ Not comparable: your run took {len(steps) // len(epochs)} steps per epoch, the "
            f"reference run {band['steps_per_epoch']} ({settings}; limit=None means all "
            "60,000 training images). Train with the exercise's settings to compare.",
        )
    epoch = min(len(epochs), len(band["mean"])) - 1
    value, low, high = epochs[epoch], band["low"][epoch], band["high"][epoch]
    where = (
        f"after epoch {epoch + 1} your mean training loss is {value:.4g}; the reference run's "
        f"is {band['mean'][epoch]:.4g} (band {low:.4g} to {high:.4g})"
    )
    if value > high and rising(steps or epochs):
        return CheckResult(
            False,
            f"❌ Diverging: {where}, and the loss is rising. Lower the learning rate, and check "
            "the loss and the update step.",
        )
    if value > high:
        return CheckResult(
            False,
            f"❌ Too slow: {where}. Check the learning rate (too small?) and that every step "
            "updates the weights.",
        )
    if value < low:
        return CheckResult(
            False,
            f"❌ Below the band: {where}. A loss this low usually means another quantity (e.g. a "
            "mean where the reference sums) or other training data.",
        )
    return CheckResult(True, f"✅ On track: {where}.")
