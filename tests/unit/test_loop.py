"""`fit`: its history, its checks of counts, and how it stops on NaN/inf (nothing good is lost).

The models and subsets are tiny so that each test takes a second or two on a CPU.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.serialization
from training_helpers import assert_same_weights, poison, step_calling, tiny_ae

from labutils import (
    VAE,
    Autoencoder,
    ae_step,
    evaluate_ae,
    evaluate_vae,
    fit,
    load_checkpoint,
    seed_everything,
    vae_step,
)
from labutils.checkpoint import Checkpointer
from labutils.loop import EpochLog, NonFiniteLoss, NonFiniteLossWarning


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


def train_vae_briefly(images, seed):
    seed_everything(seed)
    model = VAE(4, hidden=(32,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return fit(
        lambda x: vae_step(model, optimizer, x),
        images,
        epochs=2,
        batch_size=100,
        evaluate=lambda: evaluate_vae(model, images[:200]),
        seed=seed,
    )


def test_fit_history_has_one_value_per_epoch_and_step(mnist_test):
    history = train_vae_briefly(mnist_test[0][:1000], seed=0)
    assert len(history["train_total"]) == len(history["test_total"]) == len(history["seconds"]) == 2
    assert len(history["step_total"]) == 2 * 10  # 1000 images / 100 per batch, two epochs
    assert history["train_total"][1] < history["train_total"][0]


def test_epoch_mean_weights_the_short_last_batch(mnist_test):
    seed_everything(0)
    model = Autoencoder(2, hidden=(16,))
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # no change: epoch mean == evaluation
    images = mnist_test[0][:250]
    history = fit(
        lambda x: ae_step(model, frozen, x),
        images,
        epochs=1,
        batch_size=100,
        evaluate=lambda: evaluate_ae(model, images),
    )
    assert history["train_loss"][0] == pytest.approx(history["test_loss"][0], rel=1e-6)


@pytest.mark.parametrize("name, value", [("epochs", 0), ("epochs", 1.5), ("batch_size", -1)])
def test_fit_rejects_bad_counts(mnist_test, name, value):
    kwargs = {"epochs": 1, "batch_size": 10, name: value}
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        fit(lambda x: {}, mnist_test[0][:10], **kwargs)


def loss_as_float(x):
    return float(x.mean())


@pytest.mark.parametrize(
    ("step", "named", "got"),
    [
        (loss_as_float, "the step loss_as_float", "a float (0."),
        (lambda x: x.mean(), "the step (a lambda)", "a float32 tensor of shape ()"),
        (lambda x: (x.mean(), x.std()), "the step (a lambda)", "a tuple of 2 items"),
        (lambda x: {}, "the step (a lambda)", "an empty dict"),
        (lambda x: None, "the step (a lambda)", "None (is a `return` missing?)"),
    ],
)
def test_a_step_that_returns_no_dict_of_metrics_is_named(mnist_test, step, named, got):
    with pytest.raises(TypeError) as error:
        fit(step, mnist_test[0][:10], epochs=1, batch_size=5)
    message = str(error.value)
    assert message.startswith(f"fit: {named} returned {got}"), message
    assert message.endswith(
        'a step must return a dict of metrics, each a 0-d tensor, e.g. {"loss": loss.detach()} '
        "(fit averages them per epoch)."
    )


@pytest.mark.parametrize(
    ("metrics", "says"),
    [
        (lambda x: {"loss": x.mean().item()}, "as a float (0."),
        (lambda x: {"loss": x.mean(), "per_image": x.flatten(1).mean(1)}, "'per_image' as a"),
        (lambda x: {"loss": x.mean().view(1)}, "'loss' as a float32 tensor of shape (1,)"),
    ],
)
def test_a_metric_that_is_not_a_0d_tensor_is_named(mnist_test, metrics, says):
    with pytest.raises(TypeError, match="fit: the step \\(a lambda\\) returned metric") as error:
        fit(metrics, mnist_test[0][:10], epochs=1, batch_size=5)
    assert says in str(error.value)
    if "float (" in says:
        assert "return loss.detach(), not loss.item()" in str(error.value)
    else:
        assert "each metric must be one number, a 0-d tensor" in str(error.value)


def test_a_step_whose_metrics_change_names_is_stopped(mnist_test):
    calls = []

    def changing(x):
        calls.append(None)
        return {"loss" if len(calls) == 1 else "total": x.mean()}

    with pytest.raises(TypeError, match=r"returned the metrics \['total'\], but its first step"):
        fit(changing, mnist_test[0][:10], epochs=1, batch_size=5)


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("step", "ae_step", "fit's step must be a function, e.g. lambda x: ae_step(model, opt"),
        ("evaluate", {"loss": 0.1}, "fit's evaluate must be a function, e.g. lambda: evaluate_"),
        ("seed", 0.5, "fit's seed must be an integer, got a float (0.5)."),
        ("checkpoint", "run.pt", "fit's checkpoint must be a Checkpointer or None, got a str"),
        ("monitor", True, "fit's monitor must be a function, e.g. GANMonitor(train_images)"),
    ],
)
def test_fit_names_an_argument_of_the_wrong_type(mnist_test, argument, value, message):
    arguments = {"step": lambda x: {"loss": x.mean()}, argument: value}
    with pytest.raises(TypeError) as error:
        fit(data=mnist_test[0][:10], epochs=1, batch_size=5, **arguments)
    assert str(error.value).startswith(message), str(error.value)


def test_an_evaluation_that_returns_no_dict_is_named(mnist_test):
    with pytest.raises(TypeError, match="What fit's evaluate\\(\\) returned must be a dict of"):
        fit(lambda x: {"loss": x.mean()}, mnist_test[0][:10], epochs=1, evaluate=lambda: 0.5)
