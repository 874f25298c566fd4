"""The seed receipt chapter 4 reads (labutils/seeds.json, written by `make seeds`): it must come
from the code as it is now, and hold every model the chapter's conclusions rest on, from at least
three training seeds."""

from __future__ import annotations

import math

from labutils.course import seed_receipt
from scripts.seeds import MODELS, SOURCES, source_hash

SCORES = ("fid", "precision", "recall", "density", "coverage")


def test_the_receipt_comes_from_the_current_code():
    receipt = seed_receipt()
    assert receipt["sources"] == SOURCES, "the receipt hashed other files: run `make seeds`"
    assert receipt["source_sha256"] == source_hash(), (
        "labutils/seeds.json was written by other code than the checkout's (a file in "
        "scripts/seeds.py's SOURCES changed since): run `make seeds` and commit labutils/seeds.json"
    )


def test_the_receipt_holds_every_headline_model_from_three_seeds_or_more():
    receipt = seed_receipt()
    assert set(receipt["models"]) == set(MODELS)
    for name, runs in receipt["models"].items():
        assert len({run["seed"] for run in runs}) >= 3, name
        for run in runs:
            assert all(math.isfinite(run[score]) for score in SCORES), (name, run)
            assert 0 <= run["precision"] <= 1 and 0 <= run["coverage"] <= 1, (name, run)


def test_the_hash_changes_with_any_source_file(tmp_path):
    for name in SOURCES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    before = source_hash(tmp_path)
    (tmp_path / SOURCES[-1]).write_bytes(b"y")
    assert source_hash(tmp_path) != before
    (tmp_path / SOURCES[-1]).write_bytes(b"x")
    (tmp_path / SOURCES[0]).write_bytes(b"x\r\n")  # a Windows checkout's line ending
    (tmp_path / SOURCES[0]).write_bytes(b"x\n")
    windows = source_hash(tmp_path)
    (tmp_path / SOURCES[0]).write_bytes(b"x\r\n")
    assert source_hash(tmp_path) == windows
