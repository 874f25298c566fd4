"""The course's models for 28x28 MNIST: a fully connected autoencoder and VAE, and a DCGAN pair.

Each model keeps its constructor arguments in `self.config`, so that a checkpoint can say which
setting differs when it does not fit the model it is loaded into.
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_images, check_latents, require_positive_int

PIXELS = 28 * 28


def check_hidden(hidden: tuple[int, ...]) -> tuple[int, ...]:
    """`hidden` lists the hidden layer sizes of a fully connected model: at least one, all > 0."""
    hidden = tuple(hidden)
    if not hidden:
        raise ValueError("hidden must list at least one hidden layer size, e.g. (400,).")
    for size in hidden:
        require_positive_int("each hidden layer size", size)
    return hidden


def mlp(sizes: list[int], activate_last: bool) -> nn.Sequential:
    """Linear layers between consecutive `sizes`, ReLU between them (and last if asked)."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if activate_last or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Image -> `latent_dim` numbers -> image; the bottleneck forces a compressed code."""

    def __init__(self, latent_dim: int = 20, hidden: tuple[int, ...] = (400,)):
        super().__init__()
        require_positive_int("latent_dim", latent_dim)
        hidden = check_hidden(hidden)
        self.config = {"latent_dim": latent_dim, "hidden": list(hidden)}
        self.latent_dim = latent_dim
        self.encoder = mlp([PIXELS, *hidden, latent_dim], activate_last=False)
        self.decoder = mlp([latent_dim, *reversed(hidden), PIXELS], activate_last=False)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Codes (N, latent_dim) of images (N, 1, 28, 28)."""
        check_images(images, "Autoencoder.encode")
        return self.encoder(images.flatten(1))  # (N, latent_dim)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, 28, 28) in [0, 1] from codes (N, latent_dim)."""
        check_latents(codes, self.latent_dim, "Autoencoder.decode")
        return torch.sigmoid(self.decoder(codes)).view(-1, 1, 28, 28)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Reconstructions (N, 1, 28, 28) of images (N, 1, 28, 28)."""
        return self.decode(self.encode(images))


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Sample z ~ N(mu, sigma^2) as mu + sigma * eps, so gradients reach mu and log sigma^2
    (what torch.distributions.Normal(mu, sigma).rsample() does)."""
    std = torch.exp(0.5 * logvar)  # sigma = exp(log(sigma^2) / 2)
    return mu + std * torch.randn_like(std)


class VAE(nn.Module):
    """Variational autoencoder: the encoder outputs mu and log sigma^2 of q(z|x)."""

    def __init__(self, latent_dim: int = 20, hidden: tuple[int, ...] = (400,)):
        super().__init__()
        require_positive_int("latent_dim", latent_dim)
        hidden = check_hidden(hidden)
        self.config = {"latent_dim": latent_dim, "hidden": list(hidden)}
        self.latent_dim = latent_dim
        self.encoder = mlp([PIXELS, *hidden], activate_last=True)
        self.to_mu = nn.Linear(hidden[-1], latent_dim)
        self.to_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = mlp([latent_dim, *reversed(hidden), PIXELS], activate_last=False)

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and log sigma^2, each (N, latent_dim), of q(z|x) for images (N, 1, 28, 28)."""
        check_images(images, "VAE.encode")
        features = self.encoder(images.flatten(1))  # (N, hidden[-1])
        return self.to_mu(features), self.to_logvar(features)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (N, 1, 28, 28) of p(x|z) for latents (N, latent_dim)."""
        check_latents(z, self.latent_dim, "VAE.decode")
        return self.decoder(z).view(-1, 1, 28, 28)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means (N, 1, 28, 28) in [0, 1] for latents (N, latent_dim)."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decoder logits (N, 1, 28, 28), mu and log sigma^2 (N, latent_dim)."""
        mu, logvar = self.encode(images)
        z = reparameterize(mu, logvar)  # (N, latent_dim)
        return self.decode_logits(z), mu, logvar


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation. Radford et al. (2016) draw every weight from N(0, 0.02^2) (standard
    deviation 0.02): here the convolution weights, whose biases keep PyTorch's default. The
    BatchNorm scales ~ N(1, 0.02^2) and zero shifts follow PyTorch's DCGAN example."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """DCGAN generator: noise (N, nz) -> image (N, 1, 28, 28) in [-1, 1]. `nz` is the latent
    size (the noise length), `width` the channels of the last hidden layer (the first has 2w)."""

    def __init__(self, nz: int = 100, width: int = 32):
        super().__init__()
        require_positive_int("nz", nz)
        require_positive_int("width", width)
        self.config = {"nz": nz, "width": width}
        self.nz = nz
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, 2 * width, 7, 1, 0, bias=False),  # (N, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # (N, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # (N, 1, 28, 28)
            nn.Tanh(),
        )
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, 28, 28) in [-1, 1] from noise (N, nz)."""
        check_latents(z, self.nz, "Generator")
        return self.net(z[:, :, None, None])  # (N, nz, 1, 1) -> (N, 1, 28, 28)


class Discriminator(nn.Module):
    """DCGAN discriminator: image (N, 1, 28, 28) in [-1, 1] -> one logit per image (N,), whose
    sigmoid is the probability that the image is real. `width`: channels of the first hidden
    layer (the second has 2w)."""

    def __init__(self, width: int = 32):
        super().__init__()
        require_positive_int("width", width)
        self.config = {"width": width}
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1, bias=False),  # (N, w, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # (N, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 7, 1, 0),  # (N, 1, 1, 1)
        )
        self.apply(init_dcgan_weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (N,); sigmoid(logit) is the probability that an image is real."""
        check_images(images, "Discriminator")
        return self.net(images).flatten()  # (N,)


class ConvVAE(nn.Module):
    """A VAE built from the DCGAN pair: the discriminator's conv trunk ends in mu and log sigma^2
    instead of one logit, the generator's transposed convs end in Bernoulli logits instead of
    Tanh. The same objective as `VAE`, the architecture of chapter 3: comparing the two VAEs
    separates what the architecture does from what the objective does."""

    def __init__(self, latent_dim: int = 20, width: int = 24):
        super().__init__()
        require_positive_int("latent_dim", latent_dim)
        require_positive_int("width", width)
        self.config = {"latent_dim": latent_dim, "width": width}
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(  # Discriminator.net without its last conv
            nn.Conv2d(1, width, 4, 2, 1, bias=False),  # (N, w, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # (N, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
        )
        self.to_mu = nn.Conv2d(2 * width, latent_dim, 7, 1, 0)  # (N, latent_dim, 1, 1)
        self.to_logvar = nn.Conv2d(2 * width, latent_dim, 7, 1, 0)  # (N, latent_dim, 1, 1)
        self.decoder = nn.Sequential(  # Generator.net without its Tanh
            nn.ConvTranspose2d(latent_dim, 2 * width, 7, 1, 0, bias=False),  # (N, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # (N, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # (N, 1, 28, 28)
        )

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and log sigma^2, each (N, latent_dim), of q(z|x) for images (N, 1, 28, 28)."""
        check_images(images, "ConvVAE.encode")
        features = self.encoder(images)  # (N, 2w, 7, 7)
        return self.to_mu(features).flatten(1), self.to_logvar(features).flatten(1)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (N, 1, 28, 28) of p(x|z) for latents (N, latent_dim)."""
        check_latents(z, self.latent_dim, "ConvVAE.decode")
        return self.decoder(z[:, :, None, None])  # (N, latent_dim, 1, 1) -> (N, 1, 28, 28)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means (N, 1, 28, 28) in [0, 1] for latents (N, latent_dim)."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decoder logits (N, 1, 28, 28), mu and log sigma^2 (N, latent_dim)."""
        mu, logvar = self.encode(images)
        z = reparameterize(mu, logvar)  # (N, latent_dim)
        return self.decode_logits(z), mu, logvar


def mean_code(model: Autoencoder | VAE | ConvVAE, images: torch.Tensor) -> torch.Tensor:
    """The code (N, latent_dim) of images (N, 1, 28, 28): an autoencoder's code, or the mean mu
    of a VAE's q(z|x), the deterministic code both kinds of model can be compared on."""
    codes = model.encode(images)
    return codes[0] if isinstance(codes, tuple) else codes  # a VAE returns (mu, logvar)
