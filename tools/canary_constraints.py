"""The constraints of the drift canary (`make canary`): the lock, without the packages that drift.

The canary installs the newest torch, torchvision, numpy, matplotlib and ipywidgets, as a learner
on Colab gets them, and keeps everything else at the lock's versions, so that a failure points at
those five. Their own dependencies must drift with them (torch 2.15 needs other CUDA libraries
than the lock's torch 2.14), so a package is left out when every package that needs it, by the
lock's `# via` comments, is left out.

    python -m tools.canary_constraints requirements.lock torch numpy ... > constraints.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==")
VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?P<name>[A-Za-z0-9._-]+)")


def canonical(name: str) -> str:
    """A package name as pip compares them: lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_and_needers(lock: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    """The lock's lines by package, and for each package the packages it is there for."""
    pins, needers, current = {}, {}, None
    for line in lock.splitlines():
        if match := PIN.match(line):
            current = canonical(match.group("name"))
            pins[current], needers[current] = line, set()
        elif current and (match := VIA.match(line)) and match.group("name") != "via":
            needers[current].add(canonical(match.group("name")))
    return pins, needers


def drifting(needers: dict[str, set[str]], newest: set[str]) -> set[str]:
    """`newest`, and every package that only packages in the result need."""
    left_out = {canonical(name) for name in newest}
    while grown := {
        name for name, by in needers.items() if name not in left_out and by and by <= left_out
    }:
        left_out |= grown
    return left_out


def constraints(lock: str, newest: list[str]) -> str:
    """The lock's pins, less the packages that drift with `newest`."""
    pins, needers = pins_and_needers(lock)
    left_out = drifting(needers, set(newest))
    return "".join(f"{line}\n" for name, line in pins.items() if name not in left_out)


if __name__ == "__main__":
    sys.stdout.write(constraints(Path(sys.argv[1]).read_text(encoding="utf-8"), sys.argv[2:]))
