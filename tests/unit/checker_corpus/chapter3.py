"""Answers to Exercises 3.1 (my_discriminator_step) and 3.2 (my_smoothed_discriminator_loss)."""

import numpy as np
import torch
import torch.nn.functional as F

from labutils.losses import discriminator_loss

from . import right, wrong

bce = F.binary_cross_entropy_with_logits

# --- Exercise 3.1: one discriminator step -----------------------------------------------------


@right("3.1")
def the_chapters_step(generator, discriminator, optimizer_d, real, noise):
    generator.train()
    discriminator.train()
    fake = generator(noise).detach()
    optimizer_d.zero_grad()
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = bce(real_logits, torch.ones_like(real_logits)) + bce(
        fake_logits, torch.zeros_like(fake_logits)
    )
    loss.backward()
    optimizer_d.step()
    return loss.item()


@right("3.1")
def library_loss_under_no_grad(g, d, opt, x, z):
    opt.zero_grad()
    with torch.no_grad():
        fake = g(z)
    loss = discriminator_loss(d(x), d(fake))
    loss.backward()
    opt.step()
    return float(loss.detach())


@right("3.1")
def one_pass_over_both_halves(generator, discriminator, optimizer_d, real, noise):
    optimizer_d.zero_grad()
    logits = discriminator(torch.cat([real, generator(noise).detach()]))
    loss = discriminator_loss(logits[: len(real)], logits[len(real) :])
    loss.backward()
    optimizer_d.step()
    return loss.item()


@right("3.1")
def freezes_and_restores_the_generator(generator, discriminator, optimizer_d, real, noise):
    generator.requires_grad_(False)
    optimizer_d.zero_grad()
    loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    loss.backward()
    optimizer_d.step()
    generator.requires_grad_(True)
    return np.float32(loss.item())


@right("3.1")
def two_backward_calls(generator, discriminator, optimizer_d, real, noise):
    optimizer_d.zero_grad(set_to_none=False)
    fake = generator(noise).detach()
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    real_loss = bce(real_logits, torch.ones_like(real_logits))
    fake_loss = bce(fake_logits, torch.zeros_like(fake_logits))
    real_loss.backward()
    fake_loss.backward()
    optimizer_d.step()
    return (real_loss + fake_loss).item()


def d_step(g, d, opt, real, noise, loss_of=discriminator_loss, order="zbs", detach=True):
    fake = g(noise).detach() if detach else g(noise)
    loss = loss_of(d(real), d(fake))
    for part in order:
        {"z": opt.zero_grad, "b": loss.backward, "s": opt.step}[part]()
    return loss.item()


@wrong("3.1", "generator's weights received gradients", "fake.detach()")
def fakes_not_detached(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real, noise, detach=False)


@wrong("3.1", "labels are swapped")
def swapped_labels(generator, discriminator, optimizer_d, real, noise):
    return d_step(
        generator, discriminator, optimizer_d, real, noise, lambda r, f: discriminator_loss(f, r)
    )


@wrong("3.1", "optimizer_d.zero_grad() before backward()", "accumulate")
def no_zero_grad(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real, noise, order="bs")


@wrong("3.1", "zero_grad() runs between backward() and step()")
def zero_grad_between_backward_and_step(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real, noise, order="bzs")


@wrong("3.1", "call optimizer_d.step() after backward()")
def no_step(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real, noise, order="zb")


@wrong("3.1", "requires_grad=False", "generator")
def freezes_the_generator_for_good(generator, discriminator, optimizer_d, real, noise):
    generator.requires_grad_(False)
    return d_step(generator, discriminator, optimizer_d, real, noise, detach=False)


@wrong("3.1", "sign is flipped")
def sign_flipped_loss(generator, discriminator, optimizer_d, real, noise):
    return d_step(
        generator, discriminator, optimizer_d, real, noise, lambda r, f: -discriminator_loss(r, f)
    )


@wrong("3.1", "half the reference", "averaged")
def averaged_terms(generator, discriminator, optimizer_d, real, noise):
    return d_step(
        generator,
        discriminator,
        optimizer_d,
        real,
        noise,
        lambda r, f: discriminator_loss(r, f) / 2,
    )


@wrong("3.1", "rescaled once more")
def rescales_real_again(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real * 2 - 1, noise)


@wrong(
    "3.1",
    "generator in eval mode",
    "BatchNorm",
    "both networks must stay in training mode, as in gan_step",
)
def fakes_from_an_eval_generator(generator, discriminator, optimizer_d, real, noise):
    generator.eval()
    with torch.no_grad():
        fake = generator(noise)
    generator.train()
    optimizer_d.zero_grad()
    loss = discriminator_loss(discriminator(real), discriminator(fake))
    loss.backward()
    optimizer_d.step()
    return loss.item()


@wrong(
    "3.1",
    "discriminator ran in eval mode",
    "both networks must stay in training mode, as in gan_step",
)
def discriminator_in_eval_mode(generator, discriminator, optimizer_d, real, noise):
    discriminator.eval()
    loss = d_step(generator, discriminator, optimizer_d, real, noise)
    discriminator.train()
    return loss


@wrong(
    "3.1",
    "leaves the generator in eval mode",
    "both networks must stay in training mode, as in gan_step",
)
def leaves_the_generator_in_eval_mode(generator, discriminator, optimizer_d, real, noise):
    loss = d_step(generator, discriminator, optimizer_d, real, noise)
    generator.eval()
    return loss


@wrong("3.1", "the step draws noise of its own", "generator(noise)")
def draws_noise_of_the_generators_size(generator, discriminator, optimizer_d, real, noise):
    z = torch.randn(len(real), generator.nz)  # (N, nz), as gan_step draws it
    return d_step(generator, discriminator, optimizer_d, real, z)


@wrong("3.1", "optimizer_d.step() was never called", "updates the weights by hand")
def updates_the_weights_by_hand(generator, discriminator, optimizer_d, real, noise):
    for p in discriminator.parameters():
        p.grad = None
    loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    loss.backward()
    with torch.no_grad():
        for p in discriminator.parameters():
            p -= 2e-4 * p.grad
    return loss.item()


@wrong("3.1", "returns a tensor, not a number")
def returns_the_loss_tensor(generator, discriminator, optimizer_d, real, noise):
    optimizer_d.zero_grad()
    loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    loss.backward()
    optimizer_d.step()
    return loss


@wrong("3.1", "return the loss you called backward() on")
def returns_the_loss_after_the_step(generator, discriminator, optimizer_d, real, noise):
    d_step(generator, discriminator, optimizer_d, real, noise)
    with torch.no_grad():
        return discriminator_loss(discriminator(real), discriminator(generator(noise))).item()


@wrong("3.1", "creates its own optimizer")
def its_own_adam(generator, discriminator, optimizer_d, real, noise):
    own = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    return d_step(generator, discriminator, own, real, noise)


@wrong("3.1", "raised ValueError", "Generator expects latent vectors of shape (N, 8)", "line")
def noise_of_the_wrong_shape(generator, discriminator, optimizer_d, real, noise):
    z = torch.randn(len(real), 100)
    return d_step(generator, discriminator, optimizer_d, real, z)


@wrong("3.1", "the step draws noise of its own", "from the `noise` argument")
def ignores_the_given_noise(generator, discriminator, optimizer_d, real, noise):
    return d_step(generator, discriminator, optimizer_d, real, torch.randn_like(noise))


# --- Exercise 3.2: one-sided label smoothing --------------------------------------------------


@right("3.2")
def full_like_targets(real_logits, fake_logits, smoothing=0.1):
    real = bce(real_logits, torch.full_like(real_logits, 1 - smoothing))
    return real + bce(fake_logits, torch.zeros_like(fake_logits))


@right("3.2")
def scaled_ones(real_logits, fake_logits, smoothing=0.1):
    targets = (1.0 - smoothing) * torch.ones_like(real_logits)
    return bce(real_logits, targets) + bce(fake_logits, 0 * fake_logits)


@right("3.2")
def softplus_form(real_logits, fake_logits, smoothing=0.1):
    t = 1 - smoothing  # -[t log D + (1 - t) log(1 - D)] = softplus(l) - t l
    return (F.softplus(real_logits) - t * real_logits).mean() + F.softplus(fake_logits).mean()


@wrong("3.2", "wrong for confident logits (|logit| >= 30)", "binary_cross_entropy_with_logits")
def sigmoid_then_bce(real, fake, smoothing=0.1):
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    return F.binary_cross_entropy(d_real, torch.full_like(d_real, 1 - smoothing)) + (
        F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
    )


@right("3.2")
def by_hand_with_logsigmoid(real_logits, fake_logits, smoothing=0.1):
    t = 1 - smoothing
    real = -(t * F.logsigmoid(real_logits) + (1 - t) * F.logsigmoid(-real_logits)).mean()
    return real - F.logsigmoid(-fake_logits).mean()


@right("3.2")
def in_float64(real_logits, fake_logits, smoothing=0.1):
    r, f = real_logits.double(), fake_logits.double()
    return bce(r, torch.full_like(r, 1 - smoothing)) + bce(f, torch.zeros_like(f))


@wrong("3.2", "infinite or NaN for confident logits", "F.logsigmoid")
def log_of_the_sigmoid(real_logits, fake_logits, smoothing=0.1):
    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    t = 1 - smoothing
    real = -(t * d_real.log() + (1 - t) * (1 - d_real).log()).mean()
    return real - (1 - d_fake).log().mean()


def smoothed(r, f, real_target, fake_target):
    return bce(r, torch.full_like(r, real_target)) + bce(f, torch.full_like(f, fake_target))


@wrong("3.2", "fake labels are smoothed too", "two-sided")
def two_sided(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1 - smoothing, smoothing)


@wrong("3.2", "only the fake labels are smoothed")
def only_fakes(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1, smoothing)


@wrong("3.2", "1 + smoothing")
def one_plus(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1 + smoothing, 0)


@wrong("3.2", "the real target is the smoothing value itself")
def smoothing_as_target(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, smoothing, 0)


@wrong("3.2", "no smoothing is applied")
def no_smoothing(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1, 0)


@wrong("3.2", "real and fake targets are swapped")
def swapped_targets(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 0, 1 - smoothing)


@wrong("3.2", "the two terms are averaged")
def averaged(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1 - smoothing, 0) / 2


@wrong("3.2", "the default 0.1 is used for every call")
def ignores_the_argument(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 0.9, 0)


@wrong("3.2", "the sign is flipped")
def sign_flipped(real_logits, fake_logits, smoothing=0.1):
    return -smoothed(real_logits, fake_logits, 1 - smoothing, 0)


@wrong("3.2", "summed over the batch")
def summed_over_the_batch(real_logits, fake_logits, smoothing=0.1):
    real = bce(real_logits, torch.full_like(real_logits, 1 - smoothing), reduction="sum")
    return real + bce(fake_logits, torch.zeros_like(fake_logits), reduction="sum")


@wrong("3.2", "should be a torch.Tensor of shape ()", "a float")
def returns_a_number(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits, fake_logits, 1 - smoothing, 0).item()


@wrong("3.2", "carries no gradient")
def detached(real_logits, fake_logits, smoothing=0.1):
    return smoothed(real_logits.detach(), fake_logits.detach(), 1 - smoothing, 0)


@wrong("3.2", "cannot be called the way the exercise asks", "unexpected keyword argument")
def other_name_for_smoothing(real_logits, fake_logits, s=0.1):
    return smoothed(real_logits, fake_logits, 1 - s, 0)
