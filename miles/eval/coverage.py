"""Do the intervals beside a prediction contain what they claim? Measured on held-out rows.

    for metric, value, low, high in coverage_records(y, v, p, velocity, (p_low, p_high), fitted, W): ...

The probability range is checked on held-out rows as ``miles.heads.intervals.rate_in_range`` defines it
(does it hold the observed breakout rate of the 50 held-out videos scored most alike); the velocity
range against each video's own velocity. Both coverages get the same
bootstrap intervals as every other metric; both should be near the nominal 95%.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from miles.eval.metrics import with_interval
from miles.heads.intervals import rate_in_range


def coverage_records(y, v, p, velocity, interval, fitted, W) -> Iterator[tuple[str, float, float, float]]:
    """(metric, value, low, high) for the probability interval (coverage of the binned rate, mean width)
    and the velocity range (coverage of the observed velocity)."""
    if interval is not None:
        lo, hi = interval
        yield "p_coverage", *with_interval("mean", y, rate_in_range(y, p, lo, hi).astype(float), W)
        yield "p_width", *with_interval("mean", y, np.asarray(hi - lo, dtype=float), W)
    band = fitted.calibration.velocity_band
    if band is not None:
        inside = (np.asarray(v) >= velocity + band[0]) & (np.asarray(v) <= velocity + band[1])
        yield "velocity_coverage", *with_interval("mean", y, inside.astype(float), W)
