"""Put the full book build's trained models on the site, with a manifest of SHA-256 sums.

`labutils.reference.train_or_fetch` downloads `<site>/models/<mode>/<name>.pt` when a learner
sets REFERENCE in a chapter's settings cell, and checks it against `<site>/models/manifest.json`
({"full/vae-latent20.pt": {"bytes": ..., "sha256": ...}, ...}). Only full-mode checkpoints are
published: smoke-mode models are for tests. The live figures' ONNX networks, which the build
exported into the site's `_static/live/` (book/_ext/livemodels.py), get their sums in the same
manifest, under `live/`, so that a reader or a fork can check those files too.

    python -m tools.reference_models checkpoints _build/html/models [_build/html/_static/live]
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


def publish(checkpoints: Path, site: Path, live: Path | None = None) -> dict[str, dict]:
    """Copy `checkpoints/full/*.pt` to `site/full/`, add the sums of `live/*.onnx` (the exported
    networks, left where the pages load them) and write `site/manifest.json`; return it."""
    found = sorted((checkpoints / MODE).glob("*.pt"))
    if not found:
        raise SystemExit(f"No checkpoints in {checkpoints / MODE}: build the full book first.")
    (site / MODE).mkdir(parents=True, exist_ok=True)
    manifest = {}
    for path in found:
        shutil.copyfile(path, site / MODE / path.name)
        key = f"{MODE}/{path.name}"
        manifest[key] = {"bytes": path.stat().st_size, "sha256": sha256_of(site / key)}
    for path in sorted(live.glob("*.onnx")) if live is not None else []:
        manifest[f"live/{path.name}"] = {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
    (site / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


if __name__ == "__main__":
    live_folder = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    published = publish(Path(sys.argv[1]), Path(sys.argv[2]), live_folder)
    print(f"published {len(published)} files' sums to {sys.argv[2]}")
