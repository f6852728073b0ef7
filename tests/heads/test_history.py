"""The creator prior is a median over a creator's past outcomes; it is computed for every row at once,
so it is checked here against the definition, one query at a time."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from miles.heads.history import creator_history, prefix_medians

T0 = pd.Timestamp("2024-01-01", tz="UTC")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([-1.5, 0.0, 0.25, 1.0, 2.0, 2.5, 7.0]) | st.floats(-5, 5), min_size=1, max_size=30))
def test_prefix_medians_equal_numpy(values):
    v = np.array(values)
    expected = [np.median(v[:k]) for k in range(1, len(v) + 1)]
    assert np.array_equal(prefix_medians(v, len(v)), expected)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_creator_history_is_the_median_of_outcomes_known_strictly_before(seed, min_history):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    outcomes = pd.DataFrame({
        "creator_id": rng.choice(["a", "b", "c"], n),
        "velocity": rng.choice([0.5, 1.0, 1.5, 3.0], n) + rng.integers(0, 2, n) * rng.normal(size=n),
        "outcome_known_at": T0 + pd.to_timedelta(rng.integers(0, 40, n), unit="h"),  # ties in time
        "final": rng.random(n) < 0.8,
    })
    creators = rng.choice(["a", "b", "c", "new"], 50)
    times = T0 + pd.to_timedelta(rng.integers(-5, 45, 50), unit="h")
    prior, count = creator_history(outcomes, creators, times, min_history)
    for c, t, p, k in zip(creators, times, prior, count):
        known = outcomes[(outcomes["creator_id"] == c) & outcomes["final"] & (outcomes["outcome_known_at"] < t)]
        assert k == len(known)
        if len(known) >= min_history:
            assert p == np.median(known["velocity"])
        else:
            assert np.isnan(p)
