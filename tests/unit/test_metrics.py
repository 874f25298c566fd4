"""The metrics: Fréchet distance against closed forms, FID and class coverage on real MNIST with the
shipped classifier, sampling an autoencoder's latent space, and the classifier's re-creation."""

from __future__ import annotations

import math

import pytest
import torch

from labutils import VAE, Autoencoder, Generator, evaluate_ae, load_mnist, metrics
from labutils.metrics import (
    Gaussian,
    class_coverage,
    classifier_accuracy,
    code_gaussian,
    coverage_from_probabilities,
    feature_gaussian,
    fid,
    fit_gaussian,
    frechet_distance,
    load_classifier,
    reconstruction_mse,
    sample_autoencoder,
    sample_dcgan,
    sample_gaussian,
    score_samples,
    sqrtm_psd,
)


def random_rotation(dim: int, seed: int) -> torch.Tensor:
    """A random orthogonal matrix (dim, dim), from the QR decomposition of a Gaussian matrix."""
    a = torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.linalg.qr(a)[0]


def random_covariance(dim: int, seed: int) -> torch.Tensor:
    """A random full-rank covariance matrix (dim, dim)."""
    a = torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T / dim + 0.1 * torch.eye(dim, dtype=torch.float64)


@pytest.fixture(scope="module")
def classifier():
    """The shipped classifier, data/mnist_classifier.pt (trained there if it is missing)."""
    return load_classifier("cpu")


@pytest.fixture(scope="module")
def train_images() -> torch.Tensor:
    """The first 2,000 training images."""
    return load_mnist("train", limit=2000)[0]


# Fréchet distance against independent computations


def test_one_dimensional_gaussians_follow_the_closed_form():
    a = Gaussian(torch.tensor([1.5]), torch.tensor([[4.0]]))  # N(1.5, 2^2)
    b = Gaussian(torch.tensor([-0.5]), torch.tensor([[0.25]]))  # N(-0.5, 0.5^2)
    assert frechet_distance(a, b) == pytest.approx((1.5 + 0.5) ** 2 + (2.0 - 0.5) ** 2)


def test_covariances_with_common_axes_follow_the_closed_form():
    """Sigma = Q diag(s^2) Q^T for one rotation Q: the distance is |dmu|^2 + sum (s_a - s_b)^2."""
    q = random_rotation(6, seed=1)
    s_a = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.1, 1.5], dtype=torch.float64)
    s_b = torch.tensor([1.0, 1.0, 0.5, 2.0, 0.3, 4.0], dtype=torch.float64)
    mu_a, mu_b = torch.arange(6.0).double(), torch.ones(6).double()
    a = Gaussian(mu_a, q @ torch.diag(s_a**2) @ q.T)
    b = Gaussian(mu_b, q @ torch.diag(s_b**2) @ q.T)
    expected = float((mu_a - mu_b).pow(2).sum() + (s_a - s_b).pow(2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_general_covariances_match_the_eigenvalues_of_their_product():
    """tr sqrt(S_a S_b) = sum of the square roots of the (real, >= 0) eigenvalues of S_a S_b."""
    cov_a, cov_b = random_covariance(8, seed=2), random_covariance(8, seed=3)
    mu_a, mu_b = torch.zeros(8).double(), torch.full((8,), 0.3, dtype=torch.float64)
    cross = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0).sqrt().sum()
    expected = float(0.09 * 8 + cov_a.trace() + cov_b.trace() - 2 * cross)
    assert frechet_distance(Gaussian(mu_a, cov_a), Gaussian(mu_b, cov_b)) == pytest.approx(
        expected, rel=1e-9
    )


def test_distance_is_symmetric_and_zero_between_identical_gaussians():
    a = Gaussian(torch.zeros(5).double(), random_covariance(5, seed=4))
    b = Gaussian(torch.ones(5).double(), random_covariance(5, seed=5))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-10)
    assert frechet_distance(a, b) > 1
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)


def test_singular_covariances_give_a_finite_distance():
    """A dead feature (zero variance) makes a covariance singular; the distance stays real."""
    points = torch.randn(500, 4, generator=torch.Generator().manual_seed(6))
    points[:, 2] = 0  # (500, 4) one constant feature
    a, b = fit_gaussian(points), fit_gaussian(points * 2)
    assert torch.linalg.matrix_rank(a.covariance) == 3
    distance = frechet_distance(a, b)
    assert math.isfinite(distance)
    # Doubling the points doubles the mean and every standard deviation (common axes):
    # |2mu - mu|^2 + sum over axes of (2s - s)^2 = |mu|^2 + tr(S_a).
    expected = float(a.mean.pow(2).sum() + a.covariance.trace())
    assert distance == pytest.approx(expected, rel=1e-6)


def test_psd_square_root_squares_back():
    cov = random_covariance(7, seed=7)
    root = sqrtm_psd(cov)
    assert torch.allclose(root @ root, cov, atol=1e-10)
    assert torch.allclose(root, root.T)


def test_fit_gaussian_is_the_sample_mean_and_covariance():
    points = torch.randn(300, 3, generator=torch.Generator().manual_seed(8)) * 2 + 1
    fitted = fit_gaussian(points)
    centred = points.double() - points.double().mean(dim=0)
    assert torch.allclose(fitted.mean, points.double().mean(dim=0))
    assert torch.allclose(fitted.covariance, centred.T @ centred / 299)


# The shipped classifier, FID and coverage on real images


def test_shipped_classifier_reaches_99_percent(classifier, mnist_test):
    assert classifier_accuracy(classifier, *mnist_test) >= 0.99


def test_fid_of_identical_sets_is_zero(classifier, mnist_test):
    images = mnist_test[0][:1000]
    assert fid(classifier, images, images) == pytest.approx(0, abs=1e-6)


def test_fid_is_symmetric(classifier, mnist_test, train_images):
    test_images = mnist_test[0][:2000]
    forward, backward = (
        fid(classifier, test_images, train_images),
        fid(classifier, train_images, test_images),
    )
    assert forward == pytest.approx(backward, rel=1e-6)  # float32 features, float64 algebra


def test_fid_is_small_between_real_sets_and_grows_with_noise(classifier, mnist_test, train_images):
    test_images = mnist_test[0][:2000]
    noise = torch.randn(test_images.shape, generator=torch.Generator().manual_seed(9))
    reference = feature_gaussian(classifier, train_images)
    distances = [
        frechet_distance(
            feature_gaussian(classifier, (test_images + level * noise).clamp(0, 1)), reference
        )
        for level in (0.0, 0.1, 0.2, 0.4, 0.8)
    ]
    assert distances == sorted(distances)  # monotone in the noise level
    assert distances[0] < 0.1 * distances[3]  # real vs real is small next to visible noise


def test_a_set_of_only_ones_has_zero_entropy():
    probabilities = torch.zeros(50, 10)
    probabilities[:, 1] = 0.8
    probabilities[:, 7] = 0.2
    coverage = coverage_from_probabilities(probabilities)
    assert coverage.histogram.tolist() == [0, 1] + [0] * 8
    assert coverage.entropy == 0
    assert coverage.kl_to_uniform == pytest.approx(math.log(10))
    assert coverage.confidence == pytest.approx(0.8)


def test_two_equally_common_digits_have_entropy_log_2():
    probabilities = torch.eye(10)[torch.tensor([3, 8] * 20)]  # (40, 10) one-hot
    coverage = coverage_from_probabilities(probabilities)
    assert coverage.entropy == pytest.approx(math.log(2))
    assert coverage.kl_to_uniform == pytest.approx(math.log(10) - math.log(2))
    assert coverage.confidence == 1


def test_real_ones_look_like_ones(classifier, mnist_test):
    images, labels = mnist_test
    coverage = class_coverage(classifier, images[labels == 1])
    assert coverage.histogram[1] > 0.99
    assert coverage.kl_to_uniform > 0.95 * math.log(10)


def test_the_balanced_test_set_is_near_uniform(classifier, mnist_test):
    images, labels = mnist_test
    coverage = class_coverage(classifier, images)
    true_histogram = torch.bincount(labels, minlength=10).double() / labels.shape[0]
    assert torch.allclose(coverage.histogram, true_histogram, atol=0.005)
    assert coverage.kl_to_uniform < 0.01
    assert coverage.confidence > 0.97


def test_score_samples_agrees_with_fid_and_coverage(classifier, mnist_test, train_images):
    test_images = mnist_test[0][:1000]
    distance, coverage = score_samples(
        classifier, test_images, feature_gaussian(classifier, train_images)
    )
    assert distance == pytest.approx(fid(classifier, test_images, train_images), rel=1e-8)
    separate = class_coverage(classifier, test_images)
    assert torch.equal(coverage.histogram, separate.histogram)
    assert coverage.confidence == pytest.approx(separate.confidence)


# Sampling an autoencoder's latent space, and a DCGAN


def test_sample_gaussian_reproduces_mean_and_covariance():
    target = Gaussian(torch.tensor([1.0, -2.0, 0.5]).double(), random_covariance(3, seed=10))
    points = sample_gaussian(target, 200_000, torch.Generator().manual_seed(11))  # (200000, 3)
    assert torch.allclose(points.mean(dim=0), target.mean, atol=0.02)
    assert torch.allclose(torch.cov(points.T), target.covariance, atol=0.02)


def test_code_gaussian_fits_the_encoders_codes(mnist_test):
    torch.manual_seed(0)
    model = Autoencoder(4, hidden=(32,))
    images = mnist_test[0][:3000]
    fitted = code_gaussian(model, images, batch_size=700)  # batches must not change the result
    with torch.no_grad():
        codes = model.encode(images).double()  # (3000, 4)
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


def test_sample_dcgan_maps_images_to_the_data_range():
    torch.manual_seed(0)
    model = Generator(nz=8, width=4)
    images = sample_dcgan(model, 2500, torch.Generator().manual_seed(12))
    noise = torch.randn(2500, 8, generator=torch.Generator().manual_seed(12))  # (2500, 8)
    with torch.no_grad():
        expected = model.eval()(noise) * 0.5 + 0.5  # (2500, 1, 28, 28), [-1, 1] -> [0, 1]
    assert images.shape == (2500, 1, 28, 28)
    assert torch.allclose(images, expected, atol=1e-6)


def test_reconstruction_error_of_an_autoencoder_is_its_test_loss(mnist_test):
    torch.manual_seed(0)
    model = Autoencoder(5, hidden=(32,))
    images = mnist_test[0][:1500]
    assert reconstruction_mse(model, images, batch_size=400) == pytest.approx(
        evaluate_ae(model, images)["loss"], rel=1e-5
    )


def test_a_vae_reconstructs_from_its_mean_code(mnist_test):
    torch.manual_seed(0)
    model = VAE(5, hidden=(32,))
    images = mnist_test[0][:500]
    with torch.no_grad():
        mu, _ = model.encode(images)  # (500, 5)
        expected = float(((model.decode(mu) - images) ** 2).mean())
    first = reconstruction_mse(model, images)
    assert first == pytest.approx(expected, rel=1e-5)
    assert reconstruction_mse(model, images) == first  # no sampling: the same every time


# Re-creating the classifier when its file is missing


def test_missing_classifier_is_trained_and_saved(tmp_path, monkeypatch):
    real_load = metrics.load_mnist

    def small_mnist(split, device="cpu", limit=None):
        return real_load(split, device, limit=256)  # keeps the test fast

    monkeypatch.setattr(metrics, "load_mnist", small_mnist)
    path = tmp_path / "classifier.pt"
    trained = load_classifier("cpu", path, epochs=1)
    assert path.exists()
    reloaded = load_classifier("cpu", path)
    for a, b in zip(trained.state_dict().values(), reloaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not reloaded.training
