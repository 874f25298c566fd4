"""Reference checkpoints (labutils/reference.py) against a local http.server: a good download is
verified and loaded instead of training; a wrong checksum, a truncated download, a missing file,
no network or a checkpoint of another model each say what went wrong, leave no partial file, and
fall back to training."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
import torch

from labutils import Autoencoder, save_checkpoint
from labutils.reference import train_or_fetch


class Site(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; records each path asked for; cuts the paths in `cut` off half way."""

    requested: list[str]
    cut: set[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        name = self.path.lstrip("/")
        if name not in self.cut:
            return super().do_GET()
        body = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))  # promises all of it ...
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])  # ... sends half, and closes the connection
        self.close_connection = True

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def site(tmp_path):
    """A local web site in tmp_path/site: (its URL, its folder, the handler class)."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = type("Handler", (Site,), {"requested": [], "cut": set()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder, handler
    server.shutdown()
    server.server_close()


def publish(folder: Path, model: torch.nn.Module, key: str = "full/ae.pt") -> bytes:
    """Save `model` as the site's checkpoint `key` and list it in the manifest; its bytes."""
    save_checkpoint(folder / key, {"model": model}, history={"loss": [0.5]})
    data = (folder / key).read_bytes()
    entry = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps({key: entry}))
    return data


class Training:
    """A stand-in for a recipe: counts its calls and returns a history."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, list[float]]:
        self.calls += 1
        return {"loss": [1.0]}


def fetch(site_url: str, tmp_path: Path, model: torch.nn.Module, **options) -> tuple:
    """train_or_fetch of the learner's checkpoints/full/ae.pt: (history, training, path)."""
    path, training = tmp_path / "learner" / "checkpoints" / "full" / "ae.pt", Training()
    history = train_or_fetch(path, {"model": model}, training, site=site_url, **options)
    return history, training, path


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def test_a_verified_reference_checkpoint_is_loaded_instead_of_training(site, tmp_path, capsys):
    url, folder, handler = site
    torch.manual_seed(1)
    published = Autoencoder(latent_dim=2)
    publish(folder, published)
    torch.manual_seed(2)
    model = Autoencoder(latent_dim=2)
    history, training, path = fetch(url, tmp_path, model, reference=True)
    assert training.calls == 0 and history == {"loss": [0.5]}
    for mine, theirs in zip(model.parameters(), published.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    said = capsys.readouterr().out
    assert "Downloaded the book's trained model" in said and "SHA-256 verified" in said
    assert handler.requested == ["/manifest.json", "/full/ae.pt"]
    assert leftovers(path) == []


def test_without_reference_or_with_a_checkpoint_already_there_nothing_is_downloaded(site, tmp_path):
    url, folder, handler = site
    publish(folder, Autoencoder(latent_dim=2))
    _, training, path = fetch(url, tmp_path, Autoencoder(latent_dim=2))
    assert training.calls == 1 and path.exists()
    _, training, _ = fetch(url, tmp_path, Autoencoder(latent_dim=2), reference=True)
    assert training.calls == 0  # the learner's own checkpoint is loaded
    _, training, _ = fetch(url, tmp_path, Autoencoder(latent_dim=2), reference=True, retrain=True)
    assert training.calls == 1
    assert handler.requested == []


def corrupt(folder: Path, handler: type) -> None:
    """The published file has one byte changed: same size, another checksum."""
    data = bytearray((folder / "full/ae.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "full/ae.pt").write_bytes(bytes(data))


def cut_off(folder: Path, handler: type) -> None:
    """The server closes the connection half way through the file."""
    handler.cut.add("full/ae.pt")


def shortened(folder: Path, handler: type) -> None:
    """The published file itself is shorter than the manifest says."""
    data = (folder / "full/ae.pt").read_bytes()
    (folder / "full/ae.pt").write_bytes(data[:1000])


def unlisted(folder: Path, handler: type) -> None:
    """The manifest lists only another mode's file (smoke models are not published)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({"smoke/ae.pt": manifest["full/ae.pt"]}))


def no_manifest(folder: Path, handler: type) -> None:
    (folder / "manifest.json").unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (corrupt, "does not match its SHA-256 sum in the manifest"),
        (cut_off, "was cut short"),
        (shortened, "was cut short: 1,000 of"),
        (unlisted, "has no full/ae.pt"),
        (no_manifest, "answered HTTP 404"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_bad_download_says_what_went_wrong_and_falls_back_to_training(
    site, tmp_path, capsys, damage, message
):
    url, folder, handler = site
    publish(folder, Autoencoder(latent_dim=2))
    damage(folder, handler)
    history, training, path = fetch(url, tmp_path, Autoencoder(latent_dim=2), reference=True)
    said = capsys.readouterr().out
    assert "Not using the reference model: " in said and message in said, said
    assert "Training it here instead." in said
    assert training.calls == 1 and history == {"loss": [1.0]}
    assert leftovers(path) == []  # no partial download left beside the trained checkpoint


def test_no_network_says_the_site_cannot_be_reached_and_trains(tmp_path, capsys):
    with socket.socket() as free:  # a port that nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    _, training, _ = fetch(f"http://127.0.0.1:{port}", tmp_path, Autoencoder(2), reference=True)
    said = capsys.readouterr().out
    assert f"Could not reach http://127.0.0.1:{port}/manifest.json" in said
    assert training.calls == 1


def test_a_reference_checkpoint_of_another_model_is_refused_and_removed(site, tmp_path, capsys):
    url, folder, _ = site
    publish(folder, Autoencoder(latent_dim=3))
    _, training, path = fetch(url, tmp_path, Autoencoder(latent_dim=2), reference=True)
    said = capsys.readouterr().out
    assert "does not fit this model" in said and "latent_dim=3" in said
    assert training.calls == 1
    assert torch.load(path, weights_only=True)["models"]["model"]["config"]["latent_dim"] == 2


def test_the_published_manifest_is_what_train_or_fetch_verifies(site, tmp_path, capsys):
    """tools/reference_models.py publishes a build's full-mode checkpoints as the site serves
    them; a learner's download of one is then verified and loaded."""
    from tools.reference_models import publish as publish_build

    url, folder, _ = site
    torch.manual_seed(3)
    built = Autoencoder(latent_dim=2)
    save_checkpoint(tmp_path / "build" / "full" / "ae.pt", {"model": built}, history={"loss": [2]})
    save_checkpoint(tmp_path / "build" / "smoke" / "ae.pt", {"model": built}, history={})
    manifest = publish_build(tmp_path / "build", folder)
    assert list(manifest) == ["full/ae.pt"]  # smoke-mode models are not published
    model = Autoencoder(latent_dim=2)
    history, training, _ = fetch(url, tmp_path, model, reference=True)
    assert training.calls == 0 and history == {"loss": [2]}
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), built.parameters(), strict=True)
    )


def test_the_manifest_lists_the_live_figures_networks_with_their_sums(tmp_path):
    """The exported ONNX networks stay where the pages load them; the manifest gives each one's
    size and SHA-256, computed here independently with hashlib."""
    import hashlib

    from tools.reference_models import publish as publish_build

    save_checkpoint(tmp_path / "build" / "full" / "ae.pt", {"model": Autoencoder(2)}, history={})
    live = tmp_path / "live"
    live.mkdir()
    (live / "ae-latent2-decoder.onnx").write_bytes(b"not really onnx, but bytes to sum")
    (live / "models.json").write_text("{}")  # not a network: not listed
    manifest = publish_build(tmp_path / "build", tmp_path / "site", live)
    assert sorted(manifest) == ["full/ae.pt", "live/ae-latent2-decoder.onnx"]
    data = (live / "ae-latent2-decoder.onnx").read_bytes()
    assert manifest["live/ae-latent2-decoder.onnx"] == {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
