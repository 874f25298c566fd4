"""The VAE benchmark: one epoch of the pytorch/examples `vae/main.py` loop, of `labutils.fit`
with `vae_step`, and of the bare compute (the floor), on the same images and the same layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.benchmark import Measurement
from torch.utils.data import DataLoader
from torchvision import transforms

import labutils

from .timing import Sizes, measure, quiet, reference_loader

VAE_BATCH_SIZE = 128  # pytorch/examples vae/main.py's, and labutils' default
LATENT_DIM = 20
VAE_LR = 1e-3


class ReferenceVAE(nn.Module):
    """The VAE of pytorch/examples `vae/main.py`: 784-400-20 encoder, 20-400-784 decoder with
    sigmoid outputs. The same layers as `labutils.VAE(20)`."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, LATENT_DIM)
        self.fc22 = nn.Linear(400, LATENT_DIM)
        self.fc3 = nn.Linear(LATENT_DIM, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pixel means (N, 784), mu and log sigma^2 (N, 20) of images (N, 1, 28, 28)."""
        hidden = F.relu(self.fc1(x.view(-1, 784)))  # (N, 400)
        mu, logvar = self.fc21(hidden), self.fc22(hidden)  # (N, 20) each
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # (N, 20)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar  # (N, 784)


def reference_vae_epoch(
    model: ReferenceVAE, optimizer: torch.optim.Optimizer, loader: DataLoader, device: torch.device
) -> float:
    """One epoch of the example's `train()`: move, zero, forward, loss (summed BCE + KL),
    backward, `.item()`, step. Returns the mean loss per image, as the example prints it."""
    model.train()
    train_loss = 0.0
    for data, _ in loader:
        data = data.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        bce = F.binary_cross_entropy(recon, data.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(loader.dataset)


def new_vae(device: torch.device) -> tuple[labutils.VAE, torch.optim.Adam]:
    """A fresh, seeded labutils.VAE(20) and its Adam optimizer."""
    labutils.seed_everything(0)
    model = labutils.VAE(LATENT_DIM).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=VAE_LR)


def labutils_vae_epoch(
    model: labutils.VAE, optimizer: torch.optim.Optimizer, images: torch.Tensor
) -> float:
    """One epoch of `labutils.fit` with `vae_step`; the mean training loss per image."""
    history = quiet(
        lambda: labutils.fit(lambda x: labutils.vae_step(model, optimizer, x), images, epochs=1)
    )
    return history["train_total"][0]


def floor_vae_epoch(
    model: labutils.VAE, optimizer: torch.optim.Optimizer, batches: list[torch.Tensor]
) -> None:
    """The bare work of an epoch of VAE updates: zero, forward, loss, backward, step."""
    for x in batches:
        optimizer.zero_grad(set_to_none=True)
        logits, mu, logvar = model(x)
        labutils.vae_loss(logits, x, mu, logvar).total.backward()
        optimizer.step()


def measure_vae(images: torch.Tensor, sizes: Sizes, threads: int) -> tuple[dict, list[Measurement]]:
    """Seconds of one epoch of the three loops over the same images, and the first epoch's mean
    loss of the two real loops (they agree when both do the same learning); and the Timer's
    measurements."""
    device = images.device
    labutils.seed_everything(0)
    reference_model = ReferenceVAE().to(device)
    reference_optimizer = torch.optim.Adam(reference_model.parameters(), lr=VAE_LR)
    loader = reference_loader(transforms.ToTensor(), sizes, VAE_BATCH_SIZE)
    model, optimizer = new_vae(device)
    floor_model, floor_optimizer = new_vae(device)
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
    batches = list(images[order.to(device)].split(VAE_BATCH_SIZE))  # (<= 128, 1, 28, 28) each

    losses: dict[str, list[float]] = {"reference": [], "labutils": []}
    runs = {
        "reference loop (DataLoader)": lambda: losses["reference"].append(
            reference_vae_epoch(reference_model, reference_optimizer, loader, device)
        ),
        "labutils fit + vae_step": lambda: losses["labutils"].append(
            labutils_vae_epoch(model, optimizer, images)
        ),
        "compute floor (pre-sliced)": lambda: floor_vae_epoch(
            floor_model, floor_optimizer, batches
        ),
    }
    group = f"VAE, one epoch of {images.shape[0]} images"
    times = {name: measure(run, group, name, threads, 0.0) for name, run in runs.items()}
    reference, ours, floor = times.values()
    results = {
        "images": images.shape[0],
        "reference_epoch_s": reference.median,
        "labutils_epoch_s": ours.median,
        "floor_epoch_s": floor.median,
        "reference_first_epoch_loss": losses["reference"][0],
        "labutils_first_epoch_loss": losses["labutils"][0],
        "runs_s": {name: m.times for name, m in times.items()},  # each timed run
    }
    return results, list(times.values())
