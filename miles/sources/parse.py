"""Parsers for the loose values real sources hold: times, counts, durations, hashtags.

Each raises ``ValueError`` with a message that names what it got; the caller adds the column name.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from miles.errors import MilesError

_EIGHT_DIGITS = re.compile(r"^\d{8}$")  # always YYYYMMDD: as unix seconds they would be 1970-1973
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
_HASHTAG = re.compile(r"#([^\s#.,!?;:()\[\]{}\"']+)")
MAX_HASHTAGS = 100  # per video: more are cut, and the cut is noted in ``rejects``
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
END = datetime(2101, 1, 1, tzinfo=timezone.utc)  # the first moment after 2100: times run 1970..2100


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "NA", "N/A", "NaN", "nan", "null", "None")


def parse_time(value: Any) -> datetime | None:
    """Unix seconds (or milliseconds), ISO 8601 (naive means UTC) or YouTube's ``YYYYMMDD`` → aware UTC.

    Every format holds the same range, 1970-01-01 to the end of 2100 in UTC, and a date that does not exist
    (month 13, 30 February) is an error, never a moment of 1970. Eight digits are always ``YYYYMMDD`` (as unix
    seconds they would fall in 1970-1973, before any video site), a number included."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):  # from Parquet or pandas: the same range as text times
        return _in_range(value, value.isoformat())
    if isinstance(value, bool):
        raise MilesError(f"expected a time, got the boolean {value!r}")
    text = str(value).strip()
    if _EIGHT_DIGITS.match(text):
        return _yyyymmdd(text)
    if isinstance(value, (int, float)) or _NUMBER.match(text):
        seconds = float(text)
        if not math.isfinite(seconds):
            raise MilesError(f"expected a time, got {text!r}")
        if 1e7 <= seconds < 1e8:  # eight digits before the point: 20240305.0 from a float column
            if seconds != int(seconds):
                raise MilesError(f"{text!r} is neither a date YYYYMMDD nor a plausible unix time")
            return _yyyymmdd(str(int(seconds)))
        if seconds > 1e11:  # milliseconds since the epoch
            seconds /= 1000.0
        if not 0 < seconds < (END - EARLIEST).total_seconds():
            raise MilesError(f"unix time {text!r} is outside 1970..2100")
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        if "out of range" in str(err):  # 2024-02-30: the form is right, the day does not exist
            raise MilesError(f"{text[:60]!r} is not a date ({err})") from None
        raise MilesError(f"expected ISO 8601, unix seconds or YYYYMMDD, got {text[:60]!r}") from None
    return _in_range(dt, text[:60])


def _yyyymmdd(text: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y%m%d")
    except ValueError:
        raise MilesError(f"{text!r} is not a date YYYYMMDD (no such month or day)") from None
    return _in_range(day, text)


def _in_range(dt: datetime, shown: str) -> datetime:
    """``dt`` in UTC (naive means UTC) when it lies in 1970..2100 there; otherwise a ``MilesError``."""
    if not 1970 <= dt.year <= 2100:  # before converting: year 1 with an offset would overflow
        raise MilesError(f"time {shown!r} is outside 1970..2100")
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    if not EARLIEST <= dt < END:
        raise MilesError(f"time {shown!r} is outside 1970..2100 in UTC")
    return dt


def parse_count(value: Any) -> int | None:
    """A non-negative whole count: ``1234``, ``"1,234"``, ``1234.0``, ``"1.2K"``, ``"3M"``."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise MilesError(f"expected a count, got the boolean {value!r}")
    if isinstance(value, int):
        number = float(value) if abs(value) > 2**62 else value
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        scale = 1.0
        if text and text[-1].lower() in _SUFFIX:
            scale, text = _SUFFIX[text[-1].lower()], text[:-1]
        if not _NUMBER.match(text):
            raise MilesError(f"expected a count, got {str(value)[:60]!r}")
        number = float(text) * scale
        if not math.isfinite(number):
            raise MilesError(f"expected a finite count, got {str(value)[:60]!r}")
        if scale == 1.0 and number != int(number):
            raise MilesError(f"expected a whole count, got {str(value)[:60]!r}")
    if number < 0:
        raise MilesError(f"negative count {value!r}")
    if number >= 2**63:
        raise MilesError(f"count {value!r} is too large")
    return int(round(number))


_ISO_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def parse_seconds(value: Any) -> float | None:
    """A duration in seconds: a number, ``MM:SS`` / ``HH:MM:SS``, or ISO 8601 such as ``PT1M5S``."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise MilesError(f"expected a duration, got the boolean {value!r}")
    text = str(value).strip()
    iso = _ISO_DURATION.fullmatch(text.upper())
    if iso and any(iso.groups()):  # the YouTube Data API's PT1M5S
        d, h, m, sec = (float(g) if g else 0.0 for g in iso.groups())
        return ((d * 24 + h) * 60 + m) * 60 + sec
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(p.strip().replace(".", "", 1).isdigit() for p in parts):
            raise MilesError(f"expected a duration like 1:05, got {text[:60]!r}")
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + float(p)
    elif _NUMBER.match(text):
        seconds = float(text)
    else:
        raise MilesError(f"expected a duration in seconds, got {text[:60]!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise MilesError(f"duration must be a non-negative number of seconds, got {text[:60]!r}")
    return seconds


def parse_age(value: Any) -> timedelta | None:
    seconds = parse_seconds(value)
    return None if seconds is None else timedelta(seconds=seconds)


def parse_hashtags(value: Any) -> list[str]:
    """A list, a JSON-ish list string, ``"#a #b"``, or ``"a,b"`` → tags without ``#``, in order, unique.

    Linear in the input (a cell of 100,000 tags parses in well under a second); the cap per video
    (``MAX_HASHTAGS``) is the caller's, which says what it cut."""
    if is_missing(value):
        return []
    if isinstance(value, (list, tuple)):  # strings, or objects such as TikTok's {"name": "diy", ...}
        items = [str(v.get("name") or v.get("title") or v.get("tag") or "") if isinstance(v, dict) else str(v)
                 for v in value if not is_missing(v)]
    else:
        text = str(value).strip().strip("[]")
        if "#" in text:
            items = _HASHTAG.findall(text)
        else:
            items = re.split(r"[,;|]", text)
    out: dict[str, None] = {}  # a dict keeps the order and finds a repeat in O(1)
    for item in items:
        tag = item.strip().strip("'\"").lstrip("#").strip()
        if tag:
            out.setdefault(tag)
    return list(out)


def hashtags_in(text: str | None) -> list[str]:
    """The ``#tags`` written inside a title or description."""
    return list(dict.fromkeys(_HASHTAG.findall(text))) if text else []
