"""The metrics: Fréchet distance against closed forms, FID and class coverage on real MNIST with the
shipped classifier, precision and recall on sets with known answers, density and coverage against a
brute-force count, t quantiles, intervals (per part, paired, across seeds), reconstruction."""

from __future__ import annotations

import math

import pytest
import torch

from labutils import VAE, Autoencoder, load_mnist
from labutils.classifier import load_classifier
from labutils.metrics import (
    Gaussian,
    Interval,
    class_coverage,
    coverage_from_probabilities,
    density_coverage,
    feature_gaussian,
    fid,
    fit_gaussian,
    frechet_distance,
    interval,
    manifold,
    paired_difference,
    precision_recall,
    reconstruction_mse,
    sample_scores,
    score_samples,
    seed_difference,
    sqrtm_psd,
    squared_distances,
    t_quantile,
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
    """The classifier shipped in the package."""
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


# Reconstruction


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


def test_an_autoencoders_reconstruction_error_is_the_mean_squared_pixel_error(mnist_test):
    torch.manual_seed(0)
    model = Autoencoder(5, hidden=(32,))
    images = mnist_test[0][:1500]
    with torch.no_grad():
        expected = float(((model(images).double() - images.double()) ** 2).mean())
    assert reconstruction_mse(model, images, batch_size=400) == pytest.approx(expected, rel=1e-6)


# Precision and recall: k-nearest-neighbour manifolds


def cloud(count: int, centre: float, seed: int, dim: int = 5) -> torch.Tensor:
    """`count` points (count, dim) from N(centre, I)."""
    return torch.randn(count, dim, generator=torch.Generator().manual_seed(seed)) + centre


def test_squared_distances_match_torch_cdist():
    a, b = cloud(30, 0.0, seed=20), cloud(40, 1.0, seed=21)
    expected = torch.cdist(a.double(), b.double()).pow(2)
    assert torch.allclose(squared_distances(a, b), expected, atol=1e-10)
    assert squared_distances(a, a).diagonal().abs().max() < 1e-12


def test_radii_are_the_distance_to_the_kth_nearest_other_point_whatever_the_chunk():
    points = cloud(50, 0.0, seed=22)
    distances = torch.cdist(points.double(), points.double())  # (50, 50), 0 on the diagonal
    expected = distances.sort(dim=1).values[:, 3]  # column 0 is the point itself
    for chunk in (7, 50, 1000):
        assert torch.allclose(manifold(points, k=3, chunk=chunk).radii, expected, atol=1e-10)


def test_precision_and_recall_are_ball_memberships_whatever_the_chunk():
    real, generated = manifold(cloud(60, 0.0, seed=23), k=2), manifold(cloud(80, 1.0, 24), k=2)
    distances = torch.cdist(generated.points, real.points)  # (80, 60)
    precision = (distances <= real.radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated.radii[:, None]).any(dim=0).double().mean()
    for chunk in (9, 1000):
        result = precision_recall(real, generated, chunk=chunk)
        assert result == pytest.approx((float(precision), float(recall)), abs=1e-12)
    assert 0 < precision < 1 and 0 < recall < 1  # the case tests both answers


def test_identical_sets_have_precision_and_recall_1():
    points = cloud(300, 0.0, seed=25)
    assert precision_recall(manifold(points), manifold(points.clone())) == (1.0, 1.0)


def test_a_subset_has_precision_1_and_recall_below_1():
    real = cloud(400, 0.0, seed=26)
    subset = real[:100]
    result = precision_recall(manifold(real), manifold(subset))
    assert result.precision == 1.0  # every generated point is a real one
    assert 0.25 <= result.recall < 1.0  # its own 100 points, and not all of the other 300


def test_disjoint_clusters_have_precision_and_recall_0():
    result = precision_recall(manifold(cloud(200, 0.0, seed=27)), manifold(cloud(200, 50.0, 28)))
    assert result == (0.0, 0.0)


def test_a_collapsed_generator_is_precise_but_has_no_recall():
    """Ten real points repeated: every sample is real (precision 1), the balls have radius 0."""
    real = cloud(500, 0.0, seed=29)
    repeated = real[:10].repeat(20, 1)  # (200, 5)
    result = precision_recall(manifold(real), manifold(repeated))
    assert result.precision == 1.0
    assert result.recall == pytest.approx(10 / 500)  # only the ten points themselves


def test_a_manifold_needs_more_points_than_k():
    with pytest.raises(ValueError, match="needs more than 3 points, got 3"):
        manifold(cloud(3, 0.0, seed=30), k=3)


# Intervals from disjoint parts


def t_density(t: torch.Tensor, dof: int) -> torch.Tensor:
    """Student's t density at t (float64), from its Gamma-function formula."""
    log_scale = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    return torch.exp(log_scale - (dof + 1) / 2 * torch.log1p(t * t / dof))


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 9, 10, 30])
@pytest.mark.parametrize("probability", [0.6, 0.9, 0.975, 0.995])
def test_t_quantiles_invert_the_integrated_density(dof, probability):
    t = t_quantile(probability, dof)
    steps = 200_000  # Simpson's rule for P(0 < T < t)
    ys = t_density(torch.linspace(0, t, steps + 1, dtype=torch.float64), dof)
    area = float(t / steps / 3 * (ys[0] + ys[-1] + 4 * ys[1:-1:2].sum() + 2 * ys[2:-1:2].sum()))
    assert 0.5 + area == pytest.approx(probability, abs=1e-9)


def test_t_quantiles_match_the_closed_forms_for_one_and_two_degrees_of_freedom():
    for p in (0.55, 0.8, 0.975, 0.999):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9)
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-9)
        assert t_quantile(1 - p, 3) == pytest.approx(-t_quantile(p, 3), rel=1e-12)


def test_t_quantiles_approach_the_normal_ones():
    assert t_quantile(0.975, 10_000) == pytest.approx(1.959964, abs=1e-3)
    assert t_quantile(0.975, 9) > t_quantile(0.975, 30) > 1.96


@pytest.mark.parametrize(
    ("probability", "dof", "message"),
    [(1.0, 3, "strictly between 0 and 1"), (0.0, 3, "strictly between"), (0.9, 0, "dof")],
)
def test_t_quantile_rejects_bad_arguments(probability, dof, message):
    with pytest.raises(ValueError, match=message):
        t_quantile(probability, dof)


def test_intervals_of_a_mean_cover_the_truth_95_percent_of_the_time():
    covered, widths = 0, []
    for seed in range(400):
        data = cloud(1000, 0.0, seed=100 + seed, dim=1)  # N(0, 1): the true mean is 0
        parts = [float(part.mean()) for part in data.chunk(10)]  # 10 disjoint parts of 100
        result = interval(float(data.mean()), parts)
        covered += result.low <= 0 <= result.high
        widths.append(result.high - result.low)
    assert 365 <= covered <= 395  # 95% of 400 = 380, binomial sd 4.4
    mean_sd = 0.9727  # E[s] for 10 normal values (c4 = 0.9727), times t_0.975,9 / sqrt(1000)
    expected = 2 * t_quantile(0.975, 9) * mean_sd / math.sqrt(1000)
    assert sum(widths) / len(widths) == pytest.approx(expected, rel=0.05)


def test_an_interval_is_centred_on_the_whole_set_value_with_the_t_factor():
    result = interval(5.0, [4.0, 6.0, 5.0, 5.0])
    assert result.value == 5.0 and result.value - result.low == result.high - result.value
    spread = math.sqrt(2 / 3)  # the sample standard deviation of 4, 6, 5, 5
    assert result.high - result.value == pytest.approx(3.182446 * spread / 2, rel=1e-6)


def test_an_interval_of_a_difference_resolves_the_order_only_when_it_excludes_zero():
    assert Interval(1.0, 0.2, 1.8).excludes_zero() and Interval(-1.0, -1.8, -0.2).excludes_zero()
    assert not Interval(0.5, -0.1, 1.1).excludes_zero()


def test_a_paired_difference_removes_the_noise_the_two_share():
    torch.manual_seed(3)
    shared = torch.randn(10).double() * 5  # each reference part's own offset, shared by A and B
    a_parts = (shared + 1.0 + 0.1 * torch.randn(10).double()).tolist()
    b_parts = (shared + 0.1 * torch.randn(10).double()).tolist()
    a, b = sum(a_parts) / 10, sum(b_parts) / 10
    paired = paired_difference(a, a_parts, b, b_parts)
    assert paired.value == pytest.approx(a - b)
    assert paired.excludes_zero() and paired.low > 0  # A is larger, resolved
    assert interval(a, a_parts).low < interval(b, b_parts).high  # the separate ones overlap
    differences = [x - y for x, y in zip(a_parts, b_parts, strict=True)]
    assert paired == interval(a - b, differences)


def test_a_paired_difference_needs_the_same_parts():
    with pytest.raises(ValueError, match="same parts for both, got 3 and 2"):
        paired_difference(1.0, [1.0, 2.0, 3.0], 1.0, [1.0, 2.0])


def test_a_seed_difference_is_welchs_interval_with_conservative_degrees_of_freedom():
    a, b = [10.0, 12.0, 11.0, 13.0], [8.0, 9.0, 7.0]
    result = seed_difference(a, b)
    mean_a, mean_b = sum(a) / 4, sum(b) / 3
    var_a = sum((x - mean_a) ** 2 for x in a) / 3
    var_b = sum((x - mean_b) ** 2 for x in b) / 2
    half = t_quantile(0.975, 2) * math.sqrt(var_a / 4 + var_b / 3)
    assert result.value == pytest.approx(mean_a - mean_b)
    assert (result.low, result.high) == pytest.approx(
        (mean_a - mean_b - half, mean_a - mean_b + half)
    )
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_difference([1.0], [1.0, 2.0])


def test_an_interval_needs_two_parts():
    with pytest.raises(ValueError, match="at least 2 parts"):
        interval(1.0, [1.0])


# Density and coverage (Naeem et al. 2020)


def brute_force_density_coverage(real: torch.Tensor, generated: torch.Tensor, k: int):
    """Density and coverage by loops over every pair, with radii from sorted distance rows."""
    real, generated = real.double(), generated.double()
    radii = [sorted(float((p - q).norm()) for q in real)[k] for p in real]  # [0] is the point
    hits, covered = 0, [False] * len(real)
    for y in generated:
        for i, x in enumerate(real):
            if float((y - x).norm()) <= radii[i]:
                hits += 1
                covered[i] = True
    return hits / (k * len(generated)), sum(covered) / len(real)


@pytest.mark.parametrize(("k", "chunk"), [(1, 7), (3, 1000), (5, 16)])
def test_density_and_coverage_match_a_brute_force_count(k, chunk):
    real, generated = cloud(60, 0.0, seed=21, dim=4), cloud(45, 0.5, seed=22, dim=4)
    result = density_coverage(manifold(real, k), generated, chunk=chunk)
    expected = brute_force_density_coverage(real, generated, k)
    assert (result.density, result.coverage) == pytest.approx(expected, abs=1e-12)


def test_samples_in_one_outlier_ball_have_full_precision_but_little_density_and_coverage():
    real = torch.cat([cloud(200, 0.0, seed=23, dim=2), torch.tensor([[30.0, 30.0]])])  # + outlier
    big = manifold(real, k=3)
    samples = torch.tensor([[30.0, 30.0]]) + 0.5 * cloud(100, 0.0, seed=24, dim=2)  # near it
    assert precision_recall(big, manifold(samples, 3)).precision > 0.9
    result = density_coverage(big, samples)
    assert result.coverage < 0.05 and result.density < 0.4


def test_sample_scores_bundle_fid_precision_recall_density_and_coverage():
    real, generated = cloud(300, 0.0, seed=25, dim=5), cloud(200, 0.3, seed=26, dim=5)
    real_manifold = manifold(real)
    scores = sample_scores(generated, fit_gaussian(real), real_manifold)
    assert scores["fid"] == frechet_distance(fit_gaussian(generated), fit_gaussian(real))
    pr = precision_recall(real_manifold, manifold(generated))
    dc = density_coverage(real_manifold, generated)
    assert (scores["precision"], scores["recall"]) == (pr.precision, pr.recall)
    assert (scores["density"], scores["coverage"]) == (dc.density, dc.coverage)
