"""Each exercise checker passes the reference solution and names the mistake of wrong answers.

The wrong answers below are written the way a learner would write them; each test asserts on the
hint the checker prints for that mistake. `check_on_track` is tested with real reference runs
(smoke mode), a run with a learning rate 100 times too small, and diverging curves.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import tomllib
import torch
import torch.nn.functional as F

from labutils import checkers
from labutils.losses import discriminator_loss

ROOT = Path(__file__).resolve().parents[2]
bce = F.binary_cross_entropy_with_logits


def load_recorder():
    """scripts/record_bands.py as a module: the reference runs the bands were recorded from."""
    spec = importlib.util.spec_from_file_location("record_bands", ROOT / "scripts/record_bands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_hint(result: checkers.CheckResult, *phrases: str) -> None:
    assert not result and not result.passed
    assert result.message.startswith("❌")
    for phrase in phrases:
        assert phrase in result.message, result.message


def assert_passes(result: checkers.CheckResult) -> None:
    assert result and result.passed, result.message
    assert result.message.startswith("✅") and "passes all checks" in result.message


# --- Exercise 1.1: one autoencoder step ------------------------------------------------------


def ae_step(model, optimizer, images, *, clear=True, step=True, reduction="mean", to_float=True):
    if clear:
        optimizer.zero_grad()
    loss = F.mse_loss(model(images), images, reduction=reduction)
    loss.backward()
    if step:
        optimizer.step()
    return loss.item() if to_float else loss


def test_ae_step_checker():
    assert_passes(checkers.check_ae_step(ae_step))
    assert_hint(
        checkers.check_ae_step(lambda m, o, x: ae_step(m, o, x, clear=False)),
        "zero_grad()",
        "gradients accumulate",
    )
    assert_hint(
        checkers.check_ae_step(lambda m, o, x: ae_step(m, o, x, step=False)),
        "weights did not change",
        "optimizer.step()",
    )
    assert_hint(
        checkers.check_ae_step(lambda m, o, x: ae_step(m, o, x, to_float=False)),
        "returns a tensor, not a float",
    )
    assert_hint(
        checkers.check_ae_step(lambda m, o, x: ae_step(m, o, x, reduction="sum")),
        "mean per pixel",
    )


# --- Exercise 1.2: add_noise -----------------------------------------------------------------


def add_noise(images, std, generator=None, *, clip=True, scale=None, seeded=True):
    noise = torch.randn(images.shape, generator=generator if seeded else None)
    noisy = images + (std if scale is None else scale(std)) * noise
    return noisy.clamp(0, 1) if clip else noisy


def add_noise_in_place(images, std, generator=None):
    return images.add_(std * torch.randn(images.shape, generator=generator)).clamp_(0, 1)


def test_add_noise_checker():
    assert_passes(checkers.check_add_noise(add_noise))
    assert_hint(checkers.check_add_noise(add_noise_in_place), "input images were changed")
    assert_hint(
        checkers.check_add_noise(
            lambda x, s, generator=None: add_noise(x, s, generator, clip=False)
        ),
        "clip the noisy images to [0, 1]",
    )
    assert_hint(
        checkers.check_add_noise(
            lambda x, s, generator=None: add_noise(x, s, generator, scale=lambda s: s**2)
        ),
        "std**2",
    )
    assert_hint(
        checkers.check_add_noise(
            lambda x, s, generator=None: add_noise(x, s, generator, scale=math.sqrt)
        ),
        "sqrt(std)",
        "not the variance",
    )
    assert_hint(
        checkers.check_add_noise(lambda x, s, generator=None: add_noise(x, s, seeded=False)),
        "generator=generator",
    )


# --- Exercise 1.3: Gaussian fit of the codes ------------------------------------------------


def maximum_likelihood_gaussian(codes):
    centred = codes - codes.mean(0)
    return codes.mean(0), centred.T @ centred / len(codes)


def test_code_gaussian_checker():
    assert_passes(checkers.check_code_gaussian(lambda c: (c.mean(0), torch.cov(c.T))))
    assert_passes(checkers.check_code_gaussian(maximum_likelihood_gaussian))  # divides by N
    assert_hint(
        checkers.check_code_gaussian(lambda c: (c.mean(0), torch.cov(c))), "codes.T", "500 x 500"
    )
    assert_hint(checkers.check_code_gaussian(lambda c: (c.mean(0), c.var(0))), "variances only")
    assert_hint(
        checkers.check_code_gaussian(lambda c: (c.mean(0), c.T @ c / (len(c) - 1))),
        "without subtracting the mean",
    )


# --- Exercise 2.1: reparameterize ------------------------------------------------------------


def reparameterize(mu, logvar, sigma=lambda lv: torch.exp(0.5 * lv), noise=torch.randn_like):
    return mu + sigma(logvar) * noise(mu)


def test_reparameterize_checker():
    assert_passes(checkers.check_reparameterize(reparameterize))
    assert_hint(
        checkers.check_reparameterize(lambda mu, lv: reparameterize(mu, lv, sigma=lambda v: v)),
        "logvar is used as sigma",
    )
    assert_hint(
        checkers.check_reparameterize(lambda mu, lv: reparameterize(mu, lv, sigma=torch.exp)),
        "exp(logvar) is used as sigma",
        "variance",
    )
    assert_hint(checkers.check_reparameterize(lambda mu, lv: mu + 0 * lv), "z equals mu")
    assert_hint(
        checkers.check_reparameterize(lambda mu, lv: reparameterize(mu, lv, noise=torch.rand_like)),
        "not standard normal",
    )
    assert_hint(
        checkers.check_reparameterize(lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv))),
        "gradient of z with respect to mu",
    )


# --- Exercise 2.2: KL divergence -------------------------------------------------------------


def kl_terms(mu, logvar):
    return 1 + logvar - mu.pow(2) - logvar.exp()  # (N, D)


def test_kl_checker():
    assert_passes(checkers.check_kl_divergence(lambda mu, lv: -0.5 * kl_terms(mu, lv).sum(1)))
    wrong = {
        "factor of 2": lambda mu, lv: -kl_terms(mu, lv).sum(1),
        "sign is flipped": lambda mu, lv: 0.5 * kl_terms(mu, lv).sum(1),
        "averages over the latent dimensions": lambda mu, lv: -0.5 * kl_terms(mu, lv).mean(1),
        "the sum over the batch": lambda mu, lv: -0.5 * kl_terms(mu, lv).sum(),
        "logvar is treated as log(sigma)": lambda mu, lv: -0.5 * kl_terms(mu, 2 * lv).sum(1),
        "logvar is treated as sigma": lambda mu, lv: (
            -0.5 * (1 + torch.log(lv**2) - mu**2 - lv**2).sum(1)
        ),
    }
    for hint, my_kl in wrong.items():
        assert_hint(checkers.check_kl_divergence(my_kl), hint)


def test_kl_checker_says_where_an_unknown_mistake_differs():
    result = checkers.check_kl_divergence(lambda mu, lv: -0.5 * kl_terms(mu, lv).sum(1) + 0.3)
    assert_hint(result, "differs from the reference by up to 0.3", "at index (")


# --- Exercise 2.3: beta-VAE loss -------------------------------------------------------------


def beta_vae_loss(logits, images, mu, logvar, beta, *, on="kl", pixels="sum", batch="mean"):
    bce_per_pixel = bce(logits, images, reduction="none").flatten(1)  # (N, 784)
    reconstruction = getattr(bce_per_pixel, pixels)(1)  # (N,)
    kl = -0.5 * kl_terms(mu, logvar).sum(1)  # (N,)
    total = reconstruction + beta * kl if on == "kl" else beta * reconstruction + kl
    return getattr(total, batch)()


def test_beta_vae_loss_checker():
    assert_passes(checkers.check_beta_vae_loss(beta_vae_loss))
    assert_hint(
        checkers.check_beta_vae_loss(lambda *a: beta_vae_loss(*a, on="reconstruction")),
        "beta multiplies the wrong term",
    )
    assert_hint(
        checkers.check_beta_vae_loss(lambda *a: beta_vae_loss(*a, pixels="mean")),
        "averaged over the pixels",
    )
    assert_hint(
        checkers.check_beta_vae_loss(lambda *a: beta_vae_loss(*a, batch="sum")),
        "summed over the batch",
    )
    assert_hint(
        checkers.check_beta_vae_loss(lambda lg, x, mu, lv, beta: beta_vae_loss(lg, x, mu, lv, 4)),
        "hard-coded",
    )


# --- Exercise 3.1: discriminator step --------------------------------------------------------


def discriminator_step(generator, discriminator, optimizer_d, real, noise, **mistake):
    if not mistake.get("no_zero_grad"):
        optimizer_d.zero_grad()
    fake = generator(noise)
    fake = fake if mistake.get("no_detach") else fake.detach()
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    if mistake.get("swap"):
        real_logits, fake_logits = fake_logits, real_logits
    loss = discriminator_loss(real_logits, fake_logits)
    loss.backward()
    optimizer_d.step()
    return loss.item()


def joint_discriminator_step(generator, discriminator, optimizer_d, real, noise):
    optimizer_d.zero_grad()
    with torch.no_grad():
        fake = generator(noise)
    logits = discriminator(torch.cat([real, fake]))
    loss = discriminator_loss(logits[: len(real)], logits[len(real) :])
    loss.backward()
    optimizer_d.step()
    return loss.item()


def test_discriminator_step_checker():
    assert_passes(checkers.check_discriminator_step(discriminator_step))
    assert_passes(checkers.check_discriminator_step(joint_discriminator_step))
    for mistake, hint in {
        "no_detach": "the generator's weights received gradients",
        "swap": "labels are swapped",
        "no_zero_grad": "optimizer_d.zero_grad()",
    }.items():
        result = checkers.check_discriminator_step(
            lambda *args, m=mistake: discriminator_step(*args, **{m: True})
        )
        assert_hint(result, hint)


# --- Exercise 3.2: one-sided label smoothing -------------------------------------------------


def smoothed(real_logits, fake_logits, smoothing=0.1, real_target=None, fake_target=None):
    real_target = 1 - smoothing if real_target is None else real_target(smoothing)
    fake_target = 0.0 if fake_target is None else fake_target(smoothing)
    real = bce(real_logits, torch.full_like(real_logits, real_target))
    return real + bce(fake_logits, torch.full_like(fake_logits, fake_target))


def test_smoothed_discriminator_loss_checker():
    check = checkers.check_smoothed_discriminator_loss
    assert_passes(check(smoothed))
    assert_hint(
        check(lambda r, f, smoothing=0.1: smoothed(r, f, smoothing, fake_target=lambda s: s)),
        "fake labels are smoothed too",
        "two-sided",
    )
    assert_hint(
        check(lambda r, f, smoothing=0.1: smoothed(r, f, smoothing, lambda s: 1 + s)),
        "1 + smoothing",
    )
    assert_hint(check(lambda r, f, smoothing=0.1: smoothed(r, f, 0.1)), "argument is ignored")
    assert_hint(
        check(lambda r, f, smoothing=0.1: smoothed(r, f, smoothing, lambda s: 1, lambda s: s)),
        "only the fake labels are smoothed",
    )


# --- Chapter 4: Fréchet distance and class entropy ------------------------------------------


def frechet(mu1, cov1, mu2, cov2, *, factor=2.0, root="matrix", squared=True):
    from labutils.metrics import sqrtm_psd

    if root == "matrix":
        r = sqrtm_psd(cov1)
        cross = sqrtm_psd(r @ cov2 @ r).trace()
    else:
        cross = (cov1 @ cov2).sqrt().trace()
    mean_term = (mu1 - mu2).pow(2).sum()
    mean_term = mean_term if squared else mean_term.sqrt()
    return float(mean_term + cov1.trace() + cov2.trace() - factor * cross)


def test_frechet_distance_checker():
    check = checkers.check_frechet_distance
    assert_passes(check(frechet))
    assert_hint(check(lambda *a: frechet(*a, factor=1.0)), "factor 2")
    assert_hint(check(lambda *a: frechet(*a, root="elementwise")), "element by element")
    assert_hint(check(lambda *a: frechet(*a, squared=False)), "mean term is not squared")


def class_entropy(labels, *, log=torch.log, normalise=True, drop_empty=True):
    counts = torch.bincount(labels, minlength=10).double()
    counts = counts[counts > 0] if drop_empty else counts
    p = counts / counts.sum() if normalise else counts
    return float(-(p * log(p)).sum())


def test_class_entropy_checker():
    check = checkers.check_class_entropy
    assert_passes(check(class_entropy))
    assert_hint(check(lambda y: class_entropy(y, log=torch.log2)), "in bits")
    assert_hint(check(lambda y: class_entropy(y, normalise=False)), "not normalised")
    assert_hint(check(lambda y: class_entropy(y, drop_empty=False)), "0 * log(0)")


# --- What every checker does -----------------------------------------------------------------


def test_a_checker_prints_its_message_and_hides_no_code(capsys):
    result = checkers.check_kl_divergence(lambda mu, lv: -kl_terms(mu, lv).sum(1))
    assert capsys.readouterr().out == result.message + "\n"
    assert "def " not in result.message and "torch.sum" not in result.message


def test_unwritten_and_crashing_functions_are_reported():
    def unwritten(mu, logvar):
        raise NotImplementedError

    assert_hint(checkers.check_kl_divergence(unwritten), "is not written yet")
    assert_hint(checkers.check_kl_divergence(lambda mu, lv: mu @ lv), "raised RuntimeError")


def test_checkers_leave_the_learners_random_state_alone():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    checkers.check_reparameterize(reparameterize)
    assert torch.equal(torch.get_rng_state(), state)


# --- Am I on track? --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorder():
    return load_recorder()


def test_bands_file_agrees_with_the_recorder(recorder):
    bands = json.loads((ROOT / "labutils" / checkers.BANDS_FILE).read_text())["runs"]
    assert set(bands) == set(recorder.RUNS)
    for run, modes in bands.items():
        for mode, band in modes.items():
            assert band["settings"] == recorder.settings(run, mode), (run, mode)
            assert len(band["mean"]) == band["settings"]["epochs"]
            for low, mean, high in zip(band["low"], band["mean"], band["high"], strict=True):
                assert low < mean < high


@pytest.mark.parametrize("run", ["denoising-ae", "beta-vae"])
def test_reference_run_from_a_new_seed_is_on_track(recorder, run, monkeypatch):
    monkeypatch.setenv("LABUTILS_PROGRESS", "0")
    history = recorder.train_run(run, "smoke", seed=11)  # the bands used seeds 0 to 4
    result = checkers.check_on_track(history, run, smoke=True)
    assert result and result.message.startswith("✅ On track"), result.message


@pytest.mark.parametrize("run", ["denoising-ae", "beta-vae"])
def test_learning_rate_100_times_too_small_is_too_slow(recorder, run, monkeypatch):
    monkeypatch.setenv("LABUTILS_PROGRESS", "0")
    history = recorder.train_run(run, "smoke", seed=0, lr_scale=0.01)
    assert_hint(checkers.check_on_track(history, run, smoke=True), "Too slow", "learning rate")


def smoke_history(steps: list[float]) -> dict[str, list[float]]:
    return {"train_loss": [sum(steps) / len(steps)], "step_loss": steps}


def test_nan_or_rising_loss_is_diverging():
    nan = smoke_history([0.2] * 15 + [math.nan])
    assert_hint(checkers.check_on_track(nan, "denoising-ae", smoke=True), "Diverging", "NaN")
    rising = smoke_history([0.1 + 0.02 * i for i in range(16)])  # mean 0.25, above the band
    assert_hint(checkers.check_on_track(rising, "denoising-ae", smoke=True), "Diverging", "rising")
    epochs = [400.0, 450.0, 600.0]  # a list of per-epoch losses also works
    assert_hint(checkers.check_on_track(epochs, "beta-vae", smoke=False), "Diverging")


def test_on_track_after_the_first_epoch_of_a_longer_run():
    band = checkers.run_band("beta-vae", smoke=False)
    assert len(band["mean"]) > 1
    assert checkers.check_on_track(band["mean"][:1], "beta-vae", smoke=False)


def test_below_band_and_other_settings_are_reported():
    below = smoke_history([0.01] * 16)
    assert_hint(checkers.check_on_track(below, "denoising-ae", smoke=True), "Below the band")
    other = smoke_history([0.126] * 40)  # 40 steps per epoch: another data size or batch size
    assert_hint(checkers.check_on_track(other, "denoising-ae", smoke=True), "Not comparable")


def test_smoke_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("LABUTILS_SMOKE", "1")
    assert checkers.run_band("beta-vae")["settings"]["limit"] is not None
    monkeypatch.setenv("LABUTILS_SMOKE", "0")
    assert checkers.run_band("beta-vae")["settings"]["limit"] is None


def test_bands_ship_with_the_package():
    """On Colab, labutils is pip-installed from git: the bands must ship as package data."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert checkers.BANDS_FILE in setuptools.get("package-data", {}).get("labutils", []), (
        'add `[tool.setuptools.package-data] labutils = ["reference_bands.json"]` to pyproject.toml'
    )
