"""Two CPU processes (gloo) train one autoencoder together and agree with a single process.

With DistributedDataParallel the gradients are averaged over the two halves of each batch, which
is the gradient of the whole batch: the two-process run must match a one-process run with the
same global batch up to float rounding (the sums are taken in another order).
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from labutils import Autoencoder, fit_autoencoder, seed_everything
from labutils.distributed import rank, shard_batches, world_size

BATCH = 64  # global batch: 32 per process with two processes
TOLERANCE = dict(rtol=1e-4, atol=1e-5)  # measured: weights differ by at most 1.3e-6


def train(images: torch.Tensor) -> tuple[Autoencoder, dict]:
    """Two epochs of 4 steps on a tiny autoencoder, seeded alike in every process."""
    seed_everything(0)
    model = Autoencoder(2, hidden=(32,))
    history = fit_autoencoder(model, images, images[:64], epochs=2, batch_size=BATCH, lr=1e-2)
    return model, history


def train_in_process(
    index: int, count: int, images: torch.Tensor, init_file: str, out: str
) -> None:
    """One of `count` processes: join the gloo group, train, save weights and history."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=index, world_size=count)
    try:
        model, history = train(images)
        shards = [
            b for (b,) in shard_batches((torch.arange(10),), 4, torch.Generator().manual_seed(0))
        ]
        result = {"weights": model.state_dict(), "history": history, "shards": shards}
        torch.save(result, f"{out}/rank{index}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, mnist_test) -> list[dict]:
    """What each of two processes trained, spawned once for the module's tests."""
    folder = tmp_path_factory.mktemp("ddp")
    os.environ["LABUTILS_PROGRESS"] = "0"  # the children inherit the environment
    args = (2, mnist_test[0][:256], str(folder / "init"), str(folder))
    mp.spawn(train_in_process, args=args, nprocs=2)
    return [torch.load(folder / f"rank{i}.pt", weights_only=True) for i in range(2)]


def test_the_loss_falls_and_both_processes_hold_the_same_weights(two_processes):
    first, second = two_processes
    assert first["history"]["train_loss"][-1] < 0.8 * first["history"]["train_loss"][0]
    for name, value in first["weights"].items():
        assert torch.equal(value, second["weights"][name]), name  # bit for bit
    assert first["history"]["step_loss"] == second["history"]["step_loss"]  # averaged metrics


def test_two_processes_match_one_with_the_same_global_batch(two_processes, mnist_test):
    model, history = train(mnist_test[0][:256])
    for name, value in model.state_dict().items():
        torch.testing.assert_close(two_processes[0]["weights"][name], value, **TOLERANCE)
    torch.testing.assert_close(
        torch.tensor(two_processes[0]["history"]["step_loss"]),
        torch.tensor(history["step_loss"]),
        **TOLERANCE,
    )


def test_the_processes_split_each_batch_between_them(two_processes):
    whole = [b for (b,) in shard_batches((torch.arange(10),), 4, torch.Generator().manual_seed(0))]
    first, second = two_processes[0]["shards"], two_processes[1]["shards"]
    assert [len(b) for b in first] == [2, 2, 1] == [len(b) for b in second]
    for mine, theirs, batch in zip(first, second, whole, strict=True):
        assert sorted(torch.cat([mine, theirs]).tolist()) == sorted(batch.tolist())


def test_alone_the_shards_are_the_whole_batches():
    data = torch.arange(10)
    assert rank() == 0 and world_size() == 1
    batches = list(shard_batches((data,), 4, torch.Generator().manual_seed(0)))
    assert [len(b) for (b,) in batches] == [4, 4, 2]
    assert sorted(torch.cat([b for (b,) in batches]).tolist()) == list(range(10))
