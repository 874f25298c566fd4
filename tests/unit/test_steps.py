"""The step functions: each lowers its loss on one batch, and gan_step is the textbook update."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
import torch.serialization

from labutils import (
    VAE,
    Autoencoder,
    Discriminator,
    Generator,
    ae_step,
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


def step_of(name, seed=0):
    """(`name` step on fresh tiny models, with its optimizers) as a function of the images."""
    seed_everything(seed)
    if name == "gan_step":
        generator, discriminator = Generator(nz=8, width=4), Discriminator(width=4)
        opt_g = torch.optim.SGD(generator.parameters(), lr=0.0)
        opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.0)
        return lambda x: gan_step(generator, discriminator, opt_g, opt_d, x)
    model = Autoencoder(2, hidden=(8,)) if name == "ae_step" else VAE(2, hidden=(8,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    step = ae_step if name == "ae_step" else vae_step
    return lambda x: step(model, optimizer, x)


@pytest.mark.parametrize("name", ["ae_step", "vae_step", "gan_step"])
def test_steps_reject_pixels_in_0_255(one_batch, name):
    with pytest.raises(ValueError, match=f"^{name} expects pixels in \\[0, 1\\], but they go up"):
        step_of(name)(one_batch * 255)


@pytest.mark.parametrize("name", ["ae_step", "vae_step", "gan_step"])
def test_steps_reject_pixels_in_the_generators_range(one_batch, name):
    with pytest.raises(ValueError, match="which looks like the generator's \\[-1, 1\\] range"):
        step_of(name)(one_batch * 2 - 1)


@pytest.mark.parametrize("name", ["ae_step", "vae_step", "gan_step"])
def test_steps_take_images_in_the_unit_range(one_batch, name):
    metrics = step_of(name)(one_batch[:8])
    assert all(value.dim() == 0 for value in metrics.values())


def test_off_the_cpu_a_step_reads_its_pixels_on_a_schedule(one_batch, monkeypatch):
    """On a GPU a range check waits for the device: it runs on the 1st, 101st, ... call."""
    from labutils import _validate

    checked = []
    monkeypatch.setattr(_validate, "check_unit_range", lambda images, who: checked.append(who))
    monkeypatch.setattr(_validate, "step_calls", {})
    meta = one_batch[:4].to("meta")  # a tensor off the CPU that holds no data
    for _ in range(2 * _validate.STEP_CHECK_EVERY + 1):
        _validate.check_step_images(meta, "vae_step")
    assert checked == ["vae_step"] * 3
    for _ in range(3):
        _validate.check_step_images(one_batch[:4], "ae_step")  # on the CPU: every call
    assert checked == ["vae_step"] * 3 + ["ae_step"] * 3
