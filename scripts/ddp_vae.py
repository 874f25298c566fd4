"""Train the VAE data-parallel and report its throughput (images per second).

One process:           OMP_NUM_THREADS=2 python scripts/ddp_vae.py
Two processes, 1 core: OMP_NUM_THREADS=1 torchrun --nproc_per_node=2 scripts/ddp_vae.py
Several machines:      torchrun --nnodes=2 --node_rank=K --nproc_per_node=G
                           --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 scripts/ddp_vae.py

`--batch-size` is the global batch: each of N processes takes batch_size / N of it.
The first epoch warms up (memory, thread pools); the throughput is that of the later epochs.
"""

from __future__ import annotations

import argparse
import os

import torch
import torch.distributed as dist

from labutils import VAE, fit_vae, get_device, load_mnist, seed_everything
from labutils.distributed import is_distributed, is_main, rank, setup, world_size


def arguments() -> argparse.Namespace:
    """The command line: data size, epochs, global batch and seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20_000, help="training images to use")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="global batch size")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def load_in_turn(split: str, device: torch.device, limit: int) -> torch.Tensor:
    """MNIST images, loaded by one process after the other: `load_mnist` rewrites its record of
    verified files on every call, and a process reading it mid-write fails."""
    for turn in range(world_size()):
        if turn == rank():
            images, _ = load_mnist(split, device, limit=limit)
        if is_distributed():
            dist.barrier()
    return images


def main() -> None:
    """Train, then (in process 0) print one line: setup, losses and images per second."""
    args = arguments()
    device = setup() if "RANK" in os.environ else get_device()
    seed_everything(args.seed + rank())  # own noise per process; DDP copies process 0's weights
    train = load_in_turn("train", device, args.limit)
    test = load_in_turn("test", device, 1000)
    model = VAE(20).to(device)
    history = fit_vae(model, train, test, epochs=args.epochs, batch_size=args.batch_size)
    if is_main():
        later = history["seconds"][1:] or history["seconds"]
        rate = args.limit / (sum(later) / len(later))
        threads = os.environ.get("OMP_NUM_THREADS", "default")
        print(
            f"processes {world_size()}  threads/process {threads}  device {device}  "
            f"global batch {args.batch_size}  final train loss {history['train_total'][-1]:.2f}  "
            f"throughput {rate:.0f} images/s"
        )


if __name__ == "__main__":
    main()
