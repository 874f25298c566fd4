"""The training code was split into steps, loop and recipes (and lost its distributed plumbing):
the same seed must still give the histories recorded before the split, at commit 4b63752
(fixtures/record_histories.py wrote fixtures/histories.json).

`fit` with each step function and the DCGAN recipe compute exactly what they computed then, so
their histories are equal bit for bit. The autoencoder and VAE recipes now use PyTorch's default
Adam instead of its fused kernel (a speed trick): the same update up to float rounding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
import record_histories  # noqa: E402  (the recorder is the definition of each run)

RECORDED = json.loads((FIXTURES / "histories.json").read_text())


@pytest.fixture(scope="module")
def images(mnist_test) -> torch.Tensor:
    return mnist_test[0][: record_histories.IMAGES]


@pytest.fixture(scope="module")
def runs(images) -> dict[str, dict[str, list[float]]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as recorded
    try:
        runs = {**record_histories.loops(images), **record_histories.recipes(images)}
    finally:
        torch.set_num_threads(threads)
    return {name: record_histories.numbers(history) for name, history in runs.items()}


@pytest.mark.locked_torch  # recorded with the locked PyTorch; other versions round differently
@pytest.mark.parametrize("name", ["fit_ae_step", "fit_vae_step", "fit_gan_step", "fit_dcgan"])
def test_unchanged_computations_give_bit_identical_histories(runs, name):
    assert runs[name] == RECORDED[name]


@pytest.mark.parametrize("name", ["fit_autoencoder", "fit_vae"])
def test_recipes_without_fused_adam_agree_to_rounding(runs, name):
    assert runs[name].keys() == RECORDED[name].keys()
    for metric, values in RECORDED[name].items():
        torch.testing.assert_close(
            torch.tensor(runs[name][metric]), torch.tensor(values), rtol=1e-3, atol=0
        )
