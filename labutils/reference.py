"""Reference checkpoints: the book's trained models, downloaded instead of trained again.

The publish workflow puts every checkpoint of the full book build on the book's site, under
`<site>/<mode>/<name>.pt`, with a manifest (`<site>/manifest.json`) of each file's size and
SHA-256 sum (`tools/reference_models.py` writes both). A chapter's settings cell sets
`REFERENCE = True` to use them: `train_or_fetch` then downloads the checkpoint the chapter would
train, checks its size and checksum, and only then puts it where `train_or_load` looks, which
loads it with `weights_only=True`. Whatever goes wrong (no network, a file missing from the site,
a truncated download, a wrong checksum, a checkpoint that does not fit the model) is said in one
sentence, and the chapter trains the model itself, as it would without `REFERENCE`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, train_or_load

# The book's site: GitHub Pages of the repository in _config.yml (`make fork` rewrites this line).
REFERENCE_SITE = "https://generative-models-lab.github.io/generative-models-lab/models"
MANIFEST = "manifest.json"
CHUNK = 1 << 20  # bytes read at a time while hashing


class ReferenceError(RuntimeError):
    """A reference checkpoint could not be downloaded or did not pass its checks."""


def read_url(url: str, timeout: float) -> bytes:
    """The body of `url`, or a ReferenceError that says why it could not be read."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise ReferenceError(f"{url} answered HTTP {error.code} ({error.reason}).") from error
    except (urllib.error.URLError, OSError) as error:  # no network, refused, timed out
        reason = getattr(error, "reason", error)
        raise ReferenceError(f"Could not reach {url} ({reason}).") from error


def manifest_entry(site: str, key: str, timeout: float) -> dict:
    """The manifest's {"bytes": n, "sha256": hex} for `key` ("full/vae-latent20.pt")."""
    url = f"{site.rstrip('/')}/{MANIFEST}"
    try:
        manifest = json.loads(read_url(url, timeout))
    except ValueError as error:
        raise ReferenceError(f"{url} is not a JSON manifest ({error}).") from error
    if key not in manifest:
        raise ReferenceError(
            f"The reference site {site} has no {key} (its manifest lists "
            f"{len(manifest)} files; smoke-mode models are not published)."
        )
    return manifest[key]


def download_verified(url: str, path: Path, size: int, sha256: str, timeout: float) -> None:
    """Download `url` to `path` through a temporary file beside it, renamed over `path` only once
    the size and the SHA-256 sum match: a failed download leaves nothing at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    digest, received = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as file, urllib.request.urlopen(url, timeout=timeout) as body:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                file.write(chunk)
                received += len(chunk)
        if received != size:
            raise ReferenceError(
                f"The download of {url} was cut short: {received:,} of {size:,} bytes arrived."
            )
        if digest.hexdigest() != sha256:
            raise ReferenceError(
                f"{url} does not match its SHA-256 sum in the manifest (got "
                f"{digest.hexdigest()[:12]}..., expected {sha256[:12]}...)."
            )
        os.replace(temporary, path)
    except http.client.IncompleteRead as error:  # the connection closed before the end
        raise ReferenceError(
            f"The download of {url} was cut short: {received + len(error.partial):,} "
            f"of {size:,} bytes arrived."
        ) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ReferenceError(f"Could not download {url} ({reason}).") from error
    finally:
        Path(temporary).unlink(missing_ok=True)


def fetch_reference(
    path: str | Path, models: dict[str, nn.Module], site: str = REFERENCE_SITE, timeout: float = 30
) -> None:
    """Put the site's checkpoint for `path` (`<folder>/<mode>/<name>.pt`) at `path`, verified, and
    check that it loads into `models`; raise a ReferenceError saying what went wrong otherwise."""
    path = Path(path)
    key = f"{path.parent.name}/{path.name}"
    entry = manifest_entry(site, key, timeout)
    download_verified(f"{site.rstrip('/')}/{key}", path, entry["bytes"], entry["sha256"], timeout)
    try:
        load_checkpoint(path, models)  # torch.load(..., weights_only=True), settings checked
    except CheckpointError as error:
        path.unlink()
        raise ReferenceError(
            f"The reference checkpoint does not fit this model: {error}"
        ) from error


def train_or_fetch(
    path: str | Path,
    models: dict[str, nn.Module],
    train: Callable[[], dict[str, list[float]]],
    retrain: bool = False,
    *,
    reference: bool = False,
    site: str = REFERENCE_SITE,
    duration: str | None = None,
) -> dict[str, list[float]]:
    """`train_or_load`, which first downloads the book's trained checkpoint when `reference` is
    set and there is none at `path` yet; if that fails, it says why and trains instead."""
    path = Path(path)
    if reference and not retrain and not path.exists():
        try:
            fetch_reference(path, models, site)
            print(f"Downloaded the book's trained model to {path} (size and SHA-256 verified).")
        except ReferenceError as error:
            print(f"Not using the reference model: {error} Training it here instead.")
    return train_or_load(path, models, train, retrain, duration)
