"""Drawing images from the course's models: one [0, 1] range, noise drawn where the generator
lives, the same images for the same seed, and the model's train/eval mode given back."""

from __future__ import annotations

import pytest
import torch

from labutils import VAE, Autoencoder, Generator
from labutils.metrics import Gaussian
from labutils.models import ConvVAE
from labutils.sampling import (
    code_gaussian,
    evaluating,
    sample_autoencoder,
    sample_dcgan,
    sample_gaussian,
    sample_vae,
    standard_normal,
)


def random_covariance(dim: int, seed: int) -> torch.Tensor:
    """A random full-rank covariance matrix (dim, dim)."""
    a = torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T / dim + 0.1 * torch.eye(dim, dtype=torch.float64)


@pytest.fixture()
def models() -> dict[str, torch.nn.Module]:
    """One small model of each kind, in training mode."""
    torch.manual_seed(0)
    return {
        "ae": Autoencoder(3, hidden=(16,)),
        "vae": VAE(3, hidden=(16,)),
        "conv_vae": ConvVAE(3, width=4),
        "dcgan": Generator(nz=8, width=4),
    }


def draw(name: str, model: torch.nn.Module, count: int, seed: int) -> torch.Tensor:
    """`count` samples of a model through its sampler, from the noise of `seed`."""
    generator = torch.Generator().manual_seed(seed)
    if name == "ae":
        return sample_autoencoder(model, count, generator=generator)
    if name == "dcgan":
        return sample_dcgan(model, count, generator)
    return sample_vae(model, count, generator)


@pytest.mark.parametrize("name", ["ae", "vae", "conv_vae", "dcgan"])
def test_samples_are_images_in_0_1_and_the_seed_fixes_them(models, name):
    images = draw(name, models[name], 300, seed=1)
    assert images.shape == (300, 1, 28, 28)
    assert 0 <= float(images.min()) and float(images.max()) <= 1
    assert torch.equal(images, draw(name, models[name], 300, seed=1))
    assert not torch.equal(images, draw(name, models[name], 300, seed=2))


@pytest.mark.parametrize("name", ["ae", "vae", "conv_vae", "dcgan"])
@pytest.mark.parametrize("training", [True, False])
def test_sampling_gives_the_model_back_its_mode(models, name, training):
    model = models[name].train(training)
    draw(name, model, 10, seed=0)
    assert model.training is training


def test_a_vae_decodes_the_prior_noise_of_its_generator(models):
    model = models["vae"]
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(4))  # (50, 3)
    with torch.no_grad():
        expected = model.eval().decode(z)
    assert torch.allclose(sample_vae(model.train(), 50, torch.Generator().manual_seed(4)), expected)


def test_sample_dcgan_maps_the_generators_output_to_the_data_range():
    torch.manual_seed(0)
    model = Generator(nz=8, width=4)
    images = sample_dcgan(model, 2500, torch.Generator().manual_seed(12))
    noise = torch.randn(2500, 8, generator=torch.Generator().manual_seed(12))  # (2500, 8)
    with torch.no_grad():
        expected = model.eval()(noise) * 0.5 + 0.5  # (2500, 1, 28, 28), [-1, 1] -> [0, 1]
    assert torch.allclose(images, expected, atol=1e-6)


def test_the_batchnorm_of_a_conv_vae_uses_its_running_statistics_when_sampling(models):
    model = models["conv_vae"]
    model.decoder[1].running_mean.fill_(5.0)  # eval mode reads it; train mode would not
    z = torch.randn(20, 3, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = model.eval().decode(z)
    assert torch.allclose(sample_vae(model.train(), 20, torch.Generator().manual_seed(5)), expected)


def test_noise_is_drawn_on_the_generators_device_then_moved():
    """A CPU generator with a model elsewhere used to crash (torch.randn(..., generator=cpu,
    device=cuda)); the noise is now the CPU generator's, whatever the target device."""
    expected = torch.randn(4, 6, generator=torch.Generator().manual_seed(7))
    drawn = standard_normal(4, 6, torch.Generator().manual_seed(7), device="meta")
    assert drawn.device.type == "meta" and drawn.shape == (4, 6)
    assert torch.equal(standard_normal(4, 6, torch.Generator().manual_seed(7), "cpu"), expected)


def test_evaluating_restores_the_mode_even_when_the_block_fails(models):
    model = models["ae"].train()
    with pytest.raises(RuntimeError), evaluating(model):
        assert not model.training
        raise RuntimeError("boom")
    assert model.training


def test_sample_gaussian_reproduces_mean_and_covariance():
    target = Gaussian(torch.tensor([1.0, -2.0, 0.5]).double(), random_covariance(3, seed=10))
    points = sample_gaussian(target, 200_000, torch.Generator().manual_seed(11))  # (200000, 3)
    assert torch.allclose(points.mean(dim=0), target.mean, atol=0.02)
    assert torch.allclose(torch.cov(points.T), target.covariance, atol=0.02)


@pytest.mark.parametrize("kind", [Autoencoder, VAE])
def test_code_gaussian_fits_the_mean_codes(mnist_test, kind):
    torch.manual_seed(0)
    model = kind(4, hidden=(32,))
    images = mnist_test[0][:3000]
    fitted = code_gaussian(model, images, batch_size=700)  # batches must not change the result
    with torch.no_grad():
        codes = model.encode(images)
    codes = (codes[0] if kind is VAE else codes).double()  # (3000, 4): mu for a VAE
    assert torch.allclose(fitted.mean, codes.mean(dim=0), atol=1e-6)
    assert torch.allclose(fitted.covariance, torch.cov(codes.T), atol=1e-6)


@pytest.mark.parametrize("use_fit", [True, False])
def test_sample_autoencoder_decodes_codes_from_the_chosen_gaussian(use_fit, monkeypatch):
    model = Autoencoder(3, hidden=(16,))
    fitted = Gaussian(torch.tensor([5.0, -5.0, 0.0]).double(), torch.diag(torch.tensor([4.0] * 3)))
    decoded = []

    def record(codes: torch.Tensor) -> torch.Tensor:
        decoded.append(codes)
        return torch.zeros(codes.shape[0], 1, 28, 28)

    monkeypatch.setattr(model, "decode", record)
    images = sample_autoencoder(model, 4000, fitted if use_fit else None)
    codes = torch.cat(decoded)  # (4000, 3)
    assert images.shape == (4000, 1, 28, 28)
    expected = fitted if use_fit else Gaussian(torch.zeros(3), torch.eye(3))
    assert torch.allclose(codes.mean(dim=0), expected.mean.float(), atol=0.15)
    assert torch.allclose(codes.std(dim=0) ** 2, expected.covariance.diag().float(), rtol=0.1)
