"""The networks the smoke build exported for the live figures (book/_ext/livemodels.py): every one
runs in ONNX Runtime as its chapter's checkpoint runs in PyTorch, and the data shipped with them
is what the chapters drew."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from labutils import load_mnist
from labutils.sampling import standard_normal
from tools.live_models import (
    CONV_VAE,
    NETWORKS,
    SAMPLE_FIGURES,
    example_input,
    first_of_each_digit,
    load_model,
    wrapped,
)

pytestmark = pytest.mark.xdist_group("book")  # share the one smoke build

# Largest absolute difference allowed: for pixel values in [0, 1], 1e-5; for codes, 1e-5 times
# the largest code's size when it is above 1 (float32 keeps about 7 significant digits).
TOLERANCE = 1e-5


def tolerance(expected: torch.Tensor) -> float:
    return TOLERANCE * max(1.0, float(expected.abs().max()))


def live(smoke_book: Path) -> Path:
    return smoke_book / "_static" / "live"


def read_array(folder: Path, entry: dict) -> np.ndarray:
    return np.fromfile(folder / entry["file"], dtype="<f4").reshape(entry["shape"])


@pytest.fixture(scope="module")
def manifest(smoke_book: Path) -> dict:
    return json.loads((live(smoke_book) / "models.json").read_text())


def test_every_network_is_exported(manifest: dict):
    assert sorted(manifest["networks"]) == sorted(network.name for network in NETWORKS)
    assert manifest["exporter"]["dynamo"] is True
    assert manifest["exporter"]["opset_version"] == 18


@pytest.mark.parametrize("network", NETWORKS, ids=lambda network: network.name)
def test_exported_network_matches_its_checkpoint(smoke_book, smoke_checkpoints, network):
    """ONNX Runtime (Python) against PyTorch on fixed inputs, a single one and a batch of 64:
    test digits for an encoder, a ramp of codes for a decoder."""
    model = load_model(smoke_checkpoints / f"{network.checkpoint}.pt", network.key)
    path = live(smoke_book) / f"{network.name}.onnx"
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 64):
        inputs = (
            load_mnist("test", limit=batch)[0]
            if network.part == "encoder"
            else example_input(model, network.part, batch)
        )
        with torch.inference_mode():
            expected = wrapped(model, network.part)(inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {session.get_inputs()[0].name: inputs.numpy()})
        for ours, theirs in zip(got, expected, strict=True):
            assert np.abs(ours - theirs.numpy()).max() < tolerance(theirs)


def test_shipped_data_is_the_chapters(smoke_book: Path, manifest: dict):
    """The test digits are the first of each class; each sample figure's noise is what its
    chapter draws: chapter 2's `VAE.sample(100, Generator().manual_seed(0))`, chapter 3's
    `torch.randn(64, NZ, generator=Generator().manual_seed(1))`, and the first 25 of chapter 4's
    `sample_vae(conv_vae, SAMPLES, seeded(2))`, SAMPLES being 500 in smoke mode."""
    folder = live(smoke_book)
    images, labels = load_mnist("test")
    digits = read_array(folder, manifest["arrays"]["digits"])
    assert np.array_equal(digits, images[first_of_each_digit(images, labels)].numpy())
    chapter_2 = torch.randn(100, 20, generator=torch.Generator().manual_seed(0))
    chapter_3 = torch.randn(64, 100, generator=torch.Generator().manual_seed(1))
    chapter_4 = standard_normal(500, 20, torch.Generator().manual_seed(2), "cpu")[:25]
    chapters = (("vae-latent20", chapter_2), ("dcgan", chapter_3), (CONV_VAE, chapter_4))
    for name, noise in chapters:
        figure = manifest["samples"][name]
        assert figure["seed"] == SAMPLE_FIGURES[name]["seed"]
        assert np.array_equal(
            read_array(folder, manifest["arrays"][figure["noise"]]), noise.numpy()
        )
