"""Reference bands: a training curve compared with the band of the same run from several seeds.

A band (recorded by `scripts/record_bands.py` for the exercises' runs and by
`scripts/record_course_bands.py` for the chapters' runs) holds, for each epoch, the mean training
loss over the seeds and the range `low` to `high` around it that a healthy run stays in.
`compare_to_band` is the one comparison of a learner's curve with a band: `check_on_track` (the
exercises' checker) and `diagnose` (the training doctor) both word its result.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import NamedTuple

COURSE_BANDS_FILE = "course_bands.json"
# Loss scales that a mistake in the reduction produces: (factor, what it suggests).
SCALES = [
    (784, "summed over the 784 pixels where the reference averages over them"),
    (784 * 128, "summed over the pixels and the batch where the reference averages"),
    (128, "summed over the batch of 128 where the reference averages"),
    (1 / 784, "averaged over the 784 pixels where the reference sums over them"),
    (1 / 128, "divided by the batch size once more"),
]


class BandComparison(NamedTuple):
    """Where a curve stands against a band, after the last epoch the band covers.

    `kind` is one of "on track", "scale" (inside the band times `factor`: a reduction mistake,
    `meaning` says which), "rising", "jumped", "stalled" (shapes of a learning rate that is too
    large, `shape` describes it), "slow" (above the band, falling slowly) and "below".
    """

    kind: str
    epoch: int  # from 1
    value: float
    low: float
    high: float
    mean: float
    shape: str
    factor: float = 1.0
    meaning: str = ""

    def where(self) -> str:
        """The comparison in one clause, with its numbers."""
        return (
            f"after epoch {self.epoch} your mean training loss is {self.value:.4g}; the reference "
            f"run's is {self.mean:.4g} (band {self.low:.4g} to {self.high:.4g})"
        )


def compare_to_band(band: dict, epochs: Sequence[float], steps: Sequence[float]) -> BandComparison:
    """Compare per-epoch values `epochs` (and per-step values `steps`, if any) with `band`, at the
    last epoch the band covers; the shape of the whole curve tells the failures apart."""
    epoch = min(len(epochs), len(band["mean"])) - 1
    value, low, high, mean = (
        epochs[epoch],
        band["low"][epoch],
        band["high"][epoch],
        band["mean"][epoch],
    )
    shape = curve_shape(steps or epochs)
    found = BandComparison("on track", epoch + 1, value, low, high, mean, shape)
    if low <= value <= high:
        return found
    for factor, meaning in SCALES:
        if low * factor <= value <= high * factor:
            return found._replace(kind="scale", factor=factor, meaning=meaning)
    for kind in ("rising", "jumped", "stalled"):
        if shape.startswith(kind):
            return found._replace(kind=kind)
    return found._replace(kind="slow" if value > high else "below")


def curve_shape(values: Sequence[float]) -> str:
    """'rising' (it ends 10% above its lowest window), 'jumped ...' (a spike above twice the first
    loss), 'stalled' (most of the progress in the first eighth, then flat) or 'steady'. Windows
    of an eighth of the curve average out the noise of single steps."""
    if len(values) < 2:
        return "steady"
    values = list(values)
    first, peak = values[0], max(values[1:])
    size = max(1, len(values) // 8)
    means = [sum(values[i : i + size]) / size for i in range(0, len(values) - size + 1, size)]
    if len(means) > 1 and means[-1] > 1.1 * min(means):
        return "rising"
    if peak > 2 * first:
        at = values.index(peak) + 1
        return f"jumped to {peak:.4g} at step {at}, from {first:.4g} at the start"
    end, early = means[-1], sum(values[1 : 1 + size]) / size
    progress = first - end
    if len(values) >= 8 and progress > 0.1 * first:
        quarter = len(means) // 4 or 1
        flat = end > 0.95 * (sum(means[quarter : 2 * quarter]) / quarter)
        if (first - early) > 0.8 * progress and flat:
            return "stalled"
    return "steady"


@cache
def course_bands() -> dict:
    """The bands of the chapters' training runs, shipped in the package
    (scripts/record_course_bands.py)."""
    return json.loads(resources.files(__package__).joinpath(COURSE_BANDS_FILE).read_text())


def course_band(name: str, smoke: bool) -> dict:
    """The recorded bands of the chapters' run `name` ("ae", "vae", "dcgan") in smoke or full
    mode: one band per metric, under "metrics"."""
    return band_of(course_bands()["runs"], name, smoke, "scripts/record_course_bands.py")


def band_of(runs: dict, name: str, smoke: bool, recorder: str) -> dict:
    """Run `name`'s band in smoke or full mode from a bands file's "runs", or an error that names
    the known runs, or the script (`recorder`) that records the missing mode."""
    if name not in runs:
        raise ValueError(f"No reference band for {name!r}; known runs: {', '.join(sorted(runs))}.")
    mode = "smoke" if smoke else "full"
    if mode not in runs[name]:
        raise ValueError(f"No {mode}-mode band for {name!r}: record it with {recorder}.")
    return runs[name][mode]


BAND_SPREAD = 3.0  # a band is never narrower than +- 3 standard deviations over the seeds ...
BAND_FLOOR = 0.05  # ... nor than +- 5% of the mean


def band_from_curves(curves: Sequence[Sequence[float]]) -> dict[str, list[float]]:
    """The band of aligned curves, one per seed: at each point the mean over the seeds +- the
    larger of BAND_SPREAD standard deviations and BAND_FLOOR of the mean (so that a few seeds that
    happen to agree do not make a band too narrow to pass). Rounded to six significant digits:
    enough for a band, and a stable, readable JSON file. The recorders of both bands files
    (scripts/record_bands.py, scripts/record_course_bands.py) write what this returns."""
    means = [statistics.fmean(values) for values in zip(*curves, strict=True)]
    sds = [statistics.stdev(values) for values in zip(*curves, strict=True)]
    widths = [max(BAND_SPREAD * sd, BAND_FLOOR * abs(m)) for m, sd in zip(means, sds, strict=True)]
    return {
        "mean": _rounded(means),
        "sd": _rounded(sds),
        "low": _rounded([m - w for m, w in zip(means, widths, strict=True)]),
        "high": _rounded([m + w for m, w in zip(means, widths, strict=True)]),
    }


def _rounded(values: list[float]) -> list[float]:
    return [float(f"{v:.6g}") for v in values]
