"""Each step lowers its model's loss; fit records a history; seeds make runs repeat."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from labutils import (
    VAE,
    Autoencoder,
    Discriminator,
    Generator,
    ae_step,
    evaluate_ae,
    evaluate_vae,
    fit,
    fit_dcgan,
    gan_step,
    seed_everything,
    vae_step,
)


def repeat_step(step, images, count=40):
    """Losses of `count` updates on the same batch."""
    return [step(images) for _ in range(count)]


def test_ae_step_lowers_loss_on_one_batch(one_batch):
    seed_everything(0)
    model = Autoencoder(8, hidden=(128,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = [
        float(m["loss"]) for m in repeat_step(lambda x: ae_step(model, optimizer, x), one_batch)
    ]
    assert losses[-1] < 0.7 * losses[0]


def test_vae_step_lowers_loss_on_one_batch(one_batch):
    seed_everything(0)
    model = VAE(8, hidden=(128,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    metrics = repeat_step(lambda x: vae_step(model, optimizer, x), one_batch)
    assert float(metrics[-1]["total"]) < 0.6 * float(metrics[0]["total"])
    last = metrics[-1]
    assert float(last["total"]) == pytest.approx(float(last["reconstruction"]) + float(last["kl"]))


def test_gan_steps_teach_both_players(one_batch):
    """D learns to separate real from fake; G then lowers its loss against a frozen D."""
    seed_everything(0)
    generator, discriminator = Generator(nz=16, width=8), Discriminator(width=8)
    adam = dict(lr=2e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(generator.parameters(), **adam)
    opt_d = torch.optim.Adam(discriminator.parameters(), **adam)
    metrics = repeat_step(
        lambda x: gan_step(generator, discriminator, opt_g, opt_d, x), one_batch, 30
    )
    assert float(metrics[-1]["loss_d"]) < float(metrics[0]["loss_d"])
    assert float(metrics[-1]["d_real"]) > float(metrics[0]["d_real"])

    frozen_d = torch.optim.SGD(discriminator.parameters(), lr=0.0)
    before = float(gan_step(generator, discriminator, opt_g, frozen_d, one_batch)["loss_g"])
    after = repeat_step(
        lambda x: gan_step(generator, discriminator, opt_g, frozen_d, x), one_batch, 30
    )
    assert float(after[-1]["loss_g"]) < before


def textbook_gan_update(generator, discriminator, images, lr):
    """One SGD update of D, then of G, written out with plain full backward passes."""
    real = images * 2 - 1
    fake = generator(torch.randn(real.shape[0], generator.nz))
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    loss_d = loss_real + loss_fake
    d_gradients = torch.autograd.grad(loss_d, list(discriminator.parameters()))
    with torch.no_grad():
        for parameter, gradient in zip(discriminator.parameters(), d_gradients, strict=True):
            parameter -= lr * gradient
    logits = discriminator(fake)
    loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    g_gradients = torch.autograd.grad(loss_g, list(generator.parameters()))
    with torch.no_grad():
        for parameter, gradient in zip(generator.parameters(), g_gradients, strict=True):
            parameter -= lr * gradient


def test_gan_step_equals_the_textbook_update(one_batch):
    """The same parameters as an independent two-update computation with autograd.grad."""
    seed_everything(0)
    generator, discriminator = Generator(nz=16, width=8), Discriminator(width=8)
    reference_g, reference_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.05)
    torch.manual_seed(1)
    gan_step(generator, discriminator, opt_g, opt_d, one_batch)
    torch.manual_seed(1)
    textbook_gan_update(reference_g, reference_d, one_batch, lr=0.05)
    for model, reference in ((generator, reference_g), (discriminator, reference_d)):
        for parameter, expected in zip(model.parameters(), reference.parameters(), strict=True):
            torch.testing.assert_close(parameter, expected, rtol=1e-4, atol=1e-6)


def test_gan_step_leaves_a_frozen_generator_layer_alone(one_batch):
    generator, discriminator = Generator(nz=16, width=8), Discriminator(width=8)
    frozen = generator.net[-2].weight
    frozen.requires_grad_(False)
    before, others_before = frozen.clone(), generator.net[0].weight.clone()
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)  # the frozen one gets no grad
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    gan_step(generator, discriminator, opt_g, opt_d, one_batch)
    assert torch.equal(frozen, before)
    assert not torch.equal(generator.net[0].weight, others_before)


def test_fit_dcgan_hands_the_models_back_in_the_default_layout(one_batch):
    """It trains them channels-last on the CPU; afterwards each weight is contiguous again."""
    generator, discriminator = Generator(nz=8, width=4), Discriminator(width=4)
    noise = torch.randn(4, 8)
    fit_dcgan(generator, discriminator, one_batch, epochs=1, fixed_noise=noise, monitor=False)
    assert all(p.is_contiguous() for p in [*generator.parameters(), *discriminator.parameters()])


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


def test_same_seed_same_history_different_seed_differs(mnist_test):
    images = mnist_test[0][:600]
    first, second = train_vae_briefly(images, 3), train_vae_briefly(images, 3)
    other = train_vae_briefly(images, 4)
    keys = ["step_total", "train_total", "test_total"]
    assert all(first[k] == second[k] for k in keys)  # bit-identical floats
    assert first["step_total"] != other["step_total"]


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
