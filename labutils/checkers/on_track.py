"""Am I on track? Compare a training run's loss curve with the band of the reference runs.

The bands (`reference_bands.json`, next to this module) are recorded by `scripts/record_bands.py`
from the reference solution, trained from several seeds with the exercise's settings, in smoke
and in full mode. The verdict agrees with what `fit` reported: a run that `fit` stopped is judged
by its `stopped` entry, before anything else.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from importlib import resources

from ..bands import band_of, compare_to_band
from .core import CheckResult, describe

BANDS_FILE = "reference_bands.json"
# The exercise that trains each reference run, and the variable its cell keeps the history in.
RUN_EXERCISES = {
    "denoising-ae": ("Exercise 1.2", "history_denoiser"),
    "beta-vae": ("Exercise 2.3", "history_beta4"),
}


@cache
def reference_bands() -> dict:
    """The loss bands of the reference runs, shipped in the package (scripts/record_bands.py)."""
    return json.loads(resources.files(__package__).joinpath(BANDS_FILE).read_text())


def run_band(run: str, smoke: bool) -> dict:
    """The recorded band of reference run `run` in smoke or full mode."""
    return band_of(reference_bands()["runs"], run, smoke, "scripts/record_bands.py")


class NotJudged(Exception):
    """The history cannot be judged; the text says why, in one sentence."""


def numbers(values: object, what: str) -> list[float]:
    """`values` as a list of floats, or NotJudged naming what it is instead."""
    if not isinstance(values, (list, tuple)):
        raise NotJudged(f"{what} should be a list of numbers, got {describe(values)}.")
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError, RuntimeError):
        raise NotJudged(f"{what} should hold one number per entry.") from None


def curve_of(history: object, metric: str) -> tuple[list[float], list[float]]:
    """Per-epoch and per-step values of `metric` from a `fit` history, or a plain list of
    per-epoch values (then no steps)."""
    if isinstance(history, (list, tuple)):
        return numbers(history, "The list of per-epoch losses"), []
    if not isinstance(history, dict):
        raise NotJudged(
            f"check_on_track needs the history that fit returned (a dict) or a list of "
            f"per-epoch losses; got {describe(history)}."
        )
    if f"train_{metric}" not in history:
        keys = ", ".join(map(str, history)) or "no keys"
        raise NotJudged(
            f"the history has no 'train_{metric}' (it has {keys}): pass the history that the "
            "exercise's training call returned."
        )
    epochs = numbers(history[f"train_{metric}"], f"history['train_{metric}']")
    return epochs, numbers(history.get(f"step_{metric}", []), f"history['step_{metric}']")


def check_on_track(history: object, run: str, smoke: bool) -> CheckResult:
    """Compare a training run's loss per epoch with the reference solution's band.

    `history` is what `fit` (or a recipe) returned -- or a list of losses, one per epoch --,
    `run` names the exercise's run ("denoising-ae", "beta-vae") and `smoke` says whether the
    notebook runs in smoke mode (its SMOKE parameter). Call it after at least one epoch.
    """
    if not isinstance(run, str):
        raise TypeError(
            f"check_on_track's run must be the name of the exercise's run, a str such as "
            f"'denoising-ae' or 'beta-vae'; got {describe(run)}."
        )
    if not isinstance(smoke, bool):
        raise TypeError(
            f"check_on_track's smoke must be True or False (the notebook's SMOKE); got "
            f"{describe(smoke)}."
        )
    band = run_band(run, smoke)
    try:
        result = on_track_verdict(history, run, band, smoke)
    except NotJudged as reason:
        result = CheckResult(False, f"❌ Cannot judge this run: {reason}")
    print(result.message)
    return result


def on_track_verdict(history: object, run: str, band: dict, smoke: bool) -> CheckResult:
    """The verdict for `history`: stopped, wrong settings, off the band, or on track."""
    if history is None:
        exercise, variable = RUN_EXERCISES.get(run, ("the exercise", "the history"))
        return CheckResult(
            False,
            f"❌ No training history yet: run the training cell of {exercise} first (it "
            f"defines {variable}), then this one.",
        )
    stopped = history.get("stopped") if isinstance(history, dict) else None
    if stopped:
        verdict = stopped_verdict(stopped)
        if verdict is not None:
            return verdict
    epochs, steps = curve_of(history, band["metric"])
    if not epochs:
        return CheckResult(False, "❌ No completed epoch yet: train for at least one epoch.")
    if not all(math.isfinite(v) for v in epochs + steps):
        return CheckResult(
            False,
            "❌ Diverging: the loss became NaN or infinite. Lower the learning rate, and check "
            "the loss for a log of 0 or a division by 0.",
        )
    if stopped:  # interrupted: judge the epochs completed before it
        steps = steps[: band["steps_per_epoch"] * len(epochs)]
    if steps and len(steps) != band["steps_per_epoch"] * len(epochs):
        return CheckResult(
            False,
            f"❌ Not comparable: your run took {len(steps) // len(epochs)} steps per epoch, the "
            f"reference run {band['steps_per_epoch']} ({reference_settings(band)}). Train with "
            "the exercise's settings to compare.",
        )
    wrong_beta = beta_verdict(history, band)
    if wrong_beta is not None:
        return wrong_beta
    result = band_verdict(band, epochs, steps)
    if not result:
        result = CheckResult(
            False, f"{result.message} (The reference: {reference_settings(band)}.)"
        )
    if result and "beta" in band["settings"] and not isinstance(history, dict) and smoke:
        note = (
            " (From a list of losses this check cannot tell beta apart in smoke mode: pass the "
            "history that fit_vae returned to check beta too.)"
        )
        result = CheckResult(True, result.message + note)
    return result


def reference_settings(band: dict) -> str:
    """The reference run's training settings in words (its number of epochs left out: the band
    covers the epochs the learner ran)."""
    settings = band["settings"]
    parts = [
        f"Adam with lr {settings['lr']:g}",
        f"batches of {settings['batch_size']}",
        f"a {settings['latent_dim']}-D latent space",
    ]
    if "noise_std" in settings:
        parts.append(f"fresh noise of std {settings['noise_std']:g} drawn in every step")
    if "beta" in settings:
        parts.append(f"beta = {settings['beta']:g}")
    limit = settings["limit"]
    images = "all 60,000" if limit is None else f"the first {limit:,}"
    return f"{', '.join(parts)}, on {images} training images"


def stopped_verdict(stopped: object) -> CheckResult | None:
    """What `fit`'s `stopped` entry says: a diverged run, or an interruption (None: judge the
    epochs completed before it)."""
    message = stopped[0] if isinstance(stopped, (list, tuple)) and stopped else stopped
    message = str(message)
    if message.startswith("Non-finite"):
        where = re.search(
            r"at epoch (\d+), (step \d+|in the evaluation after it|after its last step)", message
        )
        at = f" at epoch {where.group(1)}, {where.group(2).split(' of ')[0]}" if where else ""
        return CheckResult(
            False,
            f"❌ Diverged{at}: the loss became NaN or infinite and fit stopped the run "
            f"({message}). Lower the learning rate?",
        )
    return None


def beta_verdict(history: object, band: dict) -> CheckResult | None:
    """For a beta-VAE run: the beta implied by fit's history, total = reconstruction + beta * KL,
    if it is not the exercise's."""
    beta = band["settings"].get("beta")
    if beta is None or not isinstance(history, dict):
        return None
    try:
        total, reconstruction, kl = (
            numbers(history[f"train_{name}"], name)[-1]
            for name in ("total", "reconstruction", "kl")
        )
    except (KeyError, IndexError, NotJudged):
        return None
    if kl <= 0:
        return None
    used = (total - reconstruction) / kl
    if abs(used - beta) <= 0.02 * beta:
        return None
    return CheckResult(
        False,
        f"❌ Wrong beta: your run's losses give beta = {used:.3g} (total = reconstruction + "
        f"beta x KL); the exercise trains with beta = {beta:g}.",
    )


def band_verdict(band: dict, epochs: list[float], steps: list[float]) -> CheckResult:
    """The verdict on the loss of the last epoch the band covers, and the shape of the curve."""
    found = compare_to_band(band, epochs, steps)
    where = found.where()
    if found.kind == "on track":
        return CheckResult(True, f"✅ On track: {where}.")
    if found.kind == "scale":
        return CheckResult(
            False,
            f"❌ Another scale: {where}, about {found.factor:.4g} times the reference. Is the "
            f"loss {found.meaning}?",
        )
    if found.kind == "rising":
        return CheckResult(
            False,
            f"❌ Diverging: {where}, and the loss is rising. Lower the learning rate, and check "
            "the loss and the update step.",
        )
    if found.kind == "jumped":
        return CheckResult(
            False,
            f"❌ Unstable: {where}; the loss {found.shape}. The learning rate is probably too "
            "large.",
        )
    if found.kind == "stalled":
        return CheckResult(
            False,
            f"❌ Stalled: {where}. The loss fell at once in the first steps, then stopped "
            "falling: typical of a learning rate that is too large (the model settles on an "
            "average image).",
        )
    if found.kind == "slow":
        return CheckResult(
            False,
            f"❌ Too slow: {where}, and the loss falls slowly. Check the learning rate (too "
            "small?) and that every step updates the weights.",
        )
    return CheckResult(
        False,
        f"❌ Below the band: {where}. Your loss fell lower or faster than the reference run's: "
        "with another learning rate, another loss (e.g. a mean where the reference sums) or "
        "other training data. Train with the exercise's settings to compare.",
    )
