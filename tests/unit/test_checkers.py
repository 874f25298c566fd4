"""What every checker does, and `check_on_track` on real training runs.

The verdicts on the exercises' answers (right and wrong, with their hints) are in the mistake
corpus, tests/unit/checker_corpus/, run by test_checker_corpus.py. Here: printing, unwritten and
crashing answers, the random state, the registry the notebooks' tests use, and the bands, with
real smoke-mode runs of the reference solution (scripts/record_bands.py).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import warnings
from pathlib import Path

import pytest
import tomllib
import torch

from labutils import checkers
from labutils.checkers import noise

ROOT = Path(__file__).resolve().parents[2]
BANDS = ROOT / "labutils" / "checkers" / checkers.BANDS_FILE


def load_recorder():
    """scripts/record_bands.py as a module: the reference runs the bands were recorded from."""
    spec = importlib.util.spec_from_file_location("record_bands", ROOT / "scripts/record_bands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kl(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


# --- What every checker does -----------------------------------------------------------------


def test_a_checker_prints_its_message_and_hides_no_code(capsys):
    result = checkers.check_kl_divergence(lambda mu, lv: 2 * kl(mu, lv))
    assert capsys.readouterr().out == result.message + "\n"
    assert "def " not in result.message and "torch.sum" not in result.message


def test_a_checker_run_before_its_exercise_says_which_cell_to_run():
    result = checkers.check_kl_divergence(globals().get("my_kl_divergence"))
    assert not result
    assert "my_kl_divergence is not defined yet" in result.message
    assert "run the cell of Exercise 2.2 first" in result.message


def test_a_checker_given_something_else_than_a_function_says_what_it_got():
    result = checkers.check_kl_divergence(torch.zeros(3))
    assert (
        not result and "expected a function, got a float32 tensor of shape (3,)" in result.message
    )


def test_unwritten_functions_are_reported():
    def my_kl_divergence(mu, logvar):
        raise NotImplementedError("Exercise 2.2: write my_kl_divergence(mu, logvar)")

    result = checkers.check_kl_divergence(my_kl_divergence)
    assert not result and "is not written yet" in result.message


def test_an_error_is_shown_with_the_learners_line():
    def my_kl_divergence(mu, logvar):
        squares = mu.pow(2)
        return squares @ logvar  # (4, 3) @ (4, 3): shapes do not match

    result = checkers.check_kl_divergence(my_kl_divergence)
    assert not result
    assert "raised RuntimeError" in result.message
    assert "of my_kl_divergence: `return squares @ logvar" in result.message
    line = my_kl_divergence.__code__.co_firstlineno + 2
    assert f"line {line} of my_kl_divergence" in result.message


def test_a_failure_of_the_checker_itself_is_not_blamed_on_the_learner(monkeypatch):
    monkeypatch.setattr(checkers.vae, "kl_divergence", math.log)  # the checker's own call fails
    result = checkers.check_kl_divergence(kl)
    assert not result and "the checker itself failed" in result.message


def test_checkers_leave_the_learners_random_state_alone():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    checkers.check_reparameterize(lambda mu, lv: mu + torch.randn_like(mu) * (0.5 * lv).exp())
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("seed", range(30))
def test_the_statistical_checks_pass_correct_answers_whatever_their_random_numbers(seed):
    """The noise checks of 1.2 and 2.1 are statistical: a correct answer drawing from another
    generator must pass them too (their false-alarm rates are stated next to the thresholds)."""
    draws = torch.Generator().manual_seed(seed)

    def my_reparameterize(mu, logvar):
        return mu + torch.randn(mu.shape, generator=draws) * torch.exp(0.5 * logvar)

    def add_noise(images, std, generator=None):
        noise = torch.randn(images.shape, generator=generator or draws)
        return (images + std * noise).clamp(0, 1)

    assert checkers.check_reparameterize(my_reparameterize)
    assert checkers.check_add_noise(add_noise)


def test_the_registry_names_each_exercises_function():
    assert checkers.CHECKERS["my_kl_divergence"] is checkers.check_kl_divergence
    chapters = "".join(path.read_text() for path in (ROOT / "book").glob("*.ipynb"))
    asked = set(re.findall(r'check_\w+\(globals\(\).get\(\\"(\w+)\\"\)\)', chapters))
    assert asked == set(checkers.CHECKERS)  # every checker cell of the book, and only those
    for name, checker in checkers.CHECKERS.items():
        assert name in checker(None).message


# --- Am I on track? --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorder():
    return load_recorder()


def test_bands_file_agrees_with_the_recorder(recorder):
    assert recorder.BANDS == BANDS
    bands = json.loads(BANDS.read_text())["runs"]
    assert set(bands) == set(recorder.RUNS)
    for run, modes in bands.items():
        for mode, band in modes.items():
            assert band["settings"] == recorder.settings(run, mode), (run, mode)
            assert len(band["mean"]) == band["settings"]["epochs"]
            for low, mean, high in zip(band["low"], band["mean"], band["high"], strict=True):
                assert low < mean < high


def test_the_reference_runs_train_the_chapters_solution_which_passes_its_checker(recorder):
    """Exercise 1.2's solution is written once, in chapter 1: the recorder executes its cell's
    definitions (not a copy), and that solution passes the exercise's checker."""
    chapter = recorder.CHAPTER.resolve()
    assert chapter == ROOT / "book" / "01-autoencoders.ipynb"
    for name in ("add_noise", "denoising_step"):
        assert Path(getattr(recorder, name).__code__.co_filename) == chapter
    assert recorder.settings("denoising-ae", "smoke")["noise_std"] == recorder.SOLUTION["NOISE_STD"]
    assert checkers.check_add_noise(recorder.add_noise)


@pytest.mark.parametrize("run", ["denoising-ae", "beta-vae"])
def test_reference_run_from_a_new_seed_is_on_track(recorder, run, monkeypatch):
    history = recorder.train_run(run, "smoke", seed=11)  # the bands used seeds 0 to 4
    result = checkers.check_on_track(history, run, smoke=True)
    assert result and result.message.startswith("✅ On track"), result.message


@pytest.mark.parametrize("run", ["denoising-ae", "beta-vae"])
def test_learning_rate_100_times_too_small_is_too_slow(recorder, run, monkeypatch):
    history = recorder.train_run(run, "smoke", seed=0, lr_scale=0.01)
    result = checkers.check_on_track(history, run, smoke=True)
    assert not result and "Too slow" in result.message and "too small?" in result.message


@pytest.mark.parametrize(
    ("run", "verdict"), [("denoising-ae", "❌ Stalled"), ("beta-vae", "❌ Unstable")]
)
def test_learning_rate_30_times_too_large_is_not_called_too_slow(
    recorder, run, verdict, monkeypatch
):
    history = recorder.train_run(run, "smoke", seed=0, lr_scale=30)
    result = checkers.check_on_track(history, run, smoke=True)
    assert result.message.startswith(verdict) and "too large" in result.message, result.message


def test_a_run_that_fit_stopped_is_judged_by_fits_message(recorder, monkeypatch):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        history = recorder.train_run("beta-vae", "smoke", seed=0, lr_scale=1000)
    assert "stopped" in history, "the learning rate no longer makes the run diverge"
    epoch, step = history["stopped"][0].split("at epoch ")[1].split(" of ")[0].split(", step ")
    result = checkers.check_on_track(history, "beta-vae", smoke=True)
    assert not result
    assert result.message.startswith(f"❌ Diverged at epoch {epoch}, step {step}:"), result.message
    assert "Lower the learning rate?" in result.message


def test_a_wrong_beta_is_rejected_in_both_modes():
    for smoke in (True, False):
        band = checkers.run_band("beta-vae", smoke=smoke)
        total = band["mean"][0]
        history = {"train_total": [total], "train_reconstruction": [total - 5.0], "train_kl": [5.0]}
        result = checkers.check_on_track(history, "beta-vae", smoke=smoke)
        assert not result and "give beta = 1 (" in result.message, result.message


def test_the_mode_is_an_argument():
    assert checkers.run_band("beta-vae", smoke=True)["settings"]["limit"] is not None
    assert checkers.run_band("beta-vae", smoke=False)["settings"]["limit"] is None
    with pytest.raises(TypeError):
        checkers.check_on_track([1.0], "beta-vae")  # smoke must be given


def test_an_unknown_run_is_a_clear_error():
    with pytest.raises(ValueError, match="No reference band for 'vae'; known runs: beta-vae"):
        checkers.check_on_track([math.nan], "vae", smoke=True)


def test_bands_ship_with_the_package():
    """On Colab, labutils is pip-installed from git: the bands must ship as package data."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "labutils.checkers" in setuptools["packages"], 'add "labutils.checkers" to packages'
    assert "checkers/reference_bands.json" in setuptools.get("package-data", {}).get(
        "labutils", []
    ), 'package-data: labutils = ["checkers/reference_bands.json"]'


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((["1.0"], 1, True), "check_on_track's run must be the name of the exercise's run, a str"),
        (([1.0], "beta-vae", "True"), "check_on_track's smoke must be True or False (the noteb"),
        (([1.0], "beta-vae", None), "check_on_track's smoke must be True or False"),
    ],
)
def test_check_on_track_names_an_argument_of_the_wrong_type(arguments, message):
    with pytest.raises(TypeError) as error:
        checkers.check_on_track(*arguments)
    assert str(error.value).startswith(message), str(error.value)


def test_not_comparable_says_the_reference_settings_but_not_its_epochs():
    band = checkers.run_band("denoising-ae", smoke=False)
    steps = [band["mean"][0]] * 100
    history = {"train_loss": [band["mean"][0]], "step_loss": steps}
    result = checkers.check_on_track(history, "denoising-ae", smoke=False)
    assert not result and result.message.startswith("❌ Not comparable: your run took 100 steps")
    assert "Adam with lr 0.001, batches of 128" in result.message
    assert "fresh noise of std 0.3 drawn in every step" in result.message
    assert "on all 60,000 training images" in result.message
    assert "epochs" not in result.message  # the band's recorded epochs are not the exercise's


def test_a_run_off_the_band_is_told_the_reference_settings():
    band = checkers.run_band("beta-vae", smoke=True)
    result = checkers.check_on_track([band["high"][0] * 1.5], "beta-vae", smoke=True)
    assert not result
    assert "(The reference: Adam with lr 0.001, batches of 128, a 20-D latent space, beta = 4," in (
        result.message
    )
    assert result.message.endswith("on the first 2,000 training images.)"), result.message


# --- The statistical tests of random draws (labutils/checkers/noise.py) --------------------------


def test_ks_distance_of_exact_normal_quantiles_is_half_a_step():
    n = 1000
    quantiles = torch.special.ndtri((torch.arange(n, dtype=torch.float64) + 0.5) / n)
    assert noise.ks_distance(quantiles) == pytest.approx(0.5 / n, abs=1e-12)


def test_uniform_noise_of_unit_variance_is_far_from_normal_and_named():
    uniform = (torch.rand(50_000, generator=torch.Generator().manual_seed(0)) - 0.5) * 12**0.5
    distance = noise.ks_distance(uniform)
    assert abs(distance - 0.057) < 0.01  # the distance of the two CDFs, computed exactly
    assert distance > noise.KS_LIMIT
    assert "the noise is uniform" in noise.gaussian_shape_hint(uniform, "torch.randn")


def test_correct_draws_stay_below_the_limits_with_their_stated_margin():
    """The limits are stated as many standard errors from a correct sample: over 30 seeds the
    largest distance and correlation stay well inside them."""
    distances, correlations = [], []
    for seed in range(30):
        draws = torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
        distances.append(noise.ks_distance(draws))
        correlations.append(noise.correlation(draws[..., :-1], draws[..., 1:]))
    assert max(distances) < noise.KS_LIMIT / 2
    assert max(map(abs, correlations)) < noise.CORRELATION_LIMIT / 10
    assert noise.shared_between(draws.flatten(1)) is None


def test_noise_shared_along_a_row_or_between_images_is_found():
    rows = torch.randn(8, 1, 28, 1, generator=torch.Generator().manual_seed(0)).expand(8, 1, 28, 28)
    assert noise.shared_along(rows, 3) and not noise.shared_along(rows, 2)
    images = torch.randn(6, 784, generator=torch.Generator().manual_seed(1))
    images[4] = images[1]
    assert noise.shared_between(images) == (1, 4)
