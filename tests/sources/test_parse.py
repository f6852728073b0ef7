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


# Every accepted format holds 1970-01-01..2100-12-31 (UTC); a day that does not exist is an error, never 1970.
OUT_OF_RANGE = {
    "YYYYMMDD": ["30000101", "20261340", "19691231", "20240230", "21010101", "00000101", "12345678"],
    "YYYYMMDD as a number": [30000101, 19691231, 20261340.0, 20240305.5],
    "unix seconds": [-1, "-5", 4133980800, "99999999999999999999"],
    "unix milliseconds": [4133980800000, "4133980800000"],
    "ISO 8601": ["1969-12-31T23:59:59Z", "2101-01-01", "1970-01-01T00:30:00+01:00", "2100-12-31T23:00:00-05:00",
                 "0001-01-01T00:00:00+01:00", "2024-02-30"],
    "datetime": [datetime(1969, 12, 31, 23, tzinfo=UTC), datetime(2101, 1, 1),
                 datetime(1970, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))],
}


@pytest.mark.parametrize("fmt, value", [(f, v) for f, values in OUT_OF_RANGE.items() for v in values])
def test_times_outside_1970_to_2100_are_errors_in_every_format(fmt, value):
    from miles.errors import MilesError

    with pytest.raises(MilesError, match="outside 1970..2100|not a date|neither a date"):
        parse_time(value)


@pytest.mark.parametrize("value, expected", [
    ("19700101", datetime(1970, 1, 1, tzinfo=UTC)),
    ("21001231", datetime(2100, 12, 31, tzinfo=UTC)),
    (20240305, datetime(2024, 3, 5, tzinfo=UTC)),
    (20240305.0, datetime(2024, 3, 5, tzinfo=UTC)),  # a float column of upload dates
    (4133980799, datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("2100-12-31T23:59:59Z", datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("1970-01-01T01:30:00+01:00", datetime(1970, 1, 1, 0, 30, tzinfo=UTC)),
    (datetime(2100, 12, 31, 23, 59), datetime(2100, 12, 31, 23, 59, tzinfo=UTC)),
])
def test_the_edges_of_the_range_are_accepted(value, expected):
    assert parse_time(value) == expected


def test_hashtags_are_linear_in_the_cell():
    import time

    cell = " ".join(f"#t{i}" for i in range(100_000)) + " #t5"
    t = time.perf_counter()
    tags = parse_hashtags(cell)
    assert time.perf_counter() - t < 0.5  # a list's membership test made this 39 s
    assert len(tags) == 100_000 and tags[:3] == ["t0", "t1", "t2"]
