"""Train the MNIST classifier behind the course's metrics and save it into the package.

    python scripts/train_classifier.py            # or: make classifier

It writes labutils/mnist_classifier.pt, which ships inside the package, so that every installation
(a checkout, a pip install, Colab) measures with the same classifier; `load_classifier` never
trains one itself. The result is reproducible on the CPU (fixed seed, fixed data order).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from labutils.classifier import (
    classifier_accuracy,
    classifier_path,
    load_classifier,
    train_classifier,
)
from labutils.data import load_mnist
from labutils.device import get_device


def main() -> None:
    """Parse the options, train, save, and print the test accuracy and the training time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: $LABUTILS_DEVICE)")
    parser.add_argument("--output", type=Path, default=classifier_path(), help="weights file")
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    train_classifier(args.output, get_device(args.device), epochs=args.epochs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    reloaded = load_classifier(get_device(args.device), args.output)
    accuracy = classifier_accuracy(reloaded, *load_mnist("test", get_device(args.device)))
    print(f"Test accuracy of the saved classifier: {accuracy:.2%}.")
    print(f"Saved {args.output} ({args.output.stat().st_size / 1024:.0f} KB).")
    print(f"Training took {wall:.0f} s of wall time, {cpu:.0f} s of CPU time.")


if __name__ == "__main__":
    main()
