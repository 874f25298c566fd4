"""The training doctor: no false alarm on the chapters' healthy runs, the failures it names, and
one clear error for a history it cannot diagnose.

The failure gallery (book/appendix-failure-gallery.ipynb, run in smoke mode by
tests/notebooks/test_chapters.py) trains one run per failure and checks that each receives its
named diagnosis; here the healthy reference runs are trained again (smoke mode, every seed the
bands were recorded from, and a new one) and the full-mode seeds' recorded curves are diagnosed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
import torch

from labutils import (
    VAE,
    Autoencoder,
    Generator,
    checkers,
    fit_autoencoder,
    load_mnist,
    seed_everything,
)
from labutils.bands import COURSE_BANDS_FILE, compare_to_band, course_band
from labutils.doctor import SECTIONS, Diagnosis, diagnose
from labutils.plots import plot_against_band

ROOT = Path(__file__).resolve().parents[2]
CURVES = ROOT / "tests" / "unit" / "fixtures" / "course_runs_full.pt"


def load_recorder():
    """scripts/record_course_bands.py as a module: the runs the course bands were recorded from."""
    path = ROOT / "scripts" / "record_course_bands.py"
    spec = importlib.util.spec_from_file_location("record_course_bands", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recorder():
    return load_recorder()


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as recorded
    yield
    torch.set_num_threads(threads)


# --- No false alarm on a healthy run ------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 11])  # the bands' seeds, and one they never saw
@pytest.mark.parametrize("run", ["ae", "vae", "dcgan"])
def test_every_chapters_smoke_run_is_healthy(recorder, run, seed, mnist_test):
    history, models, _ = recorder.train_run(run, "smoke", seed)
    model = models["generator" if run == "dcgan" else "model"]
    diagnosis = diagnose(history, model, reference=run, smoke=True, images=mnist_test[0][:1000])
    assert diagnosis.healthy, str(diagnosis)
    assert "inside the reference band" in str(diagnosis)


def full_runs() -> list[tuple[str, int]]:
    """(run, seed) of every full-mode run whose curves scripts/record_course_bands.py kept."""
    runs = torch.load(CURVES, weights_only=True) if CURVES.exists() else {}
    return [(run, seed) for run, seeds in runs.items() for seed in range(len(seeds))]


@pytest.mark.parametrize(("run", "seed"), full_runs())
def test_every_chapters_full_run_is_healthy_from_its_curves(run, seed):
    curves = torch.load(CURVES, weights_only=True)[run][seed]
    history = {name: values.tolist() for name, values in curves.items()}
    diagnosis = diagnose(history, reference=run, smoke=False)
    assert diagnosis.healthy, str(diagnosis)
    assert "inside the reference band" in str(diagnosis)


def test_the_full_mode_curves_are_those_of_the_recorded_bands():
    bands = json.loads((ROOT / "labutils" / COURSE_BANDS_FILE).read_text())["runs"]
    for run, seeds in torch.load(CURVES, weights_only=True).items():
        band = bands[run]["full"]
        assert len(seeds) == band["seeds"]
        epochs = torch.stack([s[f"train_{band['metric']}"].double() for s in seeds])  # (seeds, E)
        torch.testing.assert_close(
            epochs.mean(0),
            torch.tensor(band["metrics"][band["metric"]]["mean"]).double(),
            rtol=1e-5,
            atol=0,
        )


# --- Failures on small real runs (the gallery has one of each) ----------------------------------


def test_a_learning_rate_10_times_too_small_is_too_low(mnist_test):
    seed_everything(0)
    model = Autoencoder(latent_dim=20)
    train_images, _ = load_mnist("train", limit=2000)  # as the smoke band
    history = fit_autoencoder(model, train_images, mnist_test[0][:1000], epochs=1, lr=1e-4)
    diagnosis = diagnose(history, model, reference="ae", smoke=True)
    assert diagnosis.verdict == "learning rate too low", str(diagnosis)
    assert "above the band" in str(diagnosis)


def ae_history(losses: list[float]) -> dict:
    """A one-epoch autoencoder history with these per-step losses."""
    return {"step_loss": losses, "train_loss": [sum(losses) / len(losses)]}


def test_a_nan_is_named_with_its_step():
    diagnosis = diagnose(ae_history([0.23, 0.2, math.nan, 0.1] * 4))
    assert diagnosis.verdict == "NaN or inf loss"
    assert "step_loss is nan at step 3" in str(diagnosis)


def test_a_run_fit_stopped_is_a_nan():
    history = {**ae_history([0.23, 0.2]), "stopped": ["Non-finite loss was nan at epoch 1, step 3"]}
    assert diagnose(history).verdict == "NaN or inf loss"


def test_a_flat_loss_does_not_learn_and_a_falling_one_does():
    assert diagnose(ae_history([0.232, 0.231, 0.233] * 8)).verdict == "not learning"
    falling = diagnose(ae_history([0.23 - 0.005 * i for i in range(24)]))
    assert falling.healthy, str(falling)


def vae_history(reconstruction: float, kl: float, steps: int = 16) -> dict:
    """A VAE history whose steps fall from 2x to 1x the given terms."""
    scale = [2 - i / (steps - 1) for i in range(steps)]
    history = {
        "step_reconstruction": [reconstruction * s for s in scale],
        "step_kl": [kl * s for s in scale],
    }
    history["step_total"] = [r + k for r, k in zip(*history.values(), strict=True)]
    for name in ("reconstruction", "kl", "total"):
        history[f"train_{name}"] = [sum(history[f"step_{name}"]) / steps]
    return history


def test_vae_terms_on_impossible_scales_are_named():
    assert diagnose(vae_history(150.0, -3.0)).verdict == "negative KL"
    scale = diagnose(vae_history(0.2, 20.0))
    assert scale.verdict == "KL and reconstruction on different scales"
    assert "averaged over the pixels" in str(scale)
    assert diagnose(vae_history(-40.0, 20.0)).verdict == "inputs out of range"
    assert diagnose(vae_history(150.0, 20.0)).healthy


def test_a_kl_averaged_over_the_latent_dimensions_is_found_with_the_model(mnist_test):
    seed_everything(0)
    model = VAE(latent_dim=20)
    with torch.no_grad():
        model.to_mu.bias.fill_(2.0)  # every code 2 from the prior's mean: 2 nats per dimension
    images = mnist_test[0][:256]
    with torch.no_grad():
        mu, logvar = model.encode(images)  # (256, 20) each
    true_kl = float((-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean())
    diagnosis = diagnose(vae_history(150.0, true_kl / 20), model, images=images)
    assert diagnosis.verdict == "KL and reconstruction on different scales", str(diagnosis)
    assert "averaged over the latent dimensions" in str(diagnosis)
    assert diagnose(vae_history(150.0, true_kl), model, images=images).healthy


def test_inputs_in_0_255_or_minus_1_1_are_named(mnist_test):
    images = mnist_test[0][:64]
    history = ae_history([0.23 - 0.005 * i for i in range(24)])
    assert "divide by 255" in str(diagnose(history, images=images * 255))
    assert "(x + 1) / 2" in str(diagnose(history, images=images * 2 - 1))
    assert diagnose(ae_history([6000.0 - i for i in range(24)])).verdict == "inputs out of range"


def gan_history(d_real: float, d_fake: float, loss_d: float, loss_g: list[float]) -> dict:
    """A GAN history with constant D outputs and loss_d, and these G losses."""
    steps = len(loss_g)
    history = {
        "step_d_real": [d_real] * steps,
        "step_d_fake": [d_fake] * steps,
        "step_loss_d": [loss_d] * steps,
        "step_loss_g": loss_g,
    }
    return {**history, **{f"train_{k[5:]}": [sum(v) / steps] for k, v in history.items()}}


def test_gan_dynamics_are_named():
    won = gan_history(0.999, 0.001, 0.002, [8.0] * 64)
    assert diagnose(won).verdict == "discriminator overpowers the generator"
    chasing = gan_history(0.6, 0.4, 1.2, [0.6, 3.0] * 32)
    assert diagnose(chasing).verdict == "oscillation"
    climbing = gan_history(0.7, 0.3, 1.0, [1.0] * 32 + [12.0] * 32)
    assert diagnose(climbing).verdict == "divergence"
    assert diagnose(gan_history(0.7, 0.3, 1.0, [1.5, 1.6] * 32)).healthy


class ConstantGenerator(Generator):
    """A Generator (as the doctor expects) that draws one image whatever the noise: mode collapse
    by construction."""

    def __init__(self, image: torch.Tensor):
        super().__init__(nz=8, width=4)
        self.register_buffer("image", image * 2 - 1)  # (1, 28, 28) in [-1, 1]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.expand(z.shape[0], 1, 28, 28)  # (N, 1, 28, 28)


def test_a_generator_that_draws_one_digit_has_collapsed(mnist_test):
    images, labels = mnist_test
    generator = ConstantGenerator(images[0])
    history = gan_history(0.7, 0.3, 1.0, [1.5, 1.6] * 32)
    diagnosis = diagnose(history, generator)
    assert diagnosis.verdict == "mode collapse", str(diagnosis)
    digit = int(labels[0])
    assert f"{digit}: 100%" in str(diagnosis) and "9 digits are missing" in str(diagnosis)


# --- One band comparison -----------------------------------------------------------------------


def test_check_on_track_and_the_doctor_word_the_same_comparison():
    band = course_band("ae", smoke=True)["metrics"]["loss"]
    slow = [band["high"][0] * 1.5] * 16
    found = compare_to_band(band, [slow[0]], slow)
    assert found.kind == "slow"
    assert found.where() in checkers.on_track.band_verdict(band, [slow[0]], slow).message


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "error", "words"),
    [
        ([0.2, 0.1], TypeError, "got list"),
        (None, TypeError, "got NoneType"),
        ({}, ValueError, "The history is empty"),
        ({"train_loss": [], "step_loss": []}, ValueError, "The history is empty"),
        ({"train_loss": [0.5], "train_accuracy": [0.9]}, ValueError, "another kind of model"),
    ],
)
def test_a_history_it_cannot_diagnose_gets_one_clear_error(history, error, words):
    with pytest.raises(error, match=words):
        diagnose(history)


def test_a_model_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="history is a VAE's, but the model is Autoencoder"):
        diagnose(vae_history(150.0, 20.0), Autoencoder(latent_dim=2))


def test_a_reference_run_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="reference run 'vae' trains a VAE"):
        diagnose(ae_history([0.2, 0.1] * 8), reference="vae", smoke=True)
    with pytest.raises(ValueError, match="No reference band for 'gan'"):
        diagnose(ae_history([0.2, 0.1] * 8), reference="gan", smoke=True)


def test_a_diagnosis_prints_one_paragraph_with_its_section():
    diagnosis = diagnose(ae_history([0.232, 0.231, 0.233] * 8))
    assert isinstance(diagnosis, Diagnosis) and not diagnosis.healthy
    text = str(diagnosis)
    assert "\n" not in text and text.startswith("❌ Diagnosis: not learning.")
    assert 'Read more: chapter 1, "Training"' in text


def test_the_band_figure_overlays_the_runs_windows_on_the_band():
    band = course_band("ae", smoke=False)
    size = band["windows"]["size"]
    losses = [0.2 / (1 + i / 50) for i in range(3 * size)]
    fig = plot_against_band(ae_history(losses), "loss", band)
    ax = fig.axes[0]
    run = next(line for line in ax.get_lines() if line.get_label() == "this run")
    expected = [sum(losses[i : i + size]) / size for i in range(0, 3 * size, size)]
    torch.testing.assert_close(
        torch.tensor(run.get_ydata()).double(), torch.tensor(expected, dtype=torch.float64)
    )
    shaded = ax.collections[0].get_paths()[0].vertices[:, 1]  # the band's outline
    assert shaded.min() == pytest.approx(min(band["windows"]["low"]))
    assert shaded.max() == pytest.approx(max(band["windows"]["high"]))
    plt.close(fig)


def headings(notebook: Path) -> set[str]:
    """The titles of a notebook's Markdown headings."""
    cells = nbformat.read(notebook, as_version=4).cells
    lines = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    return {re.sub(r"^#+\s+", "", line) for line in lines if line.startswith("#")}


@pytest.mark.parametrize("verdict", sorted(SECTIONS))
def test_every_pointer_names_a_heading_of_the_book(verdict):
    """After a heading is renamed, the doctor must not send readers to a section that is gone."""
    for part in SECTIONS[verdict].split("; "):
        chapter = re.match(r"chapter (\d)", part)
        notebook = (
            next((ROOT / "book").glob(f"0{chapter.group(1)}-*.ipynb"))
            if chapter
            else ROOT / "book" / "appendix-failure-gallery.ipynb"
        )
        for title in re.findall(r'"([^"]+)"', part):
            assert title in headings(notebook), (
                f"{verdict}: no heading {title!r} in {notebook.name}"
            )


def test_band_from_curves_is_mean_plus_minus_the_wider_of_three_sd_and_five_percent():
    """The one band computation both recorders use, against torch's mean and sample std."""
    from labutils.bands import band_from_curves

    curves = torch.tensor([[10.0, 4.0, 2.0], [12.0, 4.1, 2.0], [11.0, 3.9, 2.0]])  # seeds x epochs
    band = band_from_curves(curves.tolist())
    mean, sd = curves.mean(dim=0), curves.std(dim=0)  # (3,) each, sd with N - 1
    width = torch.maximum(3 * sd, 0.05 * mean)  # epoch 0: 3 sd; epochs 1-2: 5% of the mean
    torch.testing.assert_close(torch.tensor(band["mean"]), mean)
    torch.testing.assert_close(torch.tensor(band["low"]), mean - width)
    torch.testing.assert_close(torch.tensor(band["high"]), mean + width)
