from datetime import datetime, timedelta, timezone

import pytest

from miles.sources.parse import hashtags_in, parse_count, parse_hashtags, parse_seconds, parse_time

UTC = timezone.utc


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-03-05T10:20:30Z", datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("2024-03-05T12:20:30+02:00", datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("2023-07-29 18:21", datetime(2023, 7, 29, 18, 21, tzinfo=UTC)),
        ("20240305", datetime(2024, 3, 5, tzinfo=UTC)),
        (1709634030, datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("1709634030", datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        (1709634030000, datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45", "-5", True, "nan-ish", "99999999999999999999"])
def test_parse_time_rejects(value):
    with pytest.raises(ValueError):
        parse_time(value)


@pytest.mark.parametrize(
    "value, expected",
    [("1234", 1234), ("1,234", 1234), (1234.0, 1234), ("1.2K", 1200), ("3M", 3_000_000), (0, 0), ("", None),
     (float("nan"), None)],
)
def test_parse_count(value, expected):
    assert parse_count(value) == expected


@pytest.mark.parametrize("value", ["-5", -1, "abc", "12.5", True, "inf", "1e30"])
def test_parse_count_rejects(value):
    with pytest.raises(ValueError):
        parse_count(value)


def test_parse_count_negative_message_names_value():
    with pytest.raises(ValueError, match="negative count '-5'"):
        parse_count("-5")


@pytest.mark.parametrize("value, expected", [("59", 59.0), ("1:05", 65.0), ("1:00:01", 3601.0), (12.5, 12.5)])
def test_parse_seconds(value, expected):
    assert parse_seconds(value) == expected


@pytest.mark.parametrize("value", ["-3", "a:b", "1:2:3:4", "soon"])
def test_parse_seconds_rejects(value):
    with pytest.raises(ValueError):
        parse_seconds(value)


def test_hashtags():
    assert parse_hashtags("#fyp #cooking #fyp") == ["fyp", "cooking"]
    assert parse_hashtags("a, b;c") == ["a", "b", "c"]
    assert parse_hashtags(["x", "#y"]) == ["x", "y"]
    assert parse_hashtags(None) == []
    assert hashtags_in("so good #food #easy!") == ["food", "easy"]
    assert hashtags_in("🔥🔥🔥") == []


def test_naive_times_are_utc():
    assert parse_time("2024-01-01T00:00:00").utcoffset() == timedelta(0)
