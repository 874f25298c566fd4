"""The course registry: one place for the models' settings, and `trained` builds, trains and
saves each model exactly as its chapter does, under the checkpoint name its chapter uses."""

from __future__ import annotations

import pytest
import torch

from labutils import (
    VAE,
    Autoencoder,
    Discriminator,
    Generator,
    fit_autoencoder,
    fit_dcgan,
    load_mnist,
    seed_everything,
)
from labutils.course import (
    COURSE_MODELS,
    SMOKE_CHANGES,
    course_settings,
    seed_receipt,
    trained,
    training_budget,
)
from labutils.models import ConvVAE


@pytest.fixture()
def images() -> tuple[torch.Tensor, torch.Tensor]:
    """300 training and 100 test images."""
    return load_mnist("train", limit=300)[0], load_mnist("test", limit=100)[0]


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Whether two models hold bit-identical weights and buffers."""
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


def test_smoke_mode_changes_only_the_epochs_and_the_images_seen():
    for name in COURSE_MODELS:
        full, smoke = course_settings(name, smoke=False), course_settings(name, smoke=True)
        assert full["train_limit"] is None
        changed = {key for key in full if full[key] != smoke[key]}
        assert changed <= {"epochs", "train_limit"} and smoke["epochs"] == 1
        assert set(SMOKE_CHANGES[name]) == {"epochs", "train_limit"}


def test_an_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match=r"No course model 'gan'; choose one of \['ae', "):
        course_settings("gan", smoke=False)


def test_the_autoencoder_is_trained_as_chapter_1_trains_it_and_then_loaded(images, tmp_path):
    train_images, test_images = images
    result = trained("ae", train_images, test_images, checkpoints=tmp_path, smoke=True)
    assert (tmp_path / "ae-latent20.pt").exists()

    seed_everything(0)  # chapter 1's cell, with the smoke settings
    expected = Autoencoder(latent_dim=20)
    fit_autoencoder(expected, train_images[:2000], test_images, epochs=1)
    assert isinstance(result.model, Autoencoder) and same_weights(result.model, expected)

    # now from the checkpoint:
    again = trained("ae", train_images, test_images, checkpoints=tmp_path, smoke=True)
    assert same_weights(again.model, expected)
    assert again.history["test_loss"] == result.history["test_loss"]


def fit_dcgan_samples(generator: Generator, noise: torch.Tensor) -> torch.Tensor:
    """What the generator makes of `noise` in eval mode (the history's last snapshot)."""
    with torch.no_grad():
        return generator.eval()(noise)


def test_the_dcgan_is_trained_as_chapter_3_trains_it(images, tmp_path):
    train_images, test_images = images
    result = trained("dcgan", train_images, test_images, checkpoints=tmp_path, smoke=True)
    settings = COURSE_MODELS["dcgan"]

    seed_everything(0)  # chapter 3's cell, with the smoke settings
    generator = Generator(nz=settings["nz"], width=settings["width"])
    discriminator = Discriminator(width=settings["width"])
    fixed_noise = torch.randn(64, settings["nz"])
    fit_dcgan(
        generator,
        discriminator,
        train_images[:1024],
        epochs=1,
        fixed_noise=fixed_noise,
        batch_size=settings["batch_size"],
    )
    assert result.model is result.models["generator"]
    assert same_weights(result.models["generator"], generator)
    assert same_weights(result.models["discriminator"], discriminator)
    # equal up to rounding: older PyTorch (2.6 to 2.8) rounds the two computations differently
    torch.testing.assert_close(
        result.history["samples"][0], fit_dcgan_samples(generator, fixed_noise)
    )


@pytest.mark.parametrize(("name", "kind"), [("vae", VAE), ("conv_vae", ConvVAE)])
def test_each_vae_gets_its_own_checkpoint_and_an_epoch_override(images, name, kind, tmp_path):
    result = trained(name, *images, checkpoints=tmp_path, smoke=True, epochs=2)
    assert isinstance(result.model, kind)
    assert len(result.history["test_total"]) == 2
    assert (tmp_path / f"{COURSE_MODELS[name]['checkpoint']}.pt").exists()


def test_the_budget_matched_vae_differs_from_the_conv_vae_in_its_architecture_only():
    matched, conv = training_budget("vae_matched", False), training_budget("conv_vae", False)
    assert {key for key in matched if matched[key] != conv[key]} == {"BatchNorm"}
    assert conv["BatchNorm"] and not matched["BatchNorm"]
    assert matched["latent size"] == 20
    assert course_settings("vae_matched", False)["epochs"] < course_settings("vae", False)["epochs"]


def test_the_training_budget_counts_the_updates_a_run_makes(images, tmp_path):
    result = trained("vae_matched", *images, checkpoints=tmp_path, smoke=True)
    budget = training_budget("vae_matched", smoke=True, train_count=len(images[0]))
    assert budget["updates"] == len(result.history["step_total"])  # 300 images, batch 128: 3
    assert budget["learning rate"] == 1e-3 and training_budget("dcgan", False)["latent size"] == 100


def test_another_seed_trains_another_model_under_its_own_checkpoint_name(images, tmp_path):
    first = trained("vae_matched", *images, checkpoints=tmp_path, smoke=True)
    other = trained("vae_matched", *images, checkpoints=tmp_path, smoke=True, seed=1)
    stem = COURSE_MODELS["vae_matched"]["checkpoint"]
    assert (tmp_path / f"{stem}.pt").exists() and (tmp_path / f"{stem}-seed1.pt").exists()
    assert not same_weights(first.model, other.model)
    again = trained("vae_matched", *images, checkpoints=tmp_path, smoke=True, seed=1)
    assert same_weights(again.model, other.model)


def test_a_missing_seed_receipt_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make seeds`"):
        seed_receipt(tmp_path / "seeds.json")
