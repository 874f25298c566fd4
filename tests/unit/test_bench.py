"""The benchmark script runs end to end and measures the DCGAN the book trains.

Timings are not asserted (they belong to `make bench`); what is checked is that a quick run
produces every number the course reports, with the machine's description.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    """benchmarks/bench.py as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chapter_3_setting(name: str) -> int:
    """The integer chapter 3 assigns to `name` in its settings cell."""
    source = json.loads((ROOT / "book" / "03-dcgan.ipynb").read_text())
    text = "".join("".join(cell["source"]) for cell in source["cells"])
    return int(re.search(rf"^{name} = (\d+)", text, re.MULTILINE).group(1))


def test_the_benchmark_uses_chapter_3s_width_and_batch_size():
    bench = load_bench()
    assert bench.BOOK_GAN_WIDTH == chapter_3_setting("WIDTH")
    assert bench.GAN_BATCH_SIZE == chapter_3_setting("BATCH_SIZE")


def test_a_quick_run_writes_the_ratios_and_the_machine(tmp_path):
    output = tmp_path / "quick.json"
    load_bench().main(["--quick", "--no-variants", "--output", str(output)])
    results = json.loads(output.read_text())
    assert results["vae_epoch_ratio_to_reference"] > 0
    assert results["vae_epoch_ratio_to_floor"] > 0
    assert [gan["width"] for gan in results["dcgan"]] == [24, 32]
    assert all(gan["labutils_images_per_s"] > 0 for gan in results["dcgan"])
    assert {"cpu", "cores", "torch", "device"} <= results["machine"].keys()
