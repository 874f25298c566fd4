"""Checkpoints: round trip, atomic writes, and clear errors for files that do not fit."""

from __future__ import annotations

import re

import pytest
import torch
import torch.serialization
from training_helpers import interrupt, step_calling

import labutils.recipes
from labutils import (
    VAE,
    Autoencoder,
    CheckpointError,
    Generator,
    fit_vae,
    load_checkpoint,
    save_checkpoint,
    train_or_load,
)


def test_round_trip_restores_weights_and_extra(tmp_path):
    path = tmp_path / "vae.pt"
    saved = VAE(3, hidden=(16,))
    save_checkpoint(path, {"vae": saved}, history={"train_total": [1.5, 1.2]})
    loaded = VAE(3, hidden=(16,))
    extra = load_checkpoint(path, {"vae": loaded})
    assert extra["history"]["train_total"] == [1.5, 1.2]
    for a, b in zip(saved.parameters(), loaded.parameters(), strict=True):
        assert torch.equal(a, b)


def test_other_latent_size_names_the_setting(tmp_path):
    path = tmp_path / "vae.pt"
    save_checkpoint(path, {"vae": VAE(2, hidden=(16,))})
    with pytest.raises(
        CheckpointError, match="saved with latent_dim=2, but this model has latent_dim=20"
    ):
        load_checkpoint(path, {"vae": VAE(20, hidden=(16,))})


def test_other_model_class_is_named(tmp_path):
    path = tmp_path / "ae.pt"
    save_checkpoint(path, {"model": Autoencoder(2)})
    with pytest.raises(CheckpointError, match="saved from a model of class Autoencoder, not VAE"):
        load_checkpoint(path, {"model": VAE(2)})


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("these are my notes")
    with pytest.raises(CheckpointError, match="not a readable labutils checkpoint"):
        load_checkpoint(path, {"model": VAE(2)})


def test_a_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "vae.pt"
    save_checkpoint(path, {"vae": VAE(2, hidden=(8,))}, history={"epoch": [1]})

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"vae": VAE(2, hidden=(8,))}, history={"epoch": [2]})
    monkeypatch.undo()
    assert load_checkpoint(path, {"vae": VAE(2, hidden=(8,))})["history"] == {"epoch": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["vae.pt"]  # no temporary file left behind


def test_a_checkpoint_of_another_noise_size_names_it(tmp_path):
    path = tmp_path / "dcgan.pt"
    save_checkpoint(path, {"generator": Generator(nz=8, width=4)})
    with pytest.raises(CheckpointError, match="saved with nz=8, but this model has nz=100"):
        load_checkpoint(path, {"generator": Generator(nz=100, width=4)})


def test_a_bare_state_dict_is_not_a_labutils_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(VAE(2).state_dict(), path)
    with pytest.raises(CheckpointError, match="is a PyTorch file but not a labutils checkpoint"):
        load_checkpoint(path, {"model": VAE(2)})


def test_a_pickled_object_is_refused_not_executed(tmp_path):
    """weights_only=True: a checkpoint cannot run code, so a pickled model is refused."""
    path = tmp_path / "model.pt"
    torch.save(VAE(2), path)
    with pytest.raises(CheckpointError, match="Python objects besides tensors, which labutils"):
        load_checkpoint(path, {"model": VAE(2)})


def test_an_empty_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "empty.pt"
    path.touch()
    with pytest.raises(
        CheckpointError, match=r"empty.pt is not a readable labutils checkpoint \(EOF"
    ):
        load_checkpoint(path, {"model": VAE(2)})


def test_train_or_load_does_not_save_a_stopped_run(tmp_path, mnist_test, monkeypatch):
    path = tmp_path / "vae.pt"
    monkeypatch.setattr(
        labutils.recipes, "vae_step", step_calling(interrupt, 2, labutils.recipes.vae_step)
    )
    model = VAE(2, hidden=(16,))
    images = mnist_test[0][:100]
    history = train_or_load(
        path, {"model": model}, lambda: fit_vae(model, images, images, epochs=1, batch_size=25)
    )
    assert history["stopped"] and not path.exists()


def test_checkpoints_are_read_with_weights_only_onto_the_cpu(tmp_path, monkeypatch):
    path = tmp_path / "vae.pt"
    save_checkpoint(path, {"model": VAE(2)})
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    load_checkpoint(path, {"model": VAE(2)})
    assert calls == [{"map_location": "cpu", "weights_only": True}]


def test_train_or_load_says_what_it_trains_and_how_long_it_took(tmp_path, capsys):
    path, model = tmp_path / "ae.pt", Autoencoder(latent_dim=2)
    parameters = sum(p.numel() for p in model.parameters())
    train_or_load(path, {"model": model}, lambda: {"test_loss": [0.5]})
    said = capsys.readouterr().out.splitlines()
    assert said[0] == (
        f"Training the Autoencoder ({parameters:,} parameters) now (no checkpoint at {path})."
    )
    assert re.fullmatch(
        rf"Trained in \d+ s and saved to {re.escape(str(path))}: the next .*", said[1]
    )
    duration = "about 45 s on a 2-core CPU"
    train_or_load(path, {"model": model}, lambda: {"test_loss": [0.4]}, True, duration)
    assert f"now (RETRAIN is set), {duration}." in capsys.readouterr().out
    assert train_or_load(path, {"model": model}, lambda: {}) == {"test_loss": [0.4]}
    assert capsys.readouterr().out.startswith(f"Loaded trained weights from {path}")


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("path", 3, "train_or_load's path must be a file path (str or Path), got a int (3)."),
        ("models", Autoencoder(2), "train_or_load's models must be a dict of named models"),
        ("models", {"model": "ae"}, "train_or_load's models['model'] must be a torch.nn.Module"),
        ("train", {"test_loss": [0.5]}, "train_or_load's train must be a function, e.g. lambda"),
        ("retrain", "False", "train_or_load's retrain must be True or False (e.g. RETRAIN)"),
        ("duration", 45, "train_or_load's duration must be a string or None, got a int (45)."),
    ],
)
def test_train_or_load_names_an_argument_of_the_wrong_type(tmp_path, argument, value, message):
    arguments = {
        "path": tmp_path / "ae.pt",
        "models": {"model": Autoencoder(2)},
        "train": lambda: {"test_loss": [0.5]},
        argument: value,
    }
    with pytest.raises(TypeError) as error:
        train_or_load(**arguments)
    assert str(error.value).startswith(message), str(error.value)
    assert not (tmp_path / "ae.pt").exists()


def test_train_or_load_says_when_training_returns_no_history(tmp_path):
    path = tmp_path / "ae.pt"
    with pytest.raises(TypeError, match="What train_or_load's train\\(\\) returned must be the h"):
        train_or_load(path, {"model": Autoencoder(2)}, lambda: None)
    assert not path.exists()
