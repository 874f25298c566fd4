"""MNIST as tensors: decompress the shipped files once, check their MD5, batch on the device.

The repository ships the four original IDX files (gzip) in `data/`. The first load decompresses
them into `data/MNIST/raw/` -- where `torchvision.datasets.MNIST(root="data")` looks -- and checks
each against `MD5SUMS.raw`. Training then iterates over one device-resident tensor: no per-image
Python work per step (see the performance appendix).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from ._validate import require_positive_int

FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
IDX_MAGIC = {"images": 2051, "labels": 2049}
VERIFIED_STAMP = ".verified.json"
# The data folder of the checkout that `labutils` is imported from, when it is one (`make install`
# installs the package editable): the same folder whether a chapter runs from book/ or a test
# from the repository's root.
CHECKOUT_DATA = Path(__file__).resolve().parent.parent / "data"


class DataError(RuntimeError):
    """MNIST is missing or damaged; the message says which file and how to restore it."""


def default_root() -> Path:
    """Where MNIST is read from when no `root` is given: the checkout's `data/` folder when it
    holds the shipped files (their MD5SUMS.raw), else `data` in the working directory (an
    installed package, e.g. on Colab, where `prepare_mnist` downloads into it)."""
    return CHECKOUT_DATA if (CHECKOUT_DATA / "MD5SUMS.raw").exists() else Path("data")


def raw_dir(root: Path) -> Path:
    """Where torchvision expects the decompressed files."""
    return root / "MNIST" / "raw"


def read_md5sums(root: Path) -> dict[str, str]:
    """The expected MD5 of each decompressed file, from `MD5SUMS.raw`."""
    lines = (root / "MD5SUMS.raw").read_text().split("\n")
    return {name: md5 for md5, name in (line.split() for line in lines if line.strip())}


def md5_of(path: Path) -> str:
    """Hex MD5 of a file's bytes."""
    digest = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def restore_hint(name: str) -> str:
    """How a learner gets a damaged or missing file back."""
    return (
        f"Restore it with `git checkout -- data/{name}.gz` (the repository ships MNIST), "
        f"or copy the original file into the data folder; then run again."
    )


def decompress(root: Path, name: str, expected_md5: str) -> None:
    """Decompress `<root>/<name>.gz` into the raw folder, atomically, after checking its MD5."""
    source = root / f"{name}.gz"
    target = raw_dir(root) / name
    if not source.exists():
        raise DataError(f"MNIST file {source} is missing. {restore_hint(name)}")
    try:
        payload = gzip.decompress(source.read_bytes())
    except (OSError, EOFError) as error:
        raise DataError(
            f"MNIST file {source} is truncated or corrupt ({error}); its contents should have "
            f"MD5 {expected_md5} (from MD5SUMS.raw). {restore_hint(name)}"
        ) from error
    actual = hashlib.md5(payload).hexdigest()
    if actual != expected_md5:
        raise DataError(
            f"MNIST file {source} decompresses to data with MD5 {actual}, expected "
            f"{expected_md5} (from MD5SUMS.raw): the file is corrupt. {restore_hint(name)}"
        )
    write_atomically(target, payload)


def file_signature(path: Path) -> list[int]:
    """Size and modification time: cheap evidence that a verified file has not changed since."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def prepare_mnist(root: Path | None = None, splits: tuple[str, ...] = ("train", "test")) -> Path:
    """Make sure the decompressed, MD5-verified files of `splits` are in `<root>/MNIST/raw/`.

    Verification runs once; later calls only compare file sizes and times with the record.
    Returns the raw folder.
    """
    root = Path(root) if root is not None else default_root()
    names = {FILES[split, kind] for split in splits for kind in IDX_MAGIC}
    if not (root / "MD5SUMS.raw").exists():
        if colab_download(root, sorted(names)):
            return raw_dir(root)
        raise DataError(
            f"No MNIST data folder at {root.resolve()} (MD5SUMS.raw not found). Run from the "
            "repository's root, restore it with `git checkout -- data/`, or pass as `root` "
            "the folder that holds the four .gz files and MD5SUMS.raw."
        )
    stamp_path = raw_dir(root) / VERIFIED_STAMP
    record = read_record(stamp_path)
    verified = dict(record)
    for name, expected in read_md5sums(root).items():
        if name not in names:
            continue
        target = raw_dir(root) / name
        if target.exists() and record.get(name) == file_signature(target):
            continue
        if not target.exists() or md5_of(target) != expected:
            decompress(root, name, expected)
        verified[name] = file_signature(target)
    if verified != record:
        write_atomically(stamp_path, json.dumps(verified, indent=1).encode())
    return raw_dir(root)


def read_record(stamp_path: Path) -> dict[str, list[int]]:
    """The verification record, or an empty one if it is absent or being rewritten right now."""
    try:
        return json.loads(stamp_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_atomically(target: Path, payload: bytes) -> None:
    """Write `payload` to a private temporary file, then rename it over `target`: another process
    (a second test worker, a second torchrun rank) never sees a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_bytes(payload)
    os.replace(partial, target)


def colab_download(root: Path, names: list[str]) -> bool:
    """On Google Colab, where the shipped data folder is absent, download the decompressed files
    `names` that are missing from torchvision's MNIST mirrors (only those: a chapter that needs
    the test split does not wait for the training split). Returns False elsewhere."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    from torchvision.datasets import MNIST

    checksums = dict(MNIST.resources)  # archive name -> MD5
    for name in names:
        if not (raw_dir(root) / name).exists():
            download(f"{name}.gz", checksums[f"{name}.gz"], MNIST.mirrors, raw_dir(root))
    return True


def download(archive: str, md5: str, mirrors: list[str], folder: Path) -> None:
    """Download and decompress `archive` into `folder` from the first mirror that works."""
    from torchvision.datasets.utils import download_and_extract_archive

    errors = []
    for mirror in mirrors:
        try:
            download_and_extract_archive(
                f"{mirror}{archive}", download_root=str(folder), filename=archive, md5=md5
            )
            return
        except (OSError, RuntimeError) as error:  # no network (URLError), a damaged download
            errors.append(f"{mirror}: {error}")
    raise DataError(
        f"Could not download MNIST's {archive} ({'; '.join(errors)}). Check that this machine is "
        "online (on Colab: Runtime > Disconnect and delete runtime, then run the notebook again), "
        f"or put the four decompressed MNIST files into {folder} yourself (Colab's Files panel)."
    )


def read_idx(path: Path, kind: str) -> torch.Tensor:
    """Parse an IDX file (big-endian header, then uint8 values) into a uint8 tensor."""
    data = bytearray(path.read_bytes())
    magic = int.from_bytes(data[0:4], "big")
    if magic != IDX_MAGIC[kind]:
        raise DataError(f"{path} is not an MNIST {kind} file (magic number {magic}).")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(data[3])]
    header = 4 + 4 * len(dims)
    return torch.frombuffer(data, dtype=torch.uint8, offset=header).view(*dims)


def load_mnist(
    split: str = "train",
    device: torch.device | str = "cpu",
    limit: int | None = None,
    root: Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64 of one split, on `device`.

    `limit` keeps the first `limit` examples (used by the notebooks' smoke mode).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    if limit is not None:
        require_positive_int("limit", limit)  # 0 would give no data, a negative one drops some
    folder = prepare_mnist(root, (split,))
    pixels = read_idx(folder / FILES[split, "images"], "images")[:limit]  # (N, 28, 28) uint8
    labels = read_idx(folder / FILES[split, "labels"], "labels")[:limit]  # (N,) uint8
    images = pixels.to(device).unsqueeze(1).float().div_(255)  # (N, 1, 28, 28)
    return images, labels.to(device=device, dtype=torch.int64)


def minibatches(
    *tensors: torch.Tensor, batch_size: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, ...]]:
    """Yield aligned, shuffled slices of same-length tensors that already live on the device.

    A fresh permutation per call (i.e. per epoch) comes from `generator`, so a seeded generator
    gives the same order every run. Without a generator the order is kept (for evaluation).
    """
    count = tensors[0].shape[0]
    if generator is None:
        for start in range(0, count, batch_size):
            yield tuple(t[start : start + batch_size] for t in tensors)
        return
    order = torch.randperm(count, generator=generator).to(tensors[0].device)
    for start in range(0, count, batch_size):
        index = order[start : start + batch_size]
        yield tuple(t[index] for t in tensors)
