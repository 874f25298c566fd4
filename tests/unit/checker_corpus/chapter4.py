"""Answers to Exercises 4.4 (my_frechet_distance), 4.5 (my_class_entropy) and 4.6
(my_precision_recall)."""

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


@wrong("4.4", "this is d, the square root", "the FID is d^2, the squared Fréchet distance")
def square_root_of_the_distance(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2) ** 0.5


@wrong("4.4", "complex number", "real part")
def forgets_the_real_part(mu1, cov1, mu2, cov2):
    mean_term, traces = parts(mu1, cov1, mu2, cov2)
    return mean_term + traces - 2 * torch.linalg.eigvals(cov1 @ cov2).sqrt().sum()


@wrong("4.4", "the trace of cov1 is counted twice", "tr(cov1) + tr(cov2)")
def first_trace_twice(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return float((mu1 - mu2).pow(2).sum() + 2 * cov1.trace() - 2 * cross)


@wrong("4.4", "should be a single number", "shape (3,)")
def mean_term_not_summed(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).sqrt().sum().real
    return (mu1 - mu2).pow(2) + cov1.trace() + cov2.trace() - 2 * cross


@wrong("4.4", "eigvalsh assumes a symmetric matrix", "use torch.linalg.eigvals")
def eigvalsh_of_a_non_symmetric_product(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvalsh(cov1 @ cov2).clamp(min=0).sqrt().sum()
    return distance(mu1, cov1, mu2, cov2, cross=cross)


@wrong("4.4", "should be a single number", "a tuple of 2 items")
def returns_the_eigenvalues_too(mu1, cov1, mu2, cov2):
    eigenvalues = torch.linalg.eigvals(cov1 @ cov2)
    return distance(mu1, cov1, mu2, cov2), eigenvalues


@wrong("4.4", "these are the eigenvalues of cov1 + cov2", "of the product")
def eigenvalues_of_the_sum(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2, cross=torch.linalg.eigvals(cov1 + cov2).sqrt().sum().real)


@wrong("4.4", "NaN for singular covariances", "clamp the real parts at 0")
def square_roots_of_the_real_parts(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).real.sqrt().sum()  # NaN for a slightly negative one
    return distance(mu1, cov1, mu2, cov2, cross=cross)


@right("4.4")
def clamped_real_parts(mu1, cov1, mu2, cov2):
    cross = torch.linalg.eigvals(cov1 @ cov2).real.clamp(min=0).sqrt().sum()
    return distance(mu1, cov1, mu2, cov2, cross=cross)


@wrong("4.4", "The distance between the 1-D Gaussians is", "the reference gives")
def an_unknown_offset(mu1, cov1, mu2, cov2):
    return distance(mu1, cov1, mu2, cov2) + 0.25


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


@wrong("4.5", "the counts are divided by 10, the number of classes")
def divides_by_ten(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double()
    p = counts[counts > 0] / 10
    return float(-(p * p.log()).sum())


@wrong("4.5", "the terms -p log p are averaged", "their sum")
def mean_instead_of_sum(predicted_labels):
    return entropy(predicted_labels, reduce=torch.mean)


@wrong("4.5", "does not have one bin per digit", "torch.bincount")
def histc_with_nine_bins(predicted_labels):
    counts = torch.histc(predicted_labels.float(), bins=9, min=0, max=9)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


@wrong("4.5", "the counts are smoothed", "a digit that never occurs has probability 0")
def plus_one_smoothing(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double() + 1
    p = counts / counts.sum()
    return float(-(p * p.log()).sum())


@wrong("4.5", "lies between 0", "log 10 = 2.3026 nats", "is outside")
def forgets_the_weights(predicted_labels):
    p = torch.bincount(predicted_labels, minlength=10).double() / len(predicted_labels)
    return float(-p[p > 0].log().sum())  # -sum log p: the p in front is missing


@wrong("4.5", "It is in the possible range", "not -sum p log p of the digits' frequencies")
def normalised_by_the_largest_count(predicted_labels):
    counts = torch.bincount(predicted_labels, minlength=10).double()
    p = counts[counts > 0] / counts.max()  # 1 for the most common digit: no distribution
    return float(-(p * p.log()).sum())


@wrong("4.5", "should be a single number", "None")
def prints_instead_of_returning(predicted_labels):
    print(entropy(predicted_labels))


@wrong("4.5", "raised", "not implemented for 'Float'", "line")  # RuntimeError before PyTorch 2.8
def bincount_of_floats(predicted_labels):
    counts = torch.bincount(predicted_labels.float())
    return float(counts.sum())


# --- Exercise 4.6: precision and recall with k-nearest-neighbour balls ------------------------


@right("4.6")
def cdist_and_sort(real, generated, k):
    real, generated = real.double(), generated.double()
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]  # column 0: the point itself
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)  # (M, N)
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


@right("4.6")
def expanded_differences_and_topk(real, generated, k):
    def dist(a, b):
        return (a[:, None, :] - b[None, :, :]).pow(2).sum(dim=-1).sqrt()  # (A, B)

    real_radii = dist(real, real).topk(k + 1, dim=1, largest=False).values[:, -1]
    generated_radii = dist(generated, generated).topk(k + 1, dim=1, largest=False).values[:, -1]
    inside = dist(generated, real)  # (M, N)
    precision = (inside <= real_radii).any(dim=1).float().mean()
    recall = (inside <= generated_radii[:, None]).any(dim=0).float().mean()
    return precision, recall  # 0-d tensors


@right("4.6")
def float32_kthvalue(real, generated, k):
    real, generated = real.float(), generated.float()
    real_radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values  # (N,)
    generated_radii = torch.cdist(generated, generated).kthvalue(k + 1, dim=1).values  # (M,)
    distances = torch.cdist(generated, real)
    precision = (distances <= real_radii).any(dim=1).sum().item() / len(generated)
    recall = (distances.T <= generated_radii).any(dim=1).sum().item() / len(real)
    return precision, recall


@wrong(
    "4.6", "a point exactly on a ball's boundary is counted as outside", "distance <= the radius"
)
def numpy_partition_strict(real, generated, k):
    # Strict <: wrong only at ties (a repeated point, or integer features), which random
    # clouds never have: the grid case of the checker has them.
    real, generated = real.numpy(), generated.numpy()

    def dist(a, b):
        return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)

    real_radii = np.partition(dist(real, real), k, axis=1)[:, k]
    generated_radii = np.partition(dist(generated, generated), k, axis=1)[:, k]
    distances = dist(generated, real)
    precision = np.mean((distances < real_radii[None, :]).any(axis=1))
    recall = np.mean((distances < generated_radii[:, None]).any(axis=0))
    return precision, recall  # NumPy float64 scalars


@right("4.6")
def loops_over_points(real, generated, k):
    def radii(points):
        return [torch.cdist(p[None], points)[0].sort().values[k] for p in points]

    real_radii, generated_radii = radii(real), radii(generated)
    in_real = 0
    for g in generated:
        to_real = torch.cdist(g[None], real)[0]  # (N,)
        in_real += any(to_real[j] <= real_radii[j] for j in range(len(real)))
    in_generated = 0
    for r in real:
        to_generated = torch.cdist(r[None], generated)[0]  # (M,)
        in_generated += bool((to_generated <= torch.stack(generated_radii)).any())
    return [in_real / len(generated), in_generated / len(real)]  # a list


@right("4.6")
def squared_distances_with_an_infinite_diagonal(real, generated, k):
    def squared(a, b):
        return (a.pow(2).sum(1)[:, None] + b.pow(2).sum(1)[None, :] - 2 * a @ b.T).clamp(min=0)

    def squared_radii(points):
        d = squared(points, points).fill_diagonal_(float("inf"))  # no point is its own neighbour
        return d.sort(dim=1).values[:, k - 1]

    distances = squared(generated, real)  # no square roots: compare squares with squares
    precision = (distances <= squared_radii(real)[None, :]).any(dim=1).double().mean()
    recall = (distances <= squared_radii(generated)[:, None]).any(dim=0).double().mean()
    return precision.item(), recall.item()


@right("4.6")
def min_of_distance_minus_radius(real, generated, k):
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)
    precision = ((distances - real_radii[None, :]).min(dim=1).values <= 0).double().mean()
    recall = ((distances - generated_radii[:, None]).min(dim=0).values <= 0).double().mean()
    return precision.item(), recall.item()


@right("4.6")
def one_tensor_of_two_numbers(real, generated, k):
    # `precision, recall = my_precision_recall(...)` unpacks a tensor (2,) like a tuple.
    return torch.tensor(cdist_and_sort(real, generated, k))


def precision_recall_with(
    real,
    generated,
    k,
    column=None,
    radii_of=None,
    distance=torch.cdist,
    real_radii_for_recall=False,
):
    """The correct computation, with one step replaceable by a mistake."""
    column = k if column is None else column
    radii_of = radii_of or (
        lambda points, k: distance(points, points).sort(dim=1).values[:, column]
    )
    real, generated = real.double(), generated.double()
    real_radii, generated_radii = radii_of(real, k), radii_of(generated, k)
    distances = distance(generated, real)  # (M, N)
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    if real_radii_for_recall:
        recall = (distances <= real_radii[None, :]).any(dim=0).double().mean()
    else:
        recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


@wrong("4.6", "precision and recall are swapped")
def swapped(real, generated, k):
    precision, recall = precision_recall_with(real, generated, k)
    return recall, precision


@wrong("4.6", "counts the point itself", "k-th nearest *other* point")
def own_neighbour(real, generated, k):
    return precision_recall_with(real, generated, k, column=k - 1)


@wrong("4.6", "the (k+1)-th nearest other point", "off by one")
def one_neighbour_too_far(real, generated, k):
    return precision_recall_with(real, generated, k, column=k + 1)


@wrong("4.6", "tested against the balls of its own set")
def generated_radii_for_precision(real, generated, k):
    real, generated = real.double(), generated.double()
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)
    precision = (distances <= generated_radii[:, None]).any(dim=1).double().mean()
    recall = (distances <= real_radii[None, :]).any(dim=0).double().mean()
    return float(precision), float(recall)


@wrong("4.6", "recall also uses the real points' balls")
def real_balls_for_recall_too(real, generated, k):
    return precision_recall_with(real, generated, k, real_radii_for_recall=True)


@wrong("4.6", "squared distances are compared with radii that are not squared")
def squared_distances_against_radii(real, generated, k):
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = (generated[:, None, :] - real[None, :, :]).pow(2).sum(-1)  # forgot the sqrt
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


@wrong("4.6", "compare distances with distances")
def distances_against_squared_radii(real, generated, k):
    def squared_radii(points, k):
        return (points[:, None] - points[None]).pow(2).sum(-1).sort(dim=1).values[:, k]

    return precision_recall_with(real, generated, k, radii_of=squared_radii)


@wrong("4.6", "the mean distance to the k nearest other points")
def mean_distance_to_the_k_nearest(real, generated, k):
    def mean_radii(points, k):
        return torch.cdist(points, points).sort(dim=1).values[:, 1 : k + 1].mean(dim=1)

    return precision_recall_with(real, generated, k, radii_of=mean_radii)


@wrong("4.6", "`any` runs over the wrong axis")
def any_over_the_wrong_axis(real, generated, k):
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)  # (M, N)
    precision = (distances <= real_radii[None, :]).any(dim=0).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=1).double().mean()
    return float(precision), float(recall)


@wrong("4.6", "divided by the other set's size")
def divided_by_the_other_sets_size(real, generated, k):
    precision, recall = precision_recall_with(real, generated, k)
    return precision * len(generated) / len(real), recall * len(real) / len(generated)


@wrong("4.6", "percentages", "fractions between 0 and 1")
def percentages(real, generated, k):
    precision, recall = precision_recall_with(real, generated, k)
    return 100 * precision, 100 * recall


@wrong("4.6", "Return two numbers, (precision, recall)", "got float")
def only_precision(real, generated, k):
    return precision_recall_with(real, generated, k)[0]


@wrong("4.6", "Manhattan (L1, p=1)")
def l1_distance(real, generated, k):
    def manhattan(a, b):
        return torch.cdist(a, b, p=1)

    return precision_recall_with(real, generated, k, distance=manhattan)


@wrong("4.6", "differs from the reference", "Inside means at a distance <= the radius", "float64")
def normalised_features(real, generated, k):
    real = torch.nn.functional.normalize(real, dim=1)
    generated = torch.nn.functional.normalize(generated, dim=1)
    return precision_recall_with(real, generated, k)


@wrong("4.6", "Return two numbers, (precision, recall)", "got dict")
def returns_a_dict(real, generated, k):
    precision, recall = precision_recall_with(real, generated, k)
    return {"precision": precision, "recall": recall}


@wrong("4.6", "should be numbers between 0 and 1")
def returns_the_masks(real, generated, k):
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)
    return (distances <= real_radii).any(dim=1), (distances.T <= generated_radii).any(dim=1)


@wrong("4.6", "the radii are measured to the other set's points")
def radii_from_the_other_set(real, generated, k):
    real, generated = real.double(), generated.double()
    distances = torch.cdist(generated, real)  # (M, N)
    real_radii = distances.sort(dim=0).values[k - 1]  # k-th nearest generated point: (N,)
    generated_radii = distances.sort(dim=1).values[:, k - 1]  # k-th nearest real point: (M,)
    precision = (distances <= real_radii[None, :]).any(dim=1).double().mean()
    recall = (distances <= generated_radii[:, None]).any(dim=0).double().mean()
    return float(precision), float(recall)


@wrong("4.6", "integer division (//)")
def integer_division(real, generated, k):
    real_radii = torch.cdist(real, real).sort(dim=1).values[:, k]
    generated_radii = torch.cdist(generated, generated).sort(dim=1).values[:, k]
    distances = torch.cdist(generated, real)
    inside_real = int((distances <= real_radii).any(dim=1).sum())
    inside_generated = int((distances <= generated_radii[:, None]).any(dim=0).sum())
    return inside_real // len(generated), inside_generated // len(real)


@wrong("4.6", "the `k` argument is ignored")
def ignores_k(real, generated, k=3):
    return precision_recall_with(real, generated, 3)


@wrong("4.6", "rounded", "round only when printing")
def rounded_for_printing(real, generated, k):
    precision, recall = precision_recall_with(real, generated, k)
    return round(precision, 2), round(recall, 2)
