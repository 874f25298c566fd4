"""Answers to Exercises 1.1 (my_ae_step), 1.2 (add_noise) and 1.3 (fit_code_gaussian)."""

import numpy as np
import torch
import torch.nn.functional as F

from . import right, wrong

# --- Exercise 1.1: one training step that returns {"loss": loss.detach()} ---------------------


@right("1.1")
def like_ae_step(model, optimizer, images):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = F.mse_loss(model(images), images)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach()}


@right("1.1")
def squared_error_by_hand(net, opt, x):
    opt.zero_grad(set_to_none=False)
    loss = ((net(x) - x) ** 2).mean()
    loss.backward()
    opt.step()
    return {"loss": loss.detach()}


@right("1.1")
def target_first_and_model_zero_grad(model, optimizer, images):
    model.zero_grad()
    loss = F.mse_loss(images, model(images))
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach().double()}


@right("1.1")
def grads_set_to_none_by_hand(model, optimizer, images):
    for p in model.parameters():
        p.grad = None
    loss = F.mse_loss(model(images), images, reduction="sum") / images.numel()
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach().clone(), "pixels": torch.tensor(float(images[0].numel()))}


@right("1.1")
def flattened_images(model, optimizer, images):
    optimizer.zero_grad()
    output = model(images)
    loss = F.mse_loss(output.flatten(1), images.flatten(1))
    loss.backward()
    optimizer.step()
    return {"loss": torch.tensor(loss.item())}


def step(
    model,
    optimizer,
    images,
    loss_of=F.mse_loss,
    order="zbs",
    result=lambda loss: {"loss": loss.detach()},
):
    """A step whose parts run in `order`: z = zero_grad, b = backward, s = step."""
    loss = loss_of(model(images), images)
    for part in order:
        {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[part]()
    return result(loss)


@wrong("1.1", "zero_grad() before backward()", "gradients accumulate")
def no_zero_grad(model, optimizer, images):
    return step(model, optimizer, images, order="bs")


@wrong("1.1", "weights did not change", "call optimizer.step() after backward()")
def no_optimizer_step(model, optimizer, images):
    return step(model, optimizer, images, order="zb")


@wrong("1.1", "zero_grad() runs between backward() and step()")
def zero_grad_between_backward_and_step(model, optimizer, images):
    return step(model, optimizer, images, order="bzs")


@wrong("1.1", "zero_grad() runs only after step()")
def zero_grad_at_the_end(model, optimizer, images):
    return step(model, optimizer, images, order="bsz")


@wrong("1.1", "raised RuntimeError", "modified by an inplace operation", "line")
def step_before_backward_without_clearing(model, optimizer, images):
    return step(model, optimizer, images, order="szb")


@wrong("1.1", "weights did not change", "step() after backward()")
def clear_step_then_backward(model, optimizer, images):
    return step(model, optimizer, images, order="zsb")


@wrong("1.1", "3,920 times too large", "mean per pixel")
def summed_squared_error(model, optimizer, images):
    return step(model, optimizer, images, lambda y, x: F.mse_loss(y, x, reduction="sum"))


@wrong("1.1", "summed over the pixels")
def summed_per_image(model, optimizer, images):
    return step(model, optimizer, images, lambda y, x: (y - x).pow(2).sum(dim=(1, 2, 3)).mean())


@wrong("1.1", "binary cross-entropy")
def cross_entropy(model, optimizer, images):
    return step(model, optimizer, images, F.binary_cross_entropy)


@wrong("1.1", "mean absolute error")
def absolute_error(model, optimizer, images):
    return step(model, optimizer, images, F.l1_loss)


@wrong("1.1", "fit needs the step's metrics as a dict", "a float")
def returns_item_as_in_the_old_text(model, optimizer, images):
    return step(model, optimizer, images, result=lambda loss: loss.item())


@wrong("1.1", "computation graph", "loss.detach()")
def returns_the_undetached_loss(model, optimizer, images):
    return step(model, optimizer, images, result=lambda loss: {"loss": loss})


@wrong("1.1", 'returned["loss"] is a float', "not .item()")
def returns_a_float_in_the_dict(model, optimizer, images):
    return step(model, optimizer, images, result=lambda loss: {"loss": loss.item()})


@wrong("1.1", "keys ['mse']", "name the loss 'loss'")
def other_metric_name(model, optimizer, images):
    return step(model, optimizer, images, result=lambda loss: {"mse": loss.detach()})


@wrong("1.1", "returns None")
def forgets_to_return(model, optimizer, images):
    step(model, optimizer, images)


@wrong("1.1", "creates its own optimizer", "`optimizer` argument")
def makes_its_own_adam(model, optimizer, images):
    return step(model, torch.optim.Adam(model.parameters(), lr=1e-3), images)


@wrong("1.1", "optimizer.step() was never called", "creates its own optimizer")
def makes_its_own_sgd(model, optimizer, images):
    return step(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), images)


@wrong("1.1", "optimizer.step() was never called", "`optimizer` argument")
def its_own_adam_with_the_chapters_settings(model, optimizer, images):
    own = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    own.zero_grad()
    loss = F.mse_loss(model(images), images)
    loss.backward()
    own.step()
    return {"loss": loss.detach()}


@wrong("1.1", "return the loss you called backward() on")
def returns_the_loss_after_the_update(model, optimizer, images):
    step(model, optimizer, images)
    with torch.no_grad():
        return {"loss": F.mse_loss(model(images), images)}


@wrong("1.1", "raised RuntimeError", "line", "loss.backward()")
def backward_twice(model, optimizer, images):
    optimizer.zero_grad()
    loss = F.mse_loss(model(images), images)
    loss.backward()
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach()}


# --- Exercise 1.2: add_noise ------------------------------------------------------------------


@right("1.2")
def reference_noise(images, std, generator=None):
    noise = torch.randn(images.shape, generator=generator)
    return (images + std * noise).clamp(0, 1)


@right("1.2")
def normal_with_std(images, std, generator=None):
    noise = torch.normal(0.0, std, size=images.shape, generator=generator)
    return torch.clip(images + noise, min=0.0, max=1.0)


@right("1.2")
def in_place_on_a_fresh_tensor(images, std, generator=None):
    noise = torch.empty_like(images).normal_(0, std, generator=generator)
    noisy = images.clone()
    noisy += noise
    return noisy.clamp_(0, 1)


@right("1.2")
def two_branches(x, std, generator=None):
    if generator is None:
        eps = torch.randn_like(x)
    else:
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return torch.clamp(x + eps * std, 0.0, 1.0)


@right("1.2")
def where_clipping(images, std, generator=None):
    noisy = images + std * torch.randn(images.size(), generator=generator)
    noisy = torch.where(noisy < 0, torch.zeros_like(noisy), noisy)
    return torch.minimum(noisy, torch.ones_like(noisy))


def noisy(images, std, generator=None, scale=lambda s: s, draw=None, clip=True):
    noise = torch.randn(images.shape, generator=generator) if draw is None else draw(images)
    out = images + scale(std) * noise
    return out.clamp(0, 1) if clip else out


@wrong("1.2", "input images were changed")
def adds_in_place(images, std, generator=None):
    images += std * torch.randn(images.shape, generator=generator)
    return images.clamp_(0, 1)


@wrong("1.2", "clip the noisy images to [0, 1]")
def no_clipping(images, std, generator=None):
    return noisy(images, std, generator, clip=False)


@wrong("1.2", "rather than rescaling")
def rescales_instead_of_clipping(images, std, generator=None):
    out = noisy(images, std, generator, clip=False)
    return (out - out.min()) / (out.max() - out.min())


@wrong("1.2", "std**2")
def variance_as_scale(images, std, generator=None):
    return noisy(images, std, generator, scale=lambda s: s**2)


@wrong("1.2", "sqrt(std)", "not the variance")
def square_root_of_std(images, std, generator=None):
    return noisy(images, std, generator, scale=np.sqrt)


@wrong("1.2", "standard deviation 1")
def unscaled_noise(images, std, generator=None):
    return noisy(images, std, generator, scale=lambda s: 1.0)


@wrong("1.2", "uniform (torch.rand)")
def uniform_noise(images, std, generator=None):
    return noisy(images, std, generator, draw=lambda x: torch.rand(x.shape, generator=generator))


@wrong("1.2", "use the `std` argument")
def hard_coded_std(images, std, generator=None):
    return noisy(images, 0.3, generator)


@wrong("1.2", "generator=generator")
def ignores_the_generator(images, std, generator=None):
    return noisy(images, std)


@wrong("1.2", "don't seed inside add_noise")
def seeds_inside(images, std, generator=None):
    torch.manual_seed(0)
    return noisy(images, std)


@wrong("1.2", "every image got the same noise")
def one_noise_image_for_the_batch(images, std, generator=None):
    return noisy(
        images, std, generator, draw=lambda x: torch.randn(1, 1, 28, 28, generator=generator)
    )


@wrong("1.2", "one number per image")
def one_number_per_image(images, std, generator=None):
    return noisy(
        images, std, generator, draw=lambda x: torch.randn(len(x), 1, 1, 1, generator=generator)
    )


@wrong("1.2", "float64", "keep their dtype")
def numpy_noise(images, std, generator=None):
    noise = torch.from_numpy(np.random.default_rng().normal(0, std, size=tuple(images.shape)))
    return (images + noise).clamp(0, 1)


@wrong("1.2", "the output does not contain the images", "not the noise alone")
def returns_the_noise_only(images, std, generator=None):
    return (std * torch.randn(images.shape, generator=generator)).clamp(0, 1)


@wrong("1.2", "expected mean 0 and standard deviation 0.1")
def noise_of_an_unknown_scale(images, std, generator=None):
    return noisy(images, std, generator, scale=lambda s: 0.6 * s)


@wrong("1.2", "clip the noisy images to [0, 1]")
def clips_before_adding(images, std, generator=None):
    return images.clamp(0, 1) + std * torch.randn(images.shape, generator=generator)


@wrong("1.2", "should be a torch.Tensor", "a NumPy float32 array")
def returns_numpy(images, std, generator=None):
    return noisy(images, std, generator).numpy()


@wrong("1.2", "the noise is uniform (torch.rand, shifted and rescaled)", "torch.randn")
def centred_uniform_with_the_right_std(images, std, generator=None):
    uniform = torch.rand(images.shape, generator=generator) - 0.5  # mean 0, sd 1/sqrt(12)
    return (images + std * np.sqrt(12) * uniform).clamp(0, 1)


@wrong("1.2", "the noise is not centred", "torch.randn")
def uniform_with_the_right_std(images, std, generator=None):
    uniform = torch.rand(images.shape, generator=generator)  # mean 1/2, sd 1/sqrt(12)
    return (images + std * np.sqrt(12) * uniform).clamp(0, 1)


@wrong("1.2", "only 2 distinct values (e.g. random signs)", "Gaussian noise")
def random_signs(images, std, generator=None):
    signs = torch.randint(0, 2, images.shape, generator=generator) * 2 - 1
    return (images + std * signs).clamp(0, 1)


@wrong("1.2", "heavier tails than a Gaussian", "excess kurtosis")
def laplace_noise(images, std, generator=None):
    noise = torch.distributions.Laplace(0.0, std / np.sqrt(2)).sample(images.shape)
    return (images + noise).clamp(0, 1)


@wrong("1.2", "the pixels of a row share one noise value", "(N, 1, 28, 1)")
def one_value_per_row(images, std, generator=None):
    rows = torch.randn(*images.shape[:-1], 1, generator=generator)  # (N, 1, 28, 1)
    return (images + std * rows).clamp(0, 1)


@wrong("1.2", "the pixels of a column share one noise value", "(N, 1, 1, 28)")
def one_value_per_column(images, std, generator=None):
    n, c, _, w = images.shape
    return (images + std * torch.randn(n, c, 1, w, generator=generator)).clamp(0, 1)


@wrong("1.2", "the channels of a pixel share one noise value")
def one_channel_of_noise(images, std, generator=None):
    n, _, h, w = images.shape
    return (images + std * torch.randn(n, 1, h, w, generator=generator)).clamp(0, 1)


@wrong("1.2", "must work for images of any shape", "RuntimeError")
def noise_for_784_pixels(images, std, generator=None):
    noise = torch.randn(len(images), 784, generator=generator).view(images.shape)
    return (images + std * noise).clamp(0, 1)


@wrong("1.2", "images 0 and 32 of the batch got the same noise")
def half_a_batch_of_noise_twice(images, std, generator=None):
    half = torch.randn(len(images) // 2, *images.shape[1:], generator=generator)
    noise = torch.cat([half, half, half[: len(images) % 2]])
    return (images + std * noise).clamp(0, 1)


@wrong("1.2", "generators seeded differently gave the same noise", "generator=generator")
def its_own_seeded_generator(images, std, generator=None):
    if generator is not None:
        generator = torch.Generator().manual_seed(0)
    return noisy(images, std, generator)


@wrong("1.2", "generators seeded differently gave the same noise")
def reseeds_the_callers_generator(images, std, generator=None):
    if generator is not None:
        generator.manual_seed(1234)
    return noisy(images, std, generator)


@wrong("1.2", "the caller's generator must advance", "set_state")
def draws_from_a_copy_of_the_generator(images, std, generator=None):
    if generator is not None:
        copy = torch.Generator()
        copy.set_state(generator.get_state())
        generator = copy
    return noisy(images, std, generator)


# --- Exercise 1.3: fit_code_gaussian ----------------------------------------------------------


@right("1.3")
def mean_and_torch_cov(codes):
    return codes.mean(dim=0), torch.cov(codes.T)


@right("1.3")
def maximum_likelihood(codes):
    centred = codes - codes.mean(0)
    return codes.mean(0), centred.T @ centred / len(codes)


@right("1.3")
def unbiased_by_hand(z):
    mean = z.sum(0) / z.shape[0]
    d = z - mean
    return mean, torch.einsum("ni,nj->ij", d, d) / (z.shape[0] - 1)


@right("1.3")
def numpy_then_back_in_float64(codes):
    array = codes.numpy()
    return torch.from_numpy(array.mean(axis=0).astype(np.float64)), torch.from_numpy(
        np.cov(array, rowvar=False)
    )


@right("1.3")
def a_list_and_correction_zero(codes):
    return [codes.mean(0), torch.cov(codes.T, correction=0)]


@wrong("1.3", "500 x 500", "codes.T")
def cov_without_transpose(codes):
    return codes.mean(0), torch.cov(codes)


@wrong("1.3", "500 x 500")
def outer_products_of_rows(codes):
    centred = codes - codes.mean(0)
    return codes.mean(0), centred @ centred.T / (len(codes) - 1)


@wrong("1.3", "a vector, one number per dimension")
def variances_only(codes):
    return codes.mean(0), codes.var(0)


@wrong("1.3", "a vector, one number per dimension")
def standard_deviations(codes):
    return codes.mean(0), codes.std(0)


@wrong("1.3", "without subtracting the mean")
def uncentred_unbiased(codes):
    return codes.mean(0), codes.T @ codes / (len(codes) - 1)


@wrong("1.3", "without subtracting the mean")
def uncentred_by_n(codes):
    return codes.mean(0), codes.T @ codes / len(codes)


@wrong("1.3", "one entry per code", "dim=0")
def mean_over_the_wrong_dimension(codes):
    return codes.mean(dim=1), torch.cov(codes.T)


@wrong("1.3", "returns (covariance, mean)")
def swapped_outputs(codes):
    return torch.cov(codes.T), codes.mean(0)


@wrong("1.3", "should be a torch.Tensor", "NumPy float64 array")
def returns_numpy_arrays(codes):
    return codes.numpy().mean(0).astype(np.float64), np.cov(codes.numpy(), rowvar=False)


@wrong("1.3", "should return a tuple (mean, covariance)", "a float32 tensor of shape (4, 4)")
def returns_only_the_covariance(codes):
    return torch.cov(codes.T)


@wrong("1.3", "should have shape (4,)", "(1, 4)")
def keepdim_mean(codes):
    return codes.mean(0, keepdim=True), torch.cov(codes.T)


@wrong("1.3", "diagonal")
def diagonal_covariance(codes):
    return codes.mean(0), torch.diag(codes.var(0))


@wrong("1.3", "correlation matrix")
def correlation_matrix(codes):
    return codes.mean(0), torch.corrcoef(codes.T)


@wrong("1.3", "The mean of 500 correlated codes differs from the reference")
def median_instead_of_mean(codes):
    return codes.median(0).values, torch.cov(codes.T)


@wrong("1.3", "divides by the number of dimensions (3, codes.shape[1] - 1)", "N - 1")
def divides_by_the_dimensions_minus_one(codes):
    centred = codes - codes.mean(dim=0)
    return codes.mean(dim=0), centred.T @ centred / (codes.size(1) - 1)


@wrong("1.3", "divides by the number of dimensions (4, codes.shape[1])")
def divides_by_the_last_dimension(codes):
    centred = codes - codes.mean(0, keepdim=True)
    return codes.mean(0), torch.einsum("ni,nj->ij", centred, centred) / codes.shape[-1]


@wrong("1.3", "E[x x^T] - mean mean^T", "Subtract the mean from the codes first")
def second_moment_minus_outer_product(codes):
    mean = codes.mean(dim=0)
    return mean, codes.T @ codes / len(codes) - torch.outer(mean, mean)


@wrong("1.3", "E[x x^T] - mean mean^T", "float32", "though right for codes near 0")
def unbiased_second_moment_minus_outer_product(codes):
    n, mean = len(codes), codes.mean(dim=0)
    return mean, (codes.T @ codes - n * torch.outer(mean, mean)) / (n - 1)
