"""Put the full book build's trained models on the site, with a manifest of SHA-256 sums.

`labutils.reference.train_or_fetch` downloads `<site>/models/<mode>/<name>.pt` when a learner
sets REFERENCE in a chapter's settings cell, and checks it against `<site>/models/manifest.json`
({"full/vae-latent20.pt": {"bytes": ..., "sha256": ...}, ...}). Only full-mode checkpoints are
published: smoke-mode models are for tests.

    python -m tools.reference_models checkpoints _build/html/models
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from labutils.reference import MANIFEST

MODE = "full"


def sha256_of(path: Path) -> str:
    """The file's SHA-256 sum, in hexadecimal."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def publish(checkpoints: Path, site: Path) -> dict[str, dict]:
    """Copy `checkpoints/full/*.pt` to `site/full/` and write `site/manifest.json`; return it."""
    found = sorted((checkpoints / MODE).glob("*.pt"))
    if not found:
        raise SystemExit(f"No checkpoints in {checkpoints / MODE}: build the full book first.")
    (site / MODE).mkdir(parents=True, exist_ok=True)
    manifest = {}
    for path in found:
        shutil.copyfile(path, site / MODE / path.name)
        key = f"{MODE}/{path.name}"
        manifest[key] = {"bytes": path.stat().st_size, "sha256": sha256_of(site / key)}
    (site / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


if __name__ == "__main__":
    published = publish(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"published {len(published)} checkpoints to {sys.argv[2]}")
