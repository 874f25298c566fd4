"""The library's input checks: valid data passes unchanged, each mistake gets a one-line fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from labutils._validate import (
    check_not_empty,
    check_unit_images,
    check_unit_range,
    validate_training_data,
)


def test_images_in_the_unit_range_pass_unchanged(one_batch):
    assert check_unit_range(one_batch, "fit_vae") is one_batch
    assert check_unit_images(one_batch, "fit_vae") is one_batch
    exact_ends = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1).expand(2, 1, 28, 28)
    assert check_unit_range(exact_ends, "fid") is exact_ends


def test_pixels_up_to_255_ask_for_the_division(one_batch):
    with pytest.raises(ValueError) as error:
        check_unit_range(one_batch * 255, "fit_vae (train_images)")
    assert str(error.value) == (
        "fit_vae (train_images) expects pixels in [0, 1], but they go up to 255.0: divide by 255."
    )


def test_generator_range_asks_for_the_mapping(one_batch):
    with pytest.raises(ValueError, match=r"looks like the generator's \[-1, 1\] range") as error:
        check_unit_range(one_batch * 2 - 1, "fid (images)")
    assert "they go down to -1.00" in str(error.value)
    assert str(error.value).endswith("use (x + 1) / 2.")


def test_other_ranges_are_named_with_their_extent(one_batch):
    standardised = (one_batch - 0.1307) / 0.3081  # the usual MNIST normalisation: about -0.42..2.8
    with pytest.raises(ValueError, match=r"range from -0\.424 to 2\.82: rescale them to \[0, 1\]"):
        check_unit_range(standardised, "fit_autoencoder (train_images)")


def test_non_finite_pixels_are_reported(one_batch):
    broken = one_batch.clone()
    broken[3, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite pixels"):
        check_unit_range(broken, "class_coverage")


def test_half_precision_images_are_checked_in_float():
    images = torch.full((2, 1, 28, 28), 255.0, dtype=torch.float16)
    with pytest.raises(ValueError, match="divide by 255"):
        check_unit_range(images, "fid")


def test_unit_images_check_type_shape_and_emptiness_first(one_batch):
    with pytest.raises(TypeError, match="images.float"):
        check_unit_images((one_batch * 255).to(torch.uint8), "fit_vae")
    with pytest.raises(ValueError, match="got no examples"):
        check_unit_images(one_batch[:0], "fit_vae")


def test_empty_data_is_refused(one_batch):
    with pytest.raises(ValueError) as error:
        check_not_empty(one_batch[:0], "fit")
    assert str(error.value) == (
        "fit got no examples (shape (0, 1, 28, 28)): check the slice, filter or limit that made "
        "the data."
    )
    with pytest.raises(ValueError, match="got no examples"):
        validate_training_data((one_batch[:0], torch.zeros(0)))


def test_training_data_is_returned_as_a_tuple_of_tensors(one_batch):
    labels = torch.arange(64)
    assert validate_training_data(one_batch) == (one_batch,)
    images, targets = validate_training_data((one_batch, labels))
    assert images is one_batch and targets is labels


def test_tensors_of_different_lengths_are_refused(one_batch):
    with pytest.raises(ValueError, match=r"different lengths \[64, 10\]"):
        validate_training_data((one_batch, torch.arange(10)))


@pytest.mark.parametrize(
    "make_data, fix",
    [
        (lambda x: [x, x], "use a tuple of tensors"),
        (lambda x: x.numpy(), r"torch.as_tensor\(data\)"),
        (lambda x: DataLoader(TensorDataset(x), batch_size=8), "pass the tensors themselves"),
        (lambda x: TensorDataset(x), "pass the tensors themselves"),
        (lambda x: (x, np.arange(64)), r"torch.as_tensor\(data\)"),
        (lambda x: {"images": x}, "pass the data as tensors"),
    ],
    ids=["list", "numpy", "dataloader", "dataset", "tuple-with-array", "dict"],
)
def test_unsupported_containers_name_what_fit_takes(one_batch, make_data, fix):
    with pytest.raises(
        TypeError, match=rf"fit expects a tensor or a tuple of tensors, got \w+: .*{fix}"
    ):
        validate_training_data(make_data(one_batch))


def test_an_empty_tuple_is_refused():
    with pytest.raises(ValueError, match="fit got an empty tuple: pass a tensor"):
        validate_training_data(())
