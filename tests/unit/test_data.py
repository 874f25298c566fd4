"""MNIST loading, MD5 verification, and the errors a damaged data folder gives."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import torch
import torch.serialization
import torchvision

from labutils import DataError, data, load_mnist, minibatches, prepare_mnist
from labutils.data import default_root

SHIPPED = default_root()
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # from data's README


def copy_of_data(tmp_path: Path) -> Path:
    """A private copy of the shipped data folder (the .gz files and MD5SUMS.raw)."""
    root = tmp_path / "data"
    root.mkdir()
    for path in SHIPPED.glob("*.gz"):
        shutil.copy(path, root)
    shutil.copy(SHIPPED / "MD5SUMS.raw", root)
    return root


def test_test_split_shapes_types_and_range(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (10_000,) and labels.dtype == torch.int64
    assert images.min() == 0 and images.max() == 1


def test_label_counts_match_the_published_figures(mnist_test):
    assert torch.bincount(mnist_test[1]).tolist() == TEST_LABEL_COUNTS


def test_train_split_mean_pixel():
    images, labels = load_mnist("train", limit=60_000)
    assert images.shape[0] == 60_000
    assert images.mean().item() == pytest.approx(0.1307, abs=1e-4)


def test_torchvision_finds_the_decompressed_files():
    dataset = torchvision.datasets.MNIST(root=str(SHIPPED), train=False, download=False)
    image, label = dataset[0]
    ours_images, ours_labels = load_mnist("test", limit=1)
    assert label == ours_labels[0].item()
    pixels = torchvision.transforms.functional.pil_to_tensor(image)  # (1, 28, 28) uint8
    assert torch.equal(pixels, (ours_images[0] * 255).round().to(torch.uint8))


def test_corrupt_file_is_named_with_expected_md5_and_fix(tmp_path):
    root = copy_of_data(tmp_path)
    name = "t10k-labels-idx1-ubyte"
    payload = bytearray(gzip.decompress((root / f"{name}.gz").read_bytes()))
    payload[100] ^= 0xFF  # one flipped label byte
    (root / f"{name}.gz").write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(DataError) as error:
        prepare_mnist(root)
    message = str(error.value)
    assert f"{name}.gz" in message
    assert "expected 27ae3e4e09519cfbb04c329615203637" in message
    assert f"git checkout -- data/{name}.gz" in message


def test_truncated_file_is_named(tmp_path):
    root = copy_of_data(tmp_path)
    name = "t10k-images-idx3-ubyte"
    data = (root / f"{name}.gz").read_bytes()
    (root / f"{name}.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=f"{name}.gz is truncated or corrupt"):
        prepare_mnist(root)


def test_a_raw_file_damaged_after_verification_is_redone(tmp_path):
    root = copy_of_data(tmp_path)
    raw = prepare_mnist(root)
    labels = raw / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"\x00" * 10)  # changed size: the record no longer vouches for it
    images, loaded = load_mnist("test", root=root)
    assert torch.bincount(loaded).tolist() == TEST_LABEL_COUNTS


def test_missing_folder_says_how_to_restore(tmp_path):
    with pytest.raises(DataError, match="git checkout -- data/"):
        prepare_mnist(tmp_path / "nowhere")


def test_unknown_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation")


def test_minibatches_cover_every_example_once_and_reshuffle():
    values = torch.arange(10)
    generator = torch.Generator().manual_seed(0)
    first = torch.cat([b for (b,) in minibatches(values, batch_size=3, generator=generator)])
    second = torch.cat([b for (b,) in minibatches(values, batch_size=3, generator=generator)])
    assert sorted(first.tolist()) == list(range(10)) == sorted(second.tolist())
    assert first.tolist() != second.tolist()  # a new order each epoch


def test_minibatches_keep_tensors_aligned():
    images, labels = torch.arange(8).float(), torch.arange(8)
    for x, y in minibatches(images, labels, batch_size=3, generator=torch.Generator()):
        assert torch.equal(x.long(), y)


def test_a_missing_file_is_named_with_how_to_restore_it(tmp_path):
    root = copy_of_data(tmp_path)
    (root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz is missing. Restore it with"):
        prepare_mnist(root)


def test_a_truncated_decompressed_file_is_rebuilt_from_the_shipped_one(tmp_path, mnist_test):
    root = copy_of_data(tmp_path)
    raw = prepare_mnist(root) / "t10k-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:100_000])  # a copy cut short, e.g. by a full disk
    images, _ = load_mnist("test", root=root)
    assert torch.equal(images, mnist_test[0])


def test_a_truncated_decompressed_file_with_a_corrupt_source_names_both_md5s(tmp_path):
    root = copy_of_data(tmp_path)
    name = "t10k-labels-idx1-ubyte"
    raw = prepare_mnist(root) / name
    raw.write_bytes(raw.read_bytes()[:5000])
    payload = bytearray(gzip.decompress((root / f"{name}.gz").read_bytes()))
    payload[9] ^= 1
    (root / f"{name}.gz").write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(DataError) as error:
        load_mnist("test", root=root)
    assert f"{name}.gz decompresses to data with MD5" in str(error.value)
    assert "expected 27ae3e4e09519cfbb04c329615203637" in str(error.value)
    assert f"git checkout -- data/{name}.gz" in str(error.value)


def test_the_data_folder_is_the_checkouts_from_anywhere_else_the_working_directorys(
    tmp_path, monkeypatch
):
    """In a checkout (editable install) the shipped folder is found from any working directory;
    an installed package (Colab) uses ./data, where prepare_mnist downloads."""
    assert SHIPPED == Path(data.__file__).resolve().parents[1] / "data"
    assert (SHIPPED / "MD5SUMS.raw").exists()
    monkeypatch.chdir(tmp_path)
    assert default_root() == SHIPPED  # not ./data: the chapters run from book/
    monkeypatch.setattr(data, "CHECKOUT_DATA", tmp_path / "site-packages" / "data")
    assert default_root() == Path("data")
