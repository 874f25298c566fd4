"""The training doctor: `diagnose(history, model)` names what went wrong in a run, with evidence.

It reads the history that `fit` (or a recipe) returned and, when given, the trained model, and
checks for the failures that generative models are known for, most basic first: inputs outside
[0, 1], a NaN or infinite loss, a negative KL, a KL and a reconstruction on different scales, a
loss that does not fall, a discriminator that overpowers its generator, oscillation and
divergence, a learning rate off the chapter's reference band, mode collapse (the digits of 1,000
samples, read by the course's classifier) and posterior collapse (the KL of each latent
dimension). The verdict is the first failure found, or "healthy"; each comes with the numbers it
rests on and the section of the book that explains it. `print(diagnosis)` writes one paragraph.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .bands import compare_to_band, course_band, curve_shape
from .classifier import MnistClassifier, classifier_outputs, load_classifier
from .losses import kl_divergence
from .metrics import Coverage, coverage_from_probabilities
from .models import VAE, Autoencoder, ConvVAE, Generator
from .monitor import variety
from .sampling import sample_dcgan

# The kind of model each of the chapters' runs trains, and the metric its band is drawn for.
RUN_KIND = {"ae": "autoencoder", "vae": "VAE", "dcgan": "GAN"}
MAIN_METRIC = {"ae": "loss", "vae": "total", "dcgan": "loss_d"}
KIND_METRIC = {RUN_KIND[run]: metric for run, metric in MAIN_METRIC.items()}

HEALTHY = "healthy"
GALLERY = "the failure gallery (appendix), section"
# Each verdict and where the book explains it.
SECTIONS = {
    HEALTHY: "the failure gallery (appendix) shows what each failure looks like instead",
    "inputs out of range": (
        f'chapter 1, "Training" (pixels in [0, 1]); {GALLERY} "Inputs in the wrong range"'
    ),
    "NaN or inf loss": f'{GALLERY} "A loss that becomes NaN"',
    "negative KL": f'chapter 2, "The KL term in closed form"; {GALLERY} "A negative KL"',
    "KL and reconstruction on different scales": (
        f'chapter 2, "The library\'s VAE and its loss"; {GALLERY} "A KL on the wrong scale"'
    ),
    "not learning": f'chapter 1, "Training"; {GALLERY} "An autoencoder that does not learn"',
    "discriminator overpowers the generator": (
        f'chapter 3, "Failure modes and what to look for"; {GALLERY} "A discriminator that wins"'
    ),
    "oscillation": (
        f'chapter 3, "Failure modes and what to look for"; {GALLERY} "Oscillation and divergence"'
    ),
    "divergence": f'{GALLERY} "Oscillation and divergence"',
    "learning rate too high": f'{GALLERY} "A learning rate too high"',
    "learning rate too low": f'{GALLERY} "A learning rate too low"',
    "off the reference band": f'{GALLERY} "A learning rate too high" and "A learning rate too low"',
    "mode collapse": (
        f'chapter 3, "Failure modes and what to look for"; chapter 4, "Measuring"; '
        f'{GALLERY} "Mode collapse"'
    ),
    "posterior collapse": (
        f'chapter 2, Exercise 2.3 (what beta does); {GALLERY} "Posterior collapse"'
    ),
}
SAMPLES = 1_000  # generated images the classifier reads for mode collapse
DEAD_DIMENSION = 0.01  # nats: a latent dimension with a smaller mean KL carries no information
FLAT = 0.02  # a loss that fell by less than 2% from its first window to its last does not learn
DOMINANT = (0.95, 0.05, 0.1)  # D(x) above, D(G(z)) below, loss_d below: the discriminator won
MIN_GAN_STEPS = 40  # fewer steps say nothing yet about a GAN's dynamics
OSCILLATING = 0.3  # a G loss that jumps by more than 30% of itself from step to step
COLLAPSED = 1.5  # nats of class entropy: 4 or 5 equally common digits
COPIES = 0.3  # samples with less `variety` are near copies of each other (real digits: about 0.7)


class Finding(NamedTuple):
    """One failure the doctor found: its name and the numbers that show it."""

    name: str
    evidence: str


@dataclass(frozen=True)
class Diagnosis:
    """The doctor's verdict on a run: "healthy" or the first failure found, with its evidence and
    the section of the book that explains it; `findings` lists every failure found."""

    verdict: str
    evidence: tuple[str, ...]
    section: str
    findings: tuple[Finding, ...] = ()

    @property
    def healthy(self) -> bool:
        """True when no failure was found."""
        return self.verdict == HEALTHY

    def __str__(self) -> str:
        others = [f.name for f in self.findings[1:]]
        also = f" Also found: {', '.join(others)}." if others else ""
        mark = "✅" if self.healthy else "❌"
        return (
            f"{mark} Diagnosis: {self.verdict}. {' '.join(self.evidence)}{also} "
            f"Read more: {self.section}."
        )


def diagnose(
    history: object,
    model: nn.Module | None = None,
    *,
    reference: str | None = None,
    smoke: bool = False,
    images: torch.Tensor | None = None,
    classifier: MnistClassifier | None = None,
    seed: int = 0,
) -> Diagnosis:
    """Diagnose a training run from its `fit` history and, when given, its trained `model`.

    `reference` names the chapter's run it repeats ("ae", "vae" or "dcgan"): the curve is then
    compared with that run's band from several seeds, in smoke or full mode (`smoke`). `images`
    are the run's inputs (N, 1, 28, 28): their range is checked, and a VAE's latent dimensions are
    measured on them. A GAN's generator is judged on 1,000 samples (drawn from `seed`) read by
    `classifier` (default: the course's). Raises TypeError or ValueError, saying what to pass, for
    a history that cannot be diagnosed.
    """
    kind = history_kind(history)
    check_model(kind, model)
    band = reference_band(kind, reference, smoke)
    checks = [
        range_finding(kind, history, images),
        negative_kl_finding(history) if kind == "VAE" else None,
        nonfinite_finding(history),
    ]
    if not any(checks):
        checks += curve_findings(kind, history, model, images, band)
    if not any(checks) and model is not None:
        checks.append(model_finding(kind, model, images, classifier, seed))
    findings = tuple(f for f in checks if f is not None)
    if findings:
        first = findings[0]
        return Diagnosis(first.name, (first.evidence,), SECTIONS[first.name], findings)
    return Diagnosis(
        HEALTHY,
        healthy_evidence(kind, history, model, images, band, classifier, seed),
        SECTIONS[HEALTHY],
    )


def history_kind(history: object) -> str:
    """The kind of model that trained `history` ("autoencoder", "VAE" or "GAN"), read from the
    metrics it records; one clear error for anything that is not such a `fit` history."""
    if not isinstance(history, dict):
        raise TypeError(
            f"diagnose needs the history that fit (or fit_autoencoder, fit_vae, fit_dcgan) "
            f"returned, a dict; got {type(history).__name__}."
        )
    steps = [key for key in history if key.startswith(("train_", "step_"))]
    if not steps or not any(history[key] for key in steps):
        raise ValueError(
            "The history is empty (no train_* or step_* values): train for at least a few steps, "
            "then pass the history that the training call returned."
        )
    names = {key.split("_", 1)[1] for key in steps}
    if {"loss_d", "loss_g", "d_real", "d_fake"} <= names:
        return "GAN"
    if {"total", "reconstruction", "kl"} <= names:
        return "VAE"
    if names == {"loss"}:
        return "autoencoder"
    raise ValueError(
        f"diagnose knows the histories of autoencoders (loss), VAEs (total, reconstruction, kl) "
        f"and GANs (loss_d, loss_g, d_real, d_fake); this one records {', '.join(sorted(names))}: "
        "another kind of model."
    )


def check_model(kind: str, model: object) -> None:
    """The model must be of the history's kind (the GAN's generator for a GAN)."""
    if model is None:
        return
    expected = {"autoencoder": (Autoencoder,), "VAE": (VAE, ConvVAE), "GAN": (Generator,)}[kind]
    if not isinstance(model, expected):
        raise ValueError(
            f"The history is {a(kind)}'s, but the model is "
            f"{type(model).__name__}: pass the {'generator' if kind == 'GAN' else 'model'} that "
            "this history trained."
        )


def reference_band(kind: str, reference: str | None, smoke: bool) -> dict | None:
    """The band of the chapter's run `reference`, which must train the history's kind of model."""
    if reference is None:
        return None
    if reference in RUN_KIND and RUN_KIND[reference] != kind:
        raise ValueError(
            f"The history is {a(kind)}'s, but the reference run {reference!r} trains "
            f"{a(RUN_KIND[reference])}: pass the reference of the run this history repeats."
        )
    return course_band(reference, smoke)


def a(kind: str) -> str:
    """`kind` with its indefinite article: "an autoencoder", "a VAE"."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def values(history: dict, key: str) -> list[float]:
    """history[key] as floats (empty if absent)."""
    return [float(v) for v in history.get(key, [])]


def curve(history: dict, metric: str) -> list[float]:
    """The per-step values of `metric`, or its per-epoch values when no steps were recorded."""
    return values(history, f"step_{metric}") or values(history, f"train_{metric}")


def window_means(series: list[float], parts: int = 8) -> list[float]:
    """Means of `parts` consecutive windows of `series` (fewer if it is short)."""
    size = max(1, len(series) // parts)
    return [sum(series[i : i + size]) / size for i in range(0, len(series) - size + 1, size)]


def range_finding(kind: str, history: dict, images: torch.Tensor | None) -> Finding | None:
    """Inputs outside [0, 1]: seen in the images themselves, or in a loss that [0, 1] data cannot
    give (an autoencoder's squared error per pixel above 1, a negative Bernoulli cross-entropy)."""
    name = "inputs out of range"
    if images is not None:
        low, high = float(images.min()), float(images.max())
        if high > 1.5:
            return Finding(
                name, f"The input pixels go up to {high:.4g}: divide by 255 to get [0, 1]."
            )
        if low < -0.01:
            return Finding(
                name,
                f"The input pixels go down to {low:.3g}, the generator's [-1, 1] range; the "
                "models and losses expect [0, 1]: use (x + 1) / 2.",
            )
    if kind == "autoencoder":
        losses = [v for v in curve(history, "loss") if math.isfinite(v)]
        if losses and min(losses) > 1.0:
            return Finding(
                name,
                f"The loss per pixel never went below {min(losses):.4g}; with pixels and outputs "
                "in [0, 1] a squared error per pixel cannot exceed 1: the inputs are probably in "
                "[0, 255] or [-1, 1].",
            )
    if kind == "VAE":
        reconstruction = [v for v in curve(history, "reconstruction") if math.isfinite(v)]
        if reconstruction and min(reconstruction) < -1e-3:
            return Finding(
                name,
                f"The reconstruction term went down to {min(reconstruction):.4g}; a Bernoulli "
                "cross-entropy of targets in [0, 1] is never negative: the inputs are outside "
                "[0, 1] (in [0, 255] or [-1, 1]?).",
            )
    return None


def nonfinite_finding(history: dict) -> Finding | None:
    """A NaN or infinite value in the losses, or a run that `fit` stopped for one."""
    stopped = history.get("stopped")
    message = str(stopped[0] if isinstance(stopped, list) and stopped else stopped or "")
    for key, series in history.items():
        if key.startswith(("train_", "step_", "test_")) and isinstance(series, list):
            bad = [i for i, v in enumerate(series) if isinstance(v, float) and not math.isfinite(v)]
            if bad:
                where = "step" if key.startswith("step_") else "epoch"
                return Finding(
                    "NaN or inf loss",
                    f"{key} is {series[bad[0]]} at {where} {bad[0] + 1}. Lower the learning rate, "
                    "and look for a log of 0 or a division by 0 in the loss.",
                )
    if message.startswith("Non-finite"):
        return Finding(
            "NaN or inf loss",
            f"fit stopped the run: {message} Lower the learning rate, and look for a log of 0 or a "
            "division by 0 in the loss.",
        )
    return None


def curve_findings(
    kind: str,
    history: dict,
    model: nn.Module | None,
    images: torch.Tensor | None,
    band: dict | None,
) -> list[Finding | None]:
    """The failures that the curves show, in the order the doctor reports them."""
    if kind == "GAN":
        return [dominance_finding(history), oscillation_finding(history)]
    findings = []
    if kind == "VAE":
        findings.append(kl_scale_finding(history, model, images))
    findings.append(flat_finding(kind, history))
    findings.append(band_finding(kind, history, band))
    return findings


def negative_kl_finding(history: dict) -> Finding | None:
    """A KL divergence is never negative: a negative one is a sign error in its formula."""
    kl = [v for v in curve(history, "kl") if math.isfinite(v)]
    if kl and min(kl) < -1e-3:
        return Finding(
            "negative KL",
            f"The KL term went down to {min(kl):.4g} nats; KL(q || p) is never negative, so its "
            "formula has a sign wrong (it is -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)).",
        )
    return None


def kl_scale_finding(
    history: dict, model: nn.Module | None, images: torch.Tensor | None
) -> Finding | None:
    """A KL summed over the latent dimensions with a reconstruction averaged over the pixels, or
    a KL averaged over the dimensions with a reconstruction summed over the pixels."""
    name = "KL and reconstruction on different scales"
    reconstruction, kl = (
        values(history, "train_reconstruction")[-1:],
        values(history, "train_kl")[-1:],
    )
    if not reconstruction:
        return None
    if reconstruction[0] < 5:  # summed over 784 pixels, MNIST's cross-entropy is 50 nats or more
        return Finding(
            name,
            f"The reconstruction term is {reconstruction[0]:.4g} nats per image, where the "
            "cross-entropy summed over the 784 pixels is 50 or more: it is averaged over the "
            "pixels while the KL is summed over the latent dimensions, so the KL weighs 784 "
            "times too much.",
        )
    if model is None or images is None or not kl:
        return None
    true_kl = measured_kl(model, images).sum().item()
    dims = model.latent_dim
    if true_kl > 1 and kl[0] < 2 * true_kl / dims and kl[0] < 0.5 * true_kl:
        return Finding(
            name,
            f"The KL term the run recorded is {kl[0]:.4g} nats per image, but the model's codes "
            f"have a KL of {true_kl:.4g} nats summed over its {dims} dimensions: the KL is "
            "averaged over the latent dimensions while the reconstruction is summed over the "
            "pixels, so it weighs too little.",
        )
    return None


def flat_finding(kind: str, history: dict) -> Finding | None:
    """A loss that hardly moves from its first window of steps to its last."""
    series = curve(history, KIND_METRIC[kind])
    means = window_means(series)
    if len(series) >= 8 and means[-1] >= (1 - FLAT) * means[0]:
        return Finding(
            "not learning",
            f"The loss went from {means[0]:.4g} (first eighth of the {len(series)} steps) to "
            f"{means[-1]:.4g} (last eighth): flat. Check that the optimizer holds this model's "
            "parameters and that every step calls zero_grad, backward and step.",
        )
    return None


def band_finding(kind: str, history: dict, band: dict | None) -> Finding | None:
    """The loss curve against the reference band (one comparison, `compare_to_band`), or, with
    no band, its shape alone."""
    metric = KIND_METRIC[kind]
    epochs, steps = values(history, f"train_{metric}"), values(history, f"step_{metric}")
    if band is None or not epochs or len(steps) != band["steps_per_epoch"] * len(epochs):
        shape = curve_shape(steps or epochs)
        if shape == "rising":
            return Finding("divergence", "The loss is rising: it ends 10% above its lowest point.")
        return None
    found = compare_to_band(band["metrics"][metric], epochs, steps)
    where = found.where().replace("your mean training loss", f"the mean training {metric}")
    where = where[0].upper() + where[1:]
    if found.kind == "on track":
        return None
    if found.kind == "rising":
        return Finding("divergence", f"{where}, and it is rising. Lower the learning rate.")
    if found.kind in ("jumped", "stalled"):
        shape = "it " + found.shape if found.kind == "jumped" else "it fell at once, then stalled"
        return Finding(
            "learning rate too high",
            f"{where}; {shape}: the steps are too large for the loss's landscape.",
        )
    if found.kind == "slow":
        return Finding(
            "learning rate too low",
            f"{where}, above the band, and falling slowly: the steps are too small (or some "
            "steps do not update the weights).",
        )
    if found.kind == "scale":
        return Finding(
            "KL and reconstruction on different scales"
            if kind == "VAE"
            else "off the reference band",
            f"{where}, about {found.factor:.4g} times the reference: is the loss {found.meaning}?",
        )
    return Finding(
        "off the reference band",
        f"{where}: below the band. The run does not repeat the reference's settings (learning "
        "rate, loss, data).",
    )


def dominance_finding(history: dict) -> Finding | None:
    """Over the last eighth of the steps D(x) -> 1, D(G(z)) -> 0 and the D loss -> 0."""
    d_real, d_fake, loss_d = (curve(history, f"{m}") for m in ("d_real", "d_fake", "loss_d"))
    if len(d_real) < MIN_GAN_STEPS:
        return None
    real, fake, loss = (window_means(s)[-1] for s in (d_real, d_fake, loss_d))
    loss_g = window_means(curve(history, "loss_g"))[-1]
    if real > DOMINANT[0] and fake < DOMINANT[1] and loss < DOMINANT[2]:
        return Finding(
            "discriminator overpowers the generator",
            f"Over the last eighth of the {len(d_real)} steps D(x) averaged {real:.3f}, D(G(z)) "
            f"{fake:.3f}, the D loss {loss:.3g} and the G loss {loss_g:.3g}: the discriminator "
            "rejects every fake with certainty and the generator no longer learns. Lower the "
            "discriminator's learning rate (lr_d) or weaken it.",
        )
    return None


def volatility(loss_g: list[float]) -> float:
    """How much the G loss jumps from one step to the next over the second half of the run: the
    median absolute change relative to the median loss. Noisy but settled runs stay well below
    `OSCILLATING`; two networks chasing each other swing the loss by most of its size."""
    half = loss_g[len(loss_g) // 2 :]
    changes = [abs(b - a) for a, b in zip(half, half[1:], strict=False)]
    return statistics.median(changes) / max(statistics.median(half), 1e-12)


def oscillation_finding(history: dict) -> Finding | None:
    """Divergence: the G loss's last sixteenth far above its lowest. Oscillation: the G loss
    jumping from step to step by a large part of its size."""
    loss_g = curve(history, "loss_g")
    if len(loss_g) < MIN_GAN_STEPS:
        return None
    means = window_means(loss_g, 16)
    if means[-1] > 2 * min(means) and means[-1] > 5:
        return Finding(
            "divergence",
            f"The G loss, averaged over sixteenths of the run, climbed from {min(means):.3g} to "
            f"{means[-1]:.3g}: one player has won. Lower the learning rates.",
        )
    jumps = volatility(loss_g)
    if jumps > OSCILLATING:
        return Finding(
            "oscillation",
            f"Over the second half of the run the G loss changed by {jumps:.0%} of its median "
            f"from one step to the next (oscillating above {OSCILLATING:.0%}), between "
            f"{min(loss_g[len(loss_g) // 2 :]):.3g} and {max(loss_g[len(loss_g) // 2 :]):.3g}: "
            "the two networks chase each other instead of settling. Lower the learning rates.",
        )
    return None


def model_finding(
    kind: str,
    model: nn.Module,
    images: torch.Tensor | None,
    classifier: MnistClassifier | None,
    seed: int,
) -> Finding | None:
    """The failures only the trained model shows: mode collapse, posterior collapse."""
    if kind == "GAN":
        return collapse_finding(*sample_coverage(model, seed, classifier))
    if kind == "VAE" and images is not None:
        return posterior_finding(measured_kl(model, images))
    return None


def sample_coverage(
    generator: Generator, seed: int = 0, classifier: MnistClassifier | None = None
) -> tuple[Coverage, float]:
    """Which digits 1,000 samples of `generator` (drawn from `seed`) show to the classifier, and
    how varied the samples are (`labutils.monitor.variety`: 0 when all are the same image)."""
    device = next(generator.parameters()).device
    classifier = classifier or load_classifier(device)
    images = sample_dcgan(
        generator, SAMPLES, torch.Generator().manual_seed(seed)
    )  # (1000, 1, 28, 28)
    coverage = coverage_from_probabilities(classifier_outputs(classifier, images)[1])
    return coverage, variety(images[:256] * 2 - 1)  # in the generator's range, as the monitor


def missing_digits(coverage: Coverage) -> list[int]:
    """Digits that fewer than 2% of the samples show (a fifth of their fair share)."""
    return [d for d, share in enumerate(coverage.histogram.tolist()) if share < 0.02]


def collapse_finding(coverage: Coverage, spread: float) -> Finding | None:
    """Mode collapse: the samples are near copies (`variety` below `COPIES`), their class entropy
    is below `COLLAPSED` and digits are missing. A young generator's varied blobs, which the
    classifier may read as a single digit, are not collapse."""
    missing = missing_digits(coverage)
    if coverage.entropy < COLLAPSED and missing and spread < COPIES:
        histogram = coverage.histogram.tolist()
        shares = ", ".join(f"{d}: {s:.0%}" for d, s in enumerate(histogram) if s >= 0.1)
        return Finding(
            "mode collapse",
            f"The classifier reads {SAMPLES:,} samples as mostly {shares}; their class entropy is "
            f"{coverage.entropy:.3g} nats (uniform: {math.log(10):.3g}; collapse below "
            f"{COLLAPSED:.3g}), {len(missing)} digits are missing ({', '.join(map(str, missing))}) "
            f"and the samples are near copies (variety {spread:.2f}; real digits about 0.7).",
        )
    return None


@torch.inference_mode()
def measured_kl(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Mean KL of each latent dimension over `images` (at most 2,000), (D,)."""
    was_training = model.training
    model.eval()
    mu, logvar = model.encode(images[:2000])  # (N, D) each
    model.train(was_training)
    per_dimension = kl_divergence(mu.reshape(-1, 1), logvar.reshape(-1, 1))  # (N * D,)
    return per_dimension.view(mu.shape).mean(dim=0).cpu()  # (D,)


def posterior_finding(kl_per_dimension: torch.Tensor) -> Finding | None:
    """Posterior collapse: most latent dimensions carry less than 0.01 nats."""
    dead = int((kl_per_dimension < DEAD_DIMENSION).sum())
    dims = kl_per_dimension.numel()
    if dead > dims / 2:
        return Finding(
            "posterior collapse",
            f"{dead} of the {dims} latent dimensions carry less than {DEAD_DIMENSION} nats of KL "
            f"(total KL {kl_per_dimension.sum().item():.3g} nats): the encoder's codes ignore the "
            "image and the decoder draws an average digit. Lower beta, or check the KL's weight.",
        )
    return None


def healthy_evidence(
    kind: str,
    history: dict,
    model: nn.Module | None,
    images: torch.Tensor | None,
    band: dict | None,
    classifier: MnistClassifier | None,
    seed: int,
) -> tuple[str, ...]:
    """The numbers that show a run to be healthy."""
    metric = KIND_METRIC[kind]
    means = window_means(curve(history, metric))
    evidence = [
        f"No NaN; the {metric} went from {means[0]:.4g} to {means[-1]:.4g} (first and last "
        "eighth of the run)."
    ]
    epochs, steps = values(history, f"train_{metric}"), values(history, f"step_{metric}")
    if band is not None and len(steps) == band["steps_per_epoch"] * len(epochs):
        found = compare_to_band(band["metrics"][metric], epochs, steps)
        evidence.append(
            f"After epoch {found.epoch} it is {found.value:.4g}, inside the reference band "
            f"{found.low:.4g} to {found.high:.4g} ({band['seeds']} seeds)."
        )
    elif band is not None:
        evidence.append(
            "Its settings differ from the reference run's, so it was not compared with the band."
        )
    if kind == "GAN":
        real, fake = (window_means(curve(history, m))[-1] for m in ("d_real", "d_fake"))
        evidence.append(
            f"At the end D(x) averaged {real:.3f} and D(G(z)) {fake:.3f}: no player has won."
        )
        if model is not None:
            coverage, spread = sample_coverage(model, seed, classifier)
            evidence.append(
                f"{SAMPLES:,} samples cover {10 - len(missing_digits(coverage))} of the 10 digits "
                f"(class entropy {coverage.entropy:.3g} nats; uniform {math.log(10):.3g}) and "
                f"differ from each other (variety {spread:.2f})."
            )
            if band is not None:
                evidence.append(
                    f"The reference runs' samples had a class entropy of "
                    f"{band['class_entropy']['mean'][0]:.3g} nats on average."
                )
    if kind == "VAE" and model is not None and images is not None:
        kl = measured_kl(model, images)
        active = int((kl >= DEAD_DIMENSION).sum())
        evidence.append(
            f"{active} of its {kl.numel()} latent dimensions carry {DEAD_DIMENSION} nats or more."
        )
    return tuple(evidence)
