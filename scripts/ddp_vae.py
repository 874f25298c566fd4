"""Train the VAE (or the autoencoder) data-parallel and report its throughput (images per second).

One process:           OMP_NUM_THREADS=2 python scripts/ddp_vae.py
Two processes, 1 core: OMP_NUM_THREADS=1 torchrun --nproc_per_node=2 scripts/ddp_vae.py
Several machines:      torchrun --nnodes=2 --node_rank=K --nproc_per_node=G
                           --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 scripts/ddp_vae.py

The whole data-parallel loop is in this file, as in nanoGPT's train.py: the library's step
functions do not change, only the model they are given (wrapped in DistributedDataParallel, which
averages the gradients during backward) and the examples each process sees. `--batch-size` is
the global batch: process r of N takes examples r, r + N, ... of each shuffled batch, like
`torch.utils.data.DistributedSampler`. The first epoch warms up; the throughput is the later ones'.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from labutils import VAE, Autoencoder, ae_step, load_mnist, minibatches, seed_everything, vae_step


def arguments() -> argparse.Namespace:
    """The command line: model, data size, epochs, global batch, seed, where to save weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["vae", "autoencoder"], default="vae")
    parser.add_argument("--limit", type=int, default=20_000, help="training images to use")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="global batch size")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="write each process's weights and losses to SAVE.rankR.pt")
    return parser.parse_args()


def setup() -> tuple[int, int, torch.device]:
    """(rank, world size, device): join torchrun's group (gloo on CPU, nccl on GPU), or alone."""
    if "RANK" not in os.environ:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    device = torch.device("cuda", int(os.environ["LOCAL_RANK"])) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), device


def my_share(
    images: torch.Tensor, batch_size: int, order: torch.Generator, rank: int, world: int
) -> Iterator[torch.Tensor]:
    """This process's share of each shuffled global batch; a remainder under `world` is dropped,
    so every process averages over as many examples and the averaged gradient is the batch's."""
    for (batch,) in minibatches(images, batch_size=batch_size, generator=order):
        usable = batch.shape[0] // world * world
        if usable:
            yield batch[rank:usable:world]  # (usable / world, 1, 28, 28)


def main() -> None:
    """Train, then (in process 0) print one line: setup, last loss and images per second."""
    args = arguments()
    rank, world, device = setup()
    seed_everything(args.seed)  # the same initial weights and batch order in every process
    images, _ = load_mnist("train", device, limit=args.limit)
    model = (VAE(20) if args.model == "vae" else Autoencoder(20)).to(device)
    net = DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = vae_step if args.model == "vae" else ae_step
    torch.manual_seed(args.seed + rank)  # own noise per process, as between examples of a batch
    order = torch.Generator().manual_seed(args.seed)
    losses, seconds = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        for batch in my_share(images, args.batch_size, order, rank, world):
            loss = next(iter(step(net, optimizer, batch).values()))  # total or MSE
            if world > 1:
                dist.all_reduce(loss)  # the sum over processes (Gloo has no AVG before PyTorch 2.8)
                loss /= world  # every process logs the same mean
            losses.append(float(loss))
        seconds.append(time.perf_counter() - start)
    if args.save:
        torch.save({"weights": model.state_dict(), "losses": losses}, f"{args.save}.rank{rank}.pt")
    if rank == 0:
        later = seconds[1:] or seconds
        print(
            f"processes {world}  threads/process {torch.get_num_threads()}  device {device}  "
            f"global batch {args.batch_size}  last loss {losses[-1]:.4g}  "
            f"throughput {args.limit / (sum(later) / len(later)):.0f} images/s"
        )
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
