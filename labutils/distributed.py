"""Data parallelism: run `fit` in several processes, each on its share of every batch.

Start a script with `torchrun --nproc_per_node=N script.py`; the script calls `setup()` and
trains as usual. Every process holds the whole (small, in-memory) dataset and draws the same
shuffled order; each global batch of `batch_size` examples is split between the processes like
`torch.utils.data.DistributedSampler` splits an epoch (process r takes examples r, r + N, ...),
so one step of N processes sees exactly the examples that one step of one process would. The
recipes wrap their model in DistributedDataParallel, which averages the gradients, so every
process makes the same update. Metrics are averaged over the processes; only process 0 prints,
shows progress, runs the monitor and writes checkpoints.

Without `setup()` (a plain `python` run, a notebook) every function here is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .data import minibatches


def setup() -> torch.device:
    """Join the process group that `torchrun` describes (gloo on CPU, nccl on GPU) and return
    this process's device: its own GPU (`cuda:LOCAL_RANK`) when there are GPUs, else the CPU."""
    if "RANK" not in os.environ:
        raise RuntimeError(
            "labutils.distributed.setup() expects to be started by torchrun, e.g. "
            "`torchrun --nproc_per_node=2 script.py` (RANK and WORLD_SIZE are not set)."
        )
    cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    if not cuda:
        return torch.device("cpu")
    device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    torch.cuda.set_device(device)
    return device


def is_distributed() -> bool:
    """Whether this process is one of several training together."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's number, 0 to world_size() - 1 (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """How many processes train together (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Whether this process is the one that prints, shows progress and writes files."""
    return rank() == 0


def wrap(model: nn.Module) -> nn.Module:
    """`model` in DistributedDataParallel when distributed (its gradients are then averaged
    over the processes during backward), else `model` itself."""
    if not is_distributed():
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None
    )


def shard_batches(
    tensors: tuple[torch.Tensor, ...], batch_size: int, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, ...]]:
    """This process's share of each shuffled global batch of `batch_size` examples.

    Process r of N takes examples r, r + N, r + 2N, ... of the batch. A last batch that does not
    split evenly loses its remainder (fewer than N examples), so that every process computes its
    mean over as many examples and the averaged gradient is the whole batch's.
    """
    count, index = world_size(), rank()
    for batch in minibatches(*tensors, batch_size=batch_size, generator=generator):
        usable = batch[0].shape[0] // count * count
        if usable:
            yield tuple(t[index:usable:count] for t in batch)


def mean_over_processes(values: torch.Tensor) -> torch.Tensor:
    """`values` averaged element-wise over the processes (one all-reduce); as is when alone."""
    if not is_distributed():
        return values
    total = values.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / world_size()
