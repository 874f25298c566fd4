"""labutils: the small library behind the Generative Models Lab course.

A chapter teaches a piece once in the notebook, then calls it from here.
"""

from .checkpoint import (
    Checkpointer,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    train_or_load,
)
from .data import DataError, load_mnist, minibatches, prepare_mnist
from .device import get_device, seed_everything
from .loop import NonFiniteLossWarning, fit
from .losses import (
    discriminator_loss,
    generator_loss,
    kl_divergence,
    reconstruction_bce,
    vae_loss,
)
from .models import VAE, Autoencoder, ConvVAE, Discriminator, Generator, reparameterize
from .monitor import GANHealthWarning, GANMonitor
from .recipes import fit_autoencoder, fit_dcgan, fit_vae
from .steps import ae_step, evaluate_ae, evaluate_vae, gan_step, vae_step

__all__ = [
    "VAE",
    "Autoencoder",
    "ConvVAE",
    "CheckpointError",
    "Checkpointer",
    "DataError",
    "Discriminator",
    "GANHealthWarning",
    "GANMonitor",
    "Generator",
    "NonFiniteLossWarning",
    "ae_step",
    "discriminator_loss",
    "evaluate_ae",
    "evaluate_vae",
    "fit",
    "fit_autoencoder",
    "fit_dcgan",
    "fit_vae",
    "gan_step",
    "generator_loss",
    "get_device",
    "kl_divergence",
    "load_checkpoint",
    "load_mnist",
    "minibatches",
    "prepare_mnist",
    "reconstruction_bce",
    "reparameterize",
    "save_checkpoint",
    "seed_everything",
    "train_or_load",
    "vae_loss",
    "vae_step",
]
