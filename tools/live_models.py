"""The chapters' networks as ONNX files, and the data the book's live figures need with them.

The rendered book is static: no Python runs behind it. Its live figures
(book/_static/live-models.js) run the chapters' encoders and decoders in the reader's browser with
ONNX Runtime Web instead. The book build (book/_ext/livemodels.py) calls `export_site` once every
chapter has run, so each network comes from the checkpoint its chapter has just trained or loaded.

Every exported network maps a batch to a batch (the batch size is free) and returns what the
chapters plot: images (N, 1, 28, 28) in [0, 1] (a DCGAN generator's Tanh range [-1, 1] mapped
there, as `labutils.sampling.sample_dcgan` does), a code (N, D), or mu and log sigma^2 (N, D).
The exporter's settings are pinned (`EXPORT_OPTIONS`), so that a build writes the same graph
whatever torch.onnx's defaults become.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from labutils import VAE, Autoencoder, ConvVAE, Generator, load_mnist
from labutils.checkpoint import read_checkpoint
from labutils.course import COURSE_MODELS
from labutils.models import mean_code

OPSET = 18  # ONNX Runtime Web 1.30 runs every operator of opset 18 these networks use
EXPORT_OPTIONS = dict(dynamo=True, opset_version=OPSET, external_data=False, optimize=True)
MODEL_CLASSES = {cls.__name__: cls for cls in (Autoencoder, VAE, ConvVAE, Generator)}
CONV_VAE = COURSE_MODELS["conv_vae"]["checkpoint"]  # chapter 4's convolutional VAE


@dataclass(frozen=True)
class Network:
    """One exported network: the part `part` of the model `key` in checkpoint `checkpoint`."""

    checkpoint: str
    part: str  # "encoder" or "decoder" (a DCGAN generator is its decoder)
    key: str = "model"

    @property
    def name(self) -> str:
        return f"{self.checkpoint}-{self.part}"


NETWORKS = (
    Network("ae-latent2", "encoder"),
    Network("ae-latent2", "decoder"),
    Network("ae-latent20", "encoder"),
    Network("ae-latent20", "decoder"),
    Network("vae-latent2", "encoder"),
    Network("vae-latent2", "decoder"),
    Network("vae-latent20", "encoder"),
    Network("vae-latent20", "decoder"),
    Network("dcgan", "decoder", key="generator"),
    Network(CONV_VAE, "decoder"),
)
# The chapters' sample figures: which model, the seed of the CPU generator the chapter draws its
# noise from, and how many samples the figure shows in how many columns (chapter 2's
# fig-vae-samples, chapter 3's fig-dcgan-samples, chapter 4's conv VAE panel of
# fig-comparison-samples, the first 25 of the chapter's SAMPLES draws). The noise is drawn on the
# CPU, as chapters 3 and 4 draw it; chapter 2 draws on its device's generator, the same noise
# when the book is built on the CPU (as `make book` builds it).
SAMPLE_FIGURES = {
    "vae-latent20": dict(seed=0, count=100, columns=10),
    "dcgan": dict(seed=1, count=64, columns=8),
    CONV_VAE: dict(seed=2, count=25, columns=5),
}
COMPARISON = CONV_VAE  # the figure whose noise is the start of a larger draw
MAP_POINTS = 1000  # test codes drawn under each 2-D latent map
DIRECTIONS = 4  # principal directions of the 20-D VAE's codes that get a slider


class ImageDecoder(nn.Module):
    """Codes (N, D) -> images (N, 1, 28, 28) in [0, 1], for every kind of course model."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if isinstance(self.model, Generator):
            return (self.model(z) + 1) / 2  # (N, 1, 28, 28), Tanh's [-1, 1] -> [0, 1]
        return self.model.decode(z)  # (N, 1, 28, 28)


class CodeEncoder(nn.Module):
    """Images (N, 1, 28, 28) -> the code (N, D) of an autoencoder, or a VAE's mu and log sigma^2."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(images)


def load_model(path: Path, key: str) -> nn.Module:
    """Model `key` of a labutils checkpoint, built from the class and settings it records, in
    eval mode on the CPU."""
    saved = read_checkpoint(path)["models"][key]
    model = MODEL_CLASSES[saved["class"]](**saved["config"])
    model.load_state_dict(saved["state_dict"])
    return model.eval()


def wrapped(model: nn.Module, part: str) -> nn.Module:
    """The module that is exported for `part` of `model`."""
    return (CodeEncoder if part == "encoder" else ImageDecoder)(model).eval()


def latent_size(model: nn.Module) -> int:
    return model.nz if isinstance(model, Generator) else model.latent_dim


def example_input(model: nn.Module, part: str, batch: int = 2) -> torch.Tensor:
    """A fixed input of the right shape: a ramp of codes, or of pixel values."""
    shape = (batch, 1, 28, 28) if part == "encoder" else (batch, latent_size(model))
    count = int(np.prod(shape))
    return (
        torch.linspace(0, 1, count).view(shape)
        if part == "encoder"
        else (torch.linspace(-2, 2, count).view(shape))
    )


def names_of(model: nn.Module, part: str) -> tuple[list[str], list[str]]:
    """The graph's input and output names, which the JavaScript reads."""
    if part == "decoder":
        return ["z"], ["images"]
    return ["images"], ["mu", "logvar"] if isinstance(model, VAE | ConvVAE) else ["code"]


def export_network(model: nn.Module, part: str, path: Path) -> dict:
    """Write `part` of `model` to `path` as ONNX, with a free batch size; return its entry for
    the manifest (file, inputs, outputs, latent size, bytes)."""
    inputs, outputs = names_of(model, part)
    batch = torch.export.Dim("batch", min=1, max=4096)
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter's progress lines
        torch.onnx.export(
            wrapped(model, part),
            (example_input(model, part),),
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_shapes=({0: batch},),
            **EXPORT_OPTIONS,
        )
    return dict(
        file=path.name,
        inputs=inputs,
        outputs=outputs,
        latent=latent_size(model),
        bytes=path.stat().st_size,
    )


def write_array(folder: Path, name: str, array: torch.Tensor | np.ndarray) -> dict:
    """Write float32 little-endian numbers to folder/name.f32; return {file, shape}."""
    values = np.asarray(array, dtype="<f4")
    (folder / f"{name}.f32").write_bytes(values.tobytes())
    return dict(file=f"{name}.f32", shape=list(values.shape))


def first_of_each_digit(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Indices (10,) of the first test image of each digit 0-9 (chapter 2 interpolates from the
    first 2 to the first 7)."""
    return torch.stack([(labels == digit).nonzero()[0, 0] for digit in range(10)])


def chapter_noise(seed: int, count: int, size: int, draws: int) -> torch.Tensor:
    """The noise (count, size) a chapter's sample figure decodes: the first `count` of `draws`
    rows of N(0, I) drawn at once from a CPU generator seeded with `seed`, as
    `labutils.sampling.standard_normal` draws them. (PyTorch fills a tensor 16 numbers at a time
    and redraws the last 16, so the start of a larger draw differs from a smaller draw.)"""
    noise = torch.randn(draws, size, generator=torch.Generator().manual_seed(seed))
    return noise[:count]  # (count, size)


def principal_directions(codes: torch.Tensor, count: int) -> dict:
    """The mean of `codes` (N, D), its `count` leading principal directions (count, D), the
    standard deviation of the codes along each, and the share of the variance each explains."""
    mean = codes.mean(dim=0)  # (D,)
    _, singular, directions = torch.linalg.svd(codes - mean, full_matrices=False)  # (D,), (D, D)
    variance = singular**2 / (len(codes) - 1)  # (D,)
    return dict(
        mean=mean.tolist(),
        directions=directions[:count].tolist(),
        spread=variance[:count].sqrt().tolist(),
        share=(variance[:count] / variance.sum()).tolist(),
    )


def map_square(name: str, codes: torch.Tensor) -> tuple[float, float]:
    """The square a 2-D latent map spans: the VAE's [-3, 3]^2, where its prior puts almost all of
    its mass (chapter 2's fig-vae-manifold); for the autoencoder, whose codes have no set scale, a
    square around all but the outermost 1% of its test codes (`codes`, (M, 2))."""
    if name.startswith("vae"):
        return -3.0, 3.0
    return codes.quantile(0.005).item(), codes.quantile(0.995).item()


def latent_maps(models: dict[str, nn.Module], images, labels, out: Path) -> tuple[dict, dict]:
    """For each 2-D model: its map's square and the first test codes with their labels; and
    the arrays of those codes (written to `out`)."""
    maps, arrays = {}, {}
    for name in ("ae-latent2", "vae-latent2"):
        with torch.inference_mode():
            codes = mean_code(models[name], images)  # (M, 2): mu for a VAE
        low, high = map_square(name, codes)
        arrays[f"{name}-codes"] = write_array(out, f"{name}-codes", codes[:MAP_POINTS])
        labels_shown = labels[:MAP_POINTS].tolist()
        maps[name] = dict(low=[low, low], high=[high, high], labels=labels_shown)
    return maps, arrays


def sample_noise(models: dict[str, nn.Module], out: Path, comparison_samples: int) -> tuple:
    """For each sample figure: its settings and the name of its noise array; and the arrays of
    that noise (written to `out`)."""
    samples, arrays = {}, {}
    for name, figure in SAMPLE_FIGURES.items():
        draws = comparison_samples if name == COMPARISON else figure["count"]
        noise = chapter_noise(figure["seed"], figure["count"], latent_size(models[name]), draws)
        arrays[f"{name}-noise"] = write_array(out, f"{name}-noise", noise)
        samples[name] = dict(figure, noise=f"{name}-noise")
    return samples, arrays


def export_site(checkpoints: Path, out: Path, comparison_samples: int) -> dict:
    """Export every network of `NETWORKS` from the checkpoints in `checkpoints` into `out`, with
    the arrays the figures need; write and return the manifest (out/models.json).

    `comparison_samples`: how many samples chapter 4 draws from each model (its SAMPLES), of
    which its figure shows the first 25."""
    out.mkdir(parents=True, exist_ok=True)
    models = {n.checkpoint: load_model(checkpoints / f"{n.checkpoint}.pt", n.key) for n in NETWORKS}
    networks = {
        n.name: export_network(models[n.checkpoint], n.part, out / f"{n.name}.onnx")
        for n in NETWORKS
    }
    images, labels = load_mnist("test")  # (M, 1, 28, 28), (M,)
    arrays = {"digits": write_array(out, "digits", images[first_of_each_digit(images, labels)])}
    maps, map_arrays = latent_maps(models, images, labels, out)
    samples, noise_arrays = sample_noise(models, out, comparison_samples)
    with torch.inference_mode():
        mu_20d = mean_code(models["vae-latent20"], images)  # (M, 20)
    manifest = dict(
        exporter=dict(torch=torch.__version__, **EXPORT_OPTIONS),
        networks=networks,
        arrays={**arrays, **map_arrays, **noise_arrays},
        maps=maps,
        directions={"vae-latent20": principal_directions(mu_20d, DIRECTIONS)},
        samples=samples,
    )
    (out / "models.json").write_text(json.dumps(manifest, indent=1))
    return manifest
