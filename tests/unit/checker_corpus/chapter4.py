"""Answers to Exercises 4.4 (my_frechet_distance) and 4.5 (my_class_entropy)."""

import numpy as np
import torch

from labutils.metrics import sqrtm_psd

from . import right, wrong

# --- Exercise 4.4: the Fréchet distance from the eigenvalues of cov1 @ cov2 -------------------


def parts(mu1, cov1, mu2, cov2):
    return (mu1 - mu2).pow(2).sum(), cov1.trace() + cov2.trace()


@right("4.4")
def from_eigvals(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return float((mu1 - mu2).pow(2).sum() + cov1.trace() + cov2.trace() - 2 * cross)


@right("4.4")
def symmetric_square_roots(mu1, cov1, mu2, cov2):
    root = sqrtm_psd(cov1)
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    return mean_term + traces - 2 * sqrtm_psd(root @ cov2 @ root).trace()


@right("4.4")
def numpy_scalar_in_the_inputs_dtype(mu1, cov1, mu2, cov2):
    eigenvalues = torch.linalg.eigvals(cov1 @ cov2)
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    return (mean_term + traces - 2 * eigenvalues.sqrt().real.sum()).numpy()  # 0-d array


@right("4.4")
def float32_numpy_scalar(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return np.float32(((mu1 - mu2) @ (mu1 - mu2) + cov1.trace() + cov2.trace() - 2 * cross).item())


@right("4.4")
def abs_of_the_complex_sum(mu1, cov1, mu2, cov2):
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    return (mean_term + traces - 2 * torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().abs()).item()


@right("4.4")
def in_float64_whatever_the_input(mu1, cov1, mu2, cov2):
    mu1, cov1, mu2, cov2 = (t.double() for t in (mu1, cov1, mu2, cov2))
    return from_eigvals(mu1, cov1, mu2, cov2)


def distance(mu1, cov1, mu2, cov2, factor=2.0, cross=None, mean=None):
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    mean_term = mean_term if mean is None else mean(mu1, mu2)
    if cross is None:
        cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return float(mean_term + traces - factor * cross)


@wrong("4.4", "factor 2", "missing")
def no_factor_two(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, factor=1.0)


@wrong("4.4", "element by element", "matrix square root")
def elementwise_root_of_the_product(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, cross=(cov1 @ cov2).sqrt().trace())


@wrong("4.4", "element by element")
def elementwise_product(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, cross=(cov1 * cov2).sqrt().trace())


@wrong("4.4", "only when the two matrices commute")
def product_of_roots(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, cross=(sqrtm_psd(cov1) @ sqrtm_psd(cov2)).trace())


@wrong("4.4", "mean term is not squared")
def norm_not_squared(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, mean=lambda a, b: (a - b).norm())


@wrong("4.4", "square root of the Fréchet distance")
def square_root_of_the_distance(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2) ** 0.5


@wrong("4.4", "complex number", "real part")
def forgets_the_real_part(mu1, cov1, mu2, cov2):
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    return mean_term + traces - 2 * torch.linalg.eigvals(cov1 @ cov2).sqrt().sum()


@wrong("4.4", "The distance between the 1-D Gaussians is", "the reference gives")
def first_trace_twice(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return float((mu1 - mu2).pow(2).sum() + 2 * cov1.trace() - 2 * cross)


@wrong("4.4", "should be a single number", "shape (3,)")
def mean_term_not_summed(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return (mu1 - mu2).pow(2) + cov1.trace() + cov2.trace() - 2 * cross


@wrong("4.4", "The distance between the 3-D Gaussians", "the reference gives")
def eigvalsh_of_a_non_symmetric_product(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvalsh(cov1 @ cov2).clamp(min=0).sqrt().sum()
    return distance(mu1, cov1, mu2, cov2, cross=cross)


@wrong("4.4", "should be a single number", "a tuple of 2 items")
def returns_the_eigenvalues_too(mu1, cov1, mu2, cov2):
    eigenvalues = torch.linalg.eigvals(cov1 @ cov2)
    return distance(mu1, cov1, mu2, cov2), eigenvalues


@wrong("4.4", "The distance between the 1-D Gaussians is", "the reference gives")
def eigenvalues_of_the_sum(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, cross=torch.linalg.eigvals(cov1 + cov2).sqrt().sum().real)


@wrong("4.4", "should be a single number", "a str")
def returns_a_formatted_string(mu1, cov1, mu2, cov2):
    return f"{distance(mu1, cov1, mu2, cov2):.3f}"


# --- Exercise 4.5: entropy of the predicted digits --------------------------------------------


@right("4.5")
def drop_empty_classes(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double()
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * shares.log()).sum())


@right("4.5")
def with_numpy(labels):
    p = np.bincount(labels.numpy(), minlength=10) / len(labels)
    p = p[p > 0]
    return -(p * np.log(p)).sum()


@right("4.5")
def entr(predicted_labels):
    p = torch.bincount(predicted_labels, minlength=10) / len(predicted_labels)
    return torch.special.entr(p).sum()


@right("4.5")
def categorical_entropy(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).float()
    return torch.distributions.Categorical(probs=counts / counts.sum()).entropy().item()


@right("4.5")
def numpy_float32_as_asked(predicted_labels):
    p = (np.bincount(predicted_labels.numpy(), minlength=10) / len(predicted_labels)).astype(
        np.float32
    )
    return np.float32(-(p * np.log(p + np.float32(1e-12))).sum())


@right("4.5")
def unique_counts(labels):
    _, counts = torch.unique(labels, return_counts=True)
    p = counts.double() / counts.sum()
    return -(p * torch.log(p)).sum().item()


def entropy(labels, log=torch.log, normalise=True, drop_empty=True, reduce=torch.sum):
    counts = torch.bincount(labels, minlength=10).double()
    counts = counts[counts > 0] if drop_empty else counts
    p = counts / counts.sum() if normalise else counts
    return float(-reduce(p * log(p)))


@wrong("4.5", "in bits")
def log2(predicted_labels):
    return entropy(predicted_labels, log=torch.log2)


@wrong("4.5", "base 10")
def log10(predicted_labels):
    return entropy(predicted_labels, log=torch.log10)


@wrong("4.5", "base 10")
def normalised_by_log_10(predicted_labels):
    return entropy(predicted_labels) / np.log(10)


@wrong("4.5", "not normalised into probabilities")
def raw_counts(predicted_labels):
    return entropy(predicted_labels, normalise=False)


@wrong("4.5", "sign is flipped")
def sign_flipped(predicted_labels):
    return -entropy(predicted_labels)


@wrong("4.5", "0 * log(0)", "leave out the empty classes")
def zero_log_zero(predicted_labels):
    return entropy(predicted_labels, drop_empty=False)


@wrong("4.5", "as if equally common")
def log_of_the_number_of_digits_seen(predicted_labels):
    return float(np.log(len(torch.unique(predicted_labels))))


@wrong("4.5", "should be a single number", "shape (10,)")
def returns_the_histogram(predicted_labels):
    return torch.bincount(predicted_labels, minlength=10) / len(predicted_labels)


@wrong("4.5", "The entropy for ten equally common digits is", "the reference gives")
def divides_by_ten(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double()
    p = counts[counts > 0] / 10
    return float(-(p * p.log()).sum())


@wrong("4.5", "The entropy for ten equally common digits is", "the reference gives")
def mean_instead_of_sum(predicted_labels):
    return entropy(predicted_labels, reduce=torch.mean)


@wrong("4.5", "The entropy for ten equally common digits is")
def histc_with_nine_bins(predicted_labels):
    counts = torch.histc(predicted_labels.float(), bins=9, min=0, max=9)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


@wrong("4.5", "The entropy for a histogram where digits 2 and 5 never occur", "the reference gives")
def plus_one_smoothing(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double() + 1
    p = counts / counts.sum()
    return float(-(p * p.log()).sum())


@wrong("4.5", "should be a single number", "None")
def prints_instead_of_returning(predicted_labels):
    print(entropy(predicted_labels))


@wrong("4.5", "raised", "not implemented for 'Float'", "line")  # RuntimeError before PyTorch 2.8
def bincount_of_floats(predicted_labels):
    counts = torch.bincount(predicted_labels.float())
    return float(counts.sum())
