"""`python -m benchmarks.bench --quick` runs end to end and reports what the course claims.

Timings are not asserted (they belong to `make bench` on an idle machine); what is checked is
that a quick run, launched as `make bench` launches the full one, writes every number the
course reports, measured on chapter 3's DCGAN, with the machine's description.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from labutils.course import COURSE_MODELS

ROOT = Path(__file__).resolve().parents[2]


def test_a_quick_run_writes_the_ratios_and_the_machine(tmp_path):
    output = tmp_path / "quick.json"
    command = [sys.executable, "-m", "benchmarks.bench", "--quick", "--output", str(output)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "labutils / reference" in run.stdout
    results = json.loads(output.read_text())
    assert results["vae_epoch_ratio_to_reference"] > 0
    assert results["vae_epoch_ratio_to_floor"] > 0
    dcgan = results["dcgan"]
    assert (dcgan["width"], dcgan["batch_size"]) == (
        COURSE_MODELS["dcgan"]["width"],
        COURSE_MODELS["dcgan"]["batch_size"],
    )
    on_the_cpu = results["machine"]["device"] == "cpu"  # where fit_dcgan uses channels-last
    expected = (
        {"fit_dcgan / reference", "channels_last"} if on_the_cpu else {"fit_dcgan / reference"}
    )
    assert set(results["dcgan_speedups"]) == expected
    assert all(speed > 0 for speed in dcgan["images_per_s"].values())
    assert {"cpu_capability", "cores", "torch", "device", "threads"} <= results["machine"].keys()
