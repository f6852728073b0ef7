"""The ladder: due() on a fake clock, property-tested."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miles.collect.ladder import DEFAULT_AGES, Ladder, parse_span

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
LADDER = Ladder.parse()


def test_spans_parse_and_bad_ones_say_why():
    assert parse_span("15m") == timedelta(minutes=15) and parse_span("7d") == timedelta(days=7)
    assert parse_span("1.5h") == timedelta(minutes=90)
    for bad in ("", "7", "0h", "-1h", "1y", "h"):
        with pytest.raises(ValueError, match="positive span"):
            parse_span(bad)
    with pytest.raises(ValueError, match="must increase"):
        Ladder.parse(["6h", "1h"])
    assert str(LADDER).split()[0] == "30m" and len(LADDER.rungs) == len(DEFAULT_AGES)


def test_the_default_ladder_brackets_the_label_and_the_moments():
    hours = [r.total_seconds() / 3600 for r in LADDER.rungs]
    assert {0.5, 1, 6, 24} <= set(hours)  # 30 m: a fresh enough snapshot for the 1 h moment
    assert 144 in hours and 168 in hours and 192 in hours  # 6 d, 7 d, 8 d around the 168 h label


def test_unknown_publish_time_is_due_at_once_and_nothing_before_the_first_rung():
    assert LADDER.due(None, [], T0)
    assert not LADDER.due(T0, [], T0 + timedelta(minutes=29))
    assert LADDER.due(T0, [], T0 + timedelta(minutes=30))
    assert LADDER.next_due(T0, [], T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=30)


@settings(max_examples=200, deadline=None)
@given(polls=st.lists(st.floats(min_value=0, max_value=40 * 24), min_size=1, max_size=80),
       ages=st.lists(st.integers(1, 24 * 35), min_size=1, max_size=8, unique=True))
def test_a_tracker_polling_at_any_times_takes_at_most_one_snapshot_per_rung(polls, ages):
    ladder = Ladder(tuple(timedelta(hours=a) for a in sorted(ages)))
    observed: list[datetime] = []
    for h in sorted(polls):
        now = T0 + timedelta(hours=h)
        if ladder.due(T0, observed, now):
            observed.append(now)
            assert not ladder.due(T0, observed, now)  # fetched: not due again at once
    rungs = [ladder.rung(o - T0) for o in observed]
    assert None not in rungs and len(rungs) == len(set(rungs))  # one snapshot per rung at most
    assert len(observed) <= len(ladder.rungs)
    # every rung whose span held a poll got its snapshot
    polled = {ladder.rung(timedelta(hours=h)) for h in polls} - {None}
    assert polled == set(rungs)
    assert ladder.done(T0, observed) == (len(ladder.rungs) - 1 in rungs)
    if ladder.done(T0, observed):
        assert ladder.next_due(T0, observed, T0 + timedelta(hours=max(polls))) is None
