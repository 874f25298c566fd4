"""Issue 9: bad input gets one clear error; NaNs, Ctrl+C and crashes never lose work; runs repeat.

The models and subsets are tiny so that each test takes a second or two on a CPU.
"""

from __future__ import annotations

import gzip
import math
import re
import shutil
from pathlib import Path

import pytest
import torch
import torch.serialization

import labutils.recipes
from labutils import (
    VAE,
    Autoencoder,
    CheckpointError,
    DataError,
    Discriminator,
    Generator,
    ae_step,
    fit,
    fit_autoencoder,
    fit_dcgan,
    fit_vae,
    get_device,
    load_checkpoint,
    load_mnist,
    prepare_mnist,
    save_checkpoint,
    seed_everything,
    train_or_load,
    vae_loss,
)
from labutils.checkpoint import Checkpointer
from labutils.data import default_root
from labutils.loop import EpochLog, NonFiniteLoss, NonFiniteLossWarning


def tiny_ae(seed: int = 0) -> tuple[Autoencoder, torch.optim.Optimizer]:
    """A 784-16-2 autoencoder and its Adam optimizer, initialised from `seed`."""
    seed_everything(seed)
    model = Autoencoder(2, hidden=(16,))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def tiny_gan(seed: int = 0) -> tuple[Generator, Discriminator]:
    """A DCGAN pair of width 4 with 8 noise dimensions, initialised from `seed`."""
    seed_everything(seed)
    return Generator(nz=8, width=4), Discriminator(width=4)


def without_timing(history: dict) -> dict:
    """The history minus wall times and the stop message: what must repeat bit for bit."""
    return {k: v for k, v in history.items() if k not in ("seconds", "stopped")}


def assert_same_history(a: dict, b: dict) -> None:
    """Bit-identical histories: equal float lists, equal tensors."""
    a, b = without_timing(a), without_timing(b)
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], torch.Tensor):
            assert torch.equal(a[name], b[name]), name
        else:
            assert a[name] == b[name], name


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """Every parameter and buffer bit-identical."""
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name


def step_calling(action, at: int, step):
    """`step`, except that call number `at` (from 1) runs `action()` first."""
    calls = []

    def wrapped(*batch):
        calls.append(None)
        if len(calls) == at:
            action()
        return step(*batch)

    wrapped.calls = calls
    return wrapped


def poison(model: torch.nn.Module) -> None:
    """Set one weight to NaN, as an exploding update would."""
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] = math.nan


def interrupt() -> None:
    """What Ctrl+C, or Jupyter's stop button, raises in the running code."""
    raise KeyboardInterrupt


# ---------------------------------------------------------------- bad input, one clear error each


def test_a_loss_rejects_flat_images_and_says_the_expected_shape():
    flat = torch.rand(5, 784)
    mu = logvar = torch.zeros(5, 2)
    with pytest.raises(
        ValueError, match=r"reconstruction_bce \(images\) expects images of shape \(N, 1, 28, 28\)"
    ):
        vae_loss(flat, flat, mu, logvar)


def test_a_loss_rejects_uint8_images_with_the_fix():
    pixels = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(TypeError, match=r"got dtype torch.uint8. .*images.float\(\) / 255"):
        vae_loss(torch.zeros(2, 1, 28, 28), pixels, torch.zeros(2, 2), torch.zeros(2, 2))


def test_a_loss_rejects_logits_that_do_not_match_the_images():
    with pytest.raises(ValueError, match=r"logits \(2, 1, 28, 28\) must have the images' shape"):
        vae_loss(
            torch.zeros(2, 1, 28, 28),
            torch.rand(3, 1, 28, 28),
            torch.zeros(3, 2),
            torch.zeros(3, 2),
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


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: Autoencoder(latent_dim=-2), "latent_dim"),
        (lambda: Generator(width=1.5), "width"),
        (lambda: Generator(nz=0), "nz"),
    ],
)
def test_model_settings_must_be_positive_integers(build, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        build()


def test_unknown_device_in_the_environment_says_where_it_came_from(monkeypatch):
    monkeypatch.setenv("LABUTILS_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"Unknown device 'gpu'.*in \$LABUTILS_DEVICE"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_numbered_cuda_device_without_gpu_says_how_to_fall_back():
    with pytest.raises(RuntimeError, match="'cuda:1' was requested but PyTorch sees no CUDA GPU"):
        get_device("cuda:1")


def copy_of_data(tmp_path: Path) -> Path:
    """A private copy of the shipped data folder (the .gz files and MD5SUMS.raw)."""
    root = tmp_path / "data"
    root.mkdir()
    for path in [*default_root().glob("*.gz"), default_root() / "MD5SUMS.raw"]:
        shutil.copy(path, root)
    return root


def test_a_missing_file_is_named_with_how_to_restore_it(tmp_path):
    root = copy_of_data(tmp_path)
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz is missing. Restore it with"):
        prepare_mnist(root)


def test_a_truncated_decompressed_file_is_rebuilt_from_the_shipped_one(tmp_path, mnist_test):
    root = copy_of_data(tmp_path)
    raw = prepare_mnist(root) / "t10k-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:100_000])  # a copy cut short, e.g. by a full disk
    images, _ = load_mnist("test", root=root)
    assert torch.equal(images, mnist_test[0])


def test_a_truncated_decompressed_file_with_a_corrupt_source_names_both_md5s(tmp_path):
    root = copy_of_data(tmp_path)
    name = "t10k-labels-idx1-ubyte"
    raw = prepare_mnist(root) / name
    raw.write_bytes(raw.read_bytes()[:5000])
    payload = bytearray(gzip.decompress((root / f"{name}.gz").read_bytes()))
    payload[9] ^= 1
    (root / f"{name}.gz").write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(DataError) as error:
        load_mnist("test", root=root)
    assert f"{name}.gz decompresses to data with MD5" in str(error.value)
    assert "expected 27ae3e4e09519cfbb04c329615203637" in str(error.value)
    assert f"git checkout -- data/{name}.gz" in str(error.value)


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


# ---------------------------------------------------------------- numerical faults


def train_ae(images, step_wrapper=None, checkpoint=None, epochs=3):
    """fit a tiny autoencoder, 5 steps of 20 per epoch; `step_wrapper(step, model)` may poison."""
    model, optimizer = tiny_ae()
    step = lambda x: ae_step(model, optimizer, x)  # noqa: E731
    if step_wrapper:
        step = step_wrapper(step, model)
    if checkpoint:
        checkpoint = Checkpointer(checkpoint, {"model": model}, {"optimizer": optimizer})
    history = fit(step, images, epochs=epochs, batch_size=20, checkpoint=checkpoint)
    return model, history, step


def test_a_nan_loss_stops_at_once_keeps_the_last_good_checkpoint(tmp_path, mnist_test):
    images = mnist_test[0][:100]
    _, clean, _ = train_ae(images, epochs=2)
    path = tmp_path / "ae.pt"
    with pytest.warns(NonFiniteLossWarning) as caught:
        model, history, step = train_ae(
            images, lambda step, model: step_calling(lambda: poison(model), 7, step), path
        )
    message = str(caught[0].message)
    assert len(step.calls) == 7  # no step ran after the bad one
    assert "loss was nan at epoch 2, step 2 of 5" in message
    assert f"the last finite value was {clean['step_loss'][5]}" in message
    assert f"{path} holds the run after epoch 1" in message
    assert history["step_loss"] == clean["step_loss"][:6]  # the history so far
    assert history["train_loss"] == clean["train_loss"][:1]
    saved = Autoencoder(2, hidden=(16,))
    assert load_checkpoint(path, {"model": saved})["epoch"] == 1
    assert_same_weights(model, saved)  # the good weights were loaded back
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_non_finite_weights_are_never_saved(tmp_path, mnist_test):
    """A last update that breaks the weights (its loss still finite) stops before the save."""
    path = tmp_path / "ae.pt"

    def poison_after(step, model):
        calls = []

        def wrapped(x):
            calls.append(None)
            metrics = step(x)
            if len(calls) == 10:  # the last step of epoch 2
                poison(model)
            return metrics

        return wrapped

    with pytest.warns(NonFiniteLossWarning, match="a weight was nan at epoch 2, after its last"):
        _, history, _ = train_ae(mnist_test[0][:100], poison_after, path)
    assert load_checkpoint(path, {"model": Autoencoder(2, hidden=(16,))})["epoch"] == 1
    assert len(history["train_loss"]) == 1


def test_a_nan_without_checkpoint_says_so_and_returns_what_it_has(mnist_test):
    with pytest.warns(NonFiniteLossWarning, match="No checkpoint was saved") as caught:
        _, history, _ = train_ae(
            mnist_test[0][:100], lambda step, model: step_calling(lambda: poison(model), 1, step)
        )
    assert "last finite value" not in str(caught[0].message)  # there was none
    assert "train_loss" not in history and history["stopped"]


def test_a_non_finite_evaluation_stops_training_too(mnist_test):
    results = iter([{"loss": 0.5}, {"loss": math.inf}])
    with pytest.warns(NonFiniteLossWarning, match="test_loss was inf at epoch 2, in the evalu"):
        history = fit(
            lambda x: {"loss": x.mean()},
            mnist_test[0][:10],
            epochs=3,
            batch_size=5,
            evaluate=lambda: next(results),
        )
    assert history["test_loss"] == [0.5]


def test_a_check_of_many_steps_names_the_first_bad_one():
    """On a GPU the steps are checked once, at the end of the epoch; the first bad one is named."""
    log = EpochLog(epoch=3, steps=10)
    for value in [1.0, 2.0, 3.0, 4.0, 5.0, math.nan, 7.0, math.inf]:
        log.add({"loss": torch.tensor(value)}, 1)
    with pytest.raises(NonFiniteLoss, match="loss was nan at epoch 3, step 6 of 10"):
        log.check()
    assert [float(m["loss"]) for m in log.metrics] == [1.0, 2.0, 3.0, 4.0, 5.0]


# ---------------------------------------------------------------- interruption and resumption


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


# ---------------------------------------------------------------- checkpoints


def test_checkpoints_are_read_with_weights_only_onto_the_cpu(tmp_path, monkeypatch):
    path = tmp_path / "vae.pt"
    save_checkpoint(path, {"model": VAE(2)})
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    load_checkpoint(path, {"model": VAE(2)})
    assert calls == [{"map_location": "cpu", "weights_only": True}]


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


# ---------------------------------------------------------------- reproducibility


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
