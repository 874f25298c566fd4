"""The recipes: argument checks, checkpoints that resume exactly after Ctrl+C, runs that repeat.

The models and subsets are tiny so that each test takes a second or two on a CPU.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.serialization
from training_helpers import (
    assert_same_history,
    assert_same_weights,
    interrupt,
    step_calling,
    tiny_ae,
    tiny_gan,
)

import labutils.recipes
from labutils import (
    VAE,
    Autoencoder,
    CheckpointError,
    Discriminator,
    Generator,
    fit,
    fit_autoencoder,
    fit_dcgan,
    fit_vae,
    save_checkpoint,
    seed_everything,
)


@pytest.mark.parametrize("lr", [math.nan, -1, 0, math.inf, "0.1", True])
def test_every_recipe_rejects_a_learning_rate_that_is_not_a_positive_number(lr, mnist_test):
    images = mnist_test[0][:10]
    expected = re.escape(f"lr must be a positive finite number, got {lr!r}.")
    with pytest.raises(ValueError, match=expected):
        fit_autoencoder(Autoencoder(2), images, images, epochs=1, lr=lr)
    with pytest.raises(ValueError, match=expected):
        fit_vae(VAE(2), images, images, epochs=1, lr=lr)
    with pytest.raises(ValueError, match=expected):
        fit_dcgan(*tiny_gan(), images, epochs=1, fixed_noise=torch.randn(4, 8), lr=lr)


def test_the_discriminator_learning_rate_is_checked_too(mnist_test):
    with pytest.raises(ValueError, match="lr_d must be a positive finite number, got -0.001"):
        fit_dcgan(
            *tiny_gan(), mnist_test[0][:8], epochs=1, fixed_noise=torch.randn(4, 8), lr_d=-1e-3
        )


@pytest.mark.parametrize(
    "name, value", [("epochs", 0), ("epochs", "3"), ("batch_size", 2.5), ("batch_size", True)]
)
def test_recipes_reject_counts_that_are_not_positive_integers(name, value, mnist_test):
    images = mnist_test[0][:10]
    kwargs = {"epochs": 1, "batch_size": 5, name: value}
    with pytest.raises(ValueError, match=re.escape(f"{name} must be a positive integer, got")):
        fit_vae(VAE(2), images, images, **kwargs)


def test_resuming_from_weights_without_training_state_says_so(tmp_path, mnist_test):
    path = tmp_path / "vae.pt"
    save_checkpoint(path, {"model": VAE(2)}, history={})  # as train_or_load writes it
    with pytest.raises(CheckpointError, match="no training state .* cannot resume"):
        fit_vae(
            VAE(2),
            mnist_test[0][:10],
            mnist_test[0][:10],
            epochs=1,
            checkpoint_path=path,
            resume=True,
        )


def test_resume_without_a_checkpoint_path_is_refused(mnist_test):
    with pytest.raises(ValueError, match="resume=True needs the checkpoint_path"):
        fit_vae(VAE(2), mnist_test[0][:10], mnist_test[0][:10], epochs=1, resume=True)


def train_vae(images, path, resume=False, seed=0):
    """fit_vae on a tiny VAE: 4 steps of 25 per epoch, 3 epochs, checkpointed at `path`."""
    seed_everything(seed)
    model = VAE(2, hidden=(16,))
    history = fit_vae(
        model, images, images[:50], epochs=3, batch_size=25, checkpoint_path=path, resume=resume
    )
    return model, history


def test_ctrl_c_returns_the_history_and_resuming_repeats_the_run_exactly(
    tmp_path, mnist_test, monkeypatch, capsys
):
    images = mnist_test[0][:100]
    whole_model, whole = train_vae(images, tmp_path / "whole.pt")
    path = tmp_path / "interrupted.pt"
    monkeypatch.setattr(
        labutils.recipes, "vae_step", step_calling(interrupt, 6, labutils.recipes.vae_step)
    )
    _, partial = train_vae(images, path)
    assert f"Interrupted at epoch 2, after step 1 of 4. The checkpoint {path} holds the run " in (
        capsys.readouterr().out
    )
    assert len(partial["train_total"]) == 1 and len(partial["step_total"]) == 5
    monkeypatch.undo()

    resumed_model, resumed = train_vae(images, path, resume=True, seed=123)  # another init
    assert "Resuming from" in capsys.readouterr().out
    assert_same_history(resumed, whole)
    assert_same_weights(resumed_model, whole_model)


def test_an_interrupted_dcgan_resumes_exactly(tmp_path, mnist_test, monkeypatch):
    """Two optimizers, BatchNorm statistics and the noise generator all come back."""
    images, noise = mnist_test[0][:64], torch.randn(4, 8)

    def run(path, resume=False, seed=0):
        generator, discriminator = tiny_gan(seed)
        history = fit_dcgan(
            generator, discriminator, images, epochs=3, batch_size=16, fixed_noise=noise,
            checkpoint_path=path, resume=resume,
        )  # fmt: skip
        return generator, history

    whole_generator, whole = run(tmp_path / "whole.pt")
    monkeypatch.setattr(
        labutils.recipes, "gan_step", step_calling(interrupt, 11, labutils.recipes.gan_step)
    )
    _, partial = run(tmp_path / "cut.pt")
    assert "samples" in partial and partial["samples"].shape[0] == 2
    monkeypatch.undo()
    generator, resumed = run(tmp_path / "cut.pt", resume=True, seed=5)
    assert_same_history(resumed, whole)
    assert_same_weights(generator, whole_generator)


def test_ctrl_c_between_epochs_records_each_step_once(mnist_test, capsys):
    def monitor(history):
        raise KeyboardInterrupt

    history = fit(
        lambda x: {"loss": x.mean()}, mnist_test[0][:10], epochs=3, batch_size=5, monitor=monitor
    )
    assert len(history["step_loss"]) == 2 and len(history["train_loss"]) == 1
    assert "Interrupted after epoch 1. No checkpoint was saved" in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_checkpoint_saved_on_a_gpu_resumes_on_a_cpu(tmp_path, mnist_test, monkeypatch):
    """Tensors are tagged as living on cuda:0, as torch.save records them on a GPU machine.

    Limit: the tensors' bytes are CPU ones here; what is tested is that every tensor of a
    GPU-saved training state (weights, Adam moments, RNG states) is mapped onto the CPU.
    """
    images = mnist_test[0][:100]
    _, whole = train_vae(images, tmp_path / "whole.pt")
    path = tmp_path / "gpu.pt"
    monkeypatch.setattr(
        labutils.recipes, "vae_step", step_calling(interrupt, 5, labutils.recipes.vae_step)
    )
    with monkeypatch.context() as gpu:
        gpu.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        train_vae(images, path)
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="CUDA device but torch.cuda.is_available"):
        torch.load(path, weights_only=True)  # what a plain load does on this machine
    _, resumed = train_vae(images, path, resume=True)
    assert_same_history(resumed, whole)


def test_same_seed_same_autoencoder_history(mnist_test):
    images = mnist_test[0][:100]
    runs = [fit_autoencoder(tiny_ae(7)[0], images, images, epochs=2, batch_size=25, seed=7)]
    runs.append(fit_autoencoder(tiny_ae(7)[0], images, images, epochs=2, batch_size=25, seed=7))
    assert_same_history(*runs)


def test_same_seed_same_vae_history_other_seed_differs(mnist_test, tmp_path):
    images = mnist_test[0][:100]
    (_, first), (_, second) = train_vae(images, None, seed=3), train_vae(images, None, seed=3)
    assert_same_history(first, second)
    assert train_vae(images, None, seed=4)[1]["step_total"] != first["step_total"]


def test_same_seed_same_dcgan_history_and_samples(mnist_test):
    images, noise = mnist_test[0][:64], torch.randn(4, 8)
    runs = [
        fit_dcgan(*tiny_gan(1), images, epochs=2, batch_size=16, fixed_noise=noise, seed=1)
        for _ in range(2)
    ]
    assert_same_history(*runs)


def test_fit_dcgan_hands_the_models_back_in_the_default_layout(one_batch):
    """It trains them channels-last on the CPU; afterwards each weight is contiguous again."""
    generator, discriminator = Generator(nz=8, width=4), Discriminator(width=4)
    noise = torch.randn(4, 8)
    fit_dcgan(generator, discriminator, one_batch, epochs=1, fixed_noise=noise, monitor=False)
    assert all(p.is_contiguous() for p in [*generator.parameters(), *discriminator.parameters()])
