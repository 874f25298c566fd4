"""The exporter behind the book's live figures (tools/live_models.py): each kind of network runs in
ONNX Runtime as it runs in PyTorch, for any batch size, and the data shipped with the networks is
what the chapters draw.

The networks the smoke build exports from its chapters' checkpoints are compared with PyTorch in
tests/book/test_live_models.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from labutils import VAE, Autoencoder, ConvVAE, Generator
from labutils.sampling import sample_dcgan, sample_vae
from tools.live_models import (
    chapter_noise,
    example_input,
    export_network,
    first_of_each_digit,
    map_square,
    principal_directions,
    wrapped,
)

TOLERANCE = 1e-5  # largest absolute difference allowed between ONNX Runtime and PyTorch


def onnx_outputs(path, inputs: torch.Tensor) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: inputs.numpy()})


def largest_difference(model: torch.nn.Module, part: str, path, batch: int) -> float:
    """Largest absolute difference between PyTorch and ONNX Runtime over every output."""
    inputs = example_input(model, part, batch)
    with torch.inference_mode():
        expected = wrapped(model, part)(inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = onnx_outputs(path, inputs)
    assert len(got) == len(expected)
    return max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected, strict=True))


MODELS = {  # small models of each kind, with each part the live figures export
    "ae": lambda: Autoencoder(latent_dim=2, hidden=(32,)),
    "vae": lambda: VAE(latent_dim=20, hidden=(64, 32)),
    "dcgan": lambda: Generator(nz=100, width=8),
    "conv-vae": lambda: ConvVAE(latent_dim=20, width=8),
}
EXPORTS = [("ae", "encoder"), ("ae", "decoder"), ("vae", "encoder"), ("vae", "decoder")]
EXPORTS += [("dcgan", "decoder"), ("conv-vae", "decoder")]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[tuple[str, str], tuple[torch.nn.Module, Path]]:
    """Each (kind, part) of EXPORTS exported once: the model (seed 0) and its ONNX file."""
    folder = tmp_path_factory.mktemp("onnx")
    networks = {}
    for kind, part in EXPORTS:
        torch.manual_seed(0)
        model = MODELS[kind]().eval()
        path = folder / f"{kind}-{part}.onnx"
        entry = export_network(model, part, path)
        assert entry["bytes"] == path.stat().st_size > 0
        networks[kind, part] = model, path
    return networks


@pytest.mark.parametrize("network", EXPORTS, ids="-".join)
def test_exported_network_matches_pytorch_for_any_batch(exported, network):
    model, path = exported[network]
    for batch in (1, 64):  # one digit, an 8 x 8 grid; the export traced a batch of 2
        assert largest_difference(model, network[1], path, batch) < TOLERANCE


def test_exported_images_are_in_the_data_range(exported):
    """A DCGAN generator's Tanh output is mapped to [0, 1], as sample_dcgan maps it."""
    generator, path = exported["dcgan", "decoder"]
    (images,) = onnx_outputs(path, chapter_noise(3, 16, 100, 16))
    expected = sample_dcgan(generator, 16, torch.Generator().manual_seed(3))
    assert np.abs(images - expected.numpy()).max() < TOLERANCE
    assert images.min() >= 0 and images.max() <= 1


def test_chapter_noise_reproduces_the_chapters_draws():
    """Chapter 2 samples 100 codes with seed 0; chapter 4 draws SAMPLES codes with seed 2 and
    shows the first 25, which differ from a draw of 25 (PyTorch redraws a tensor's last 16)."""
    torch.manual_seed(0)
    vae = VAE(latent_dim=20, hidden=(32,)).eval()
    with torch.inference_mode():
        chapter_2 = sample_vae(vae, 100, torch.Generator().manual_seed(0))
        shipped = vae.decode(chapter_noise(0, 100, 20, 100))
    assert torch.equal(chapter_2, shipped)
    chapter_4 = sample_vae(vae, 500, torch.Generator().manual_seed(2))[:25]
    with torch.inference_mode():
        assert torch.equal(chapter_4, vae.decode(chapter_noise(2, 25, 20, 500)))
        assert not torch.equal(chapter_4, vae.decode(chapter_noise(2, 25, 20, 25)))


def test_principal_directions_are_orthonormal_and_ordered():
    generator = torch.Generator().manual_seed(0)
    scales = torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])
    codes = torch.randn(4000, 5, generator=generator) * scales + 2.0  # (4000, 5)
    found = principal_directions(codes, 3)
    directions = torch.tensor(found["directions"])  # (3, 5)
    assert torch.allclose(directions @ directions.T, torch.eye(3), atol=1e-5)
    projected = (codes - torch.tensor(found["mean"])) @ directions.T  # (4000, 3)
    assert torch.allclose(projected.std(dim=0), torch.tensor(found["spread"]), rtol=1e-4)
    assert found["spread"] == sorted(found["spread"], reverse=True)
    assert torch.allclose(torch.tensor(found["spread"]), scales[:3], rtol=0.05)
    assert abs(sum(found["share"]) - float((scales[:3] ** 2).sum() / (scales**2).sum())) < 0.01


def test_first_of_each_digit(mnist_test):
    images, labels = mnist_test
    picked = first_of_each_digit(images, labels)
    assert labels[picked].tolist() == list(range(10))
    for digit, index in enumerate(picked.tolist()):
        assert (labels[:index] != digit).all()


def test_map_square():
    """The VAE's map spans its prior's [-3, 3]; the autoencoder's all but its outermost codes."""
    codes = torch.cat([torch.linspace(-10, 30, 999)[:, None], torch.zeros(999, 1)], dim=1)
    assert map_square("vae-latent2", codes) == (-3.0, 3.0)
    low, high = map_square("ae-latent2", codes)
    assert -10 < low < -9.5 and 29.5 < high < 30
