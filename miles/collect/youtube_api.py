"""The YouTube Data API for the repeated counts (``miles scrape track --via youtube-api``).

    api = DataAPI()                               # the key from $MILES_YOUTUBE_API_KEY
    items, gone = api.videos(["dQw4w9WgXcQ", ...]) # videos.list, 50 ids a call, channels.list for followers

Each item is the API's own JSON (``snippet``, ``statistics``, ``contentDetails``) with the channel's
``statistics`` under ``channel``; ``miles.sources`` maps those names like any other source's. A video the
API leaves out is private or removed. A quota or rate error is ``Blocked``; anything else ``Failed``.
The first fetch of a video (metadata and thumbnail) still goes through yt-dlp.
"""

from __future__ import annotations

import json
import os
import urllib.error
from urllib.parse import urlencode

from miles.collect.ytdlp import Blocked, Failed
from miles.errors import MilesError
from miles.net import get_json

API = "https://www.googleapis.com/youtube/v3"
KEY_ENV = "MILES_YOUTUBE_API_KEY"
BATCH = 50  # ids per videos.list / channels.list call
BLOCKING = ("quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded")


class DataAPI:
    def __init__(self, key: str | None = None, base: str = API, deadline: float = 20.0):
        self.key = key or os.environ.get(KEY_ENV)
        if not self.key:
            raise MilesError(f"--via youtube-api needs an API key: set {KEY_ENV} (console.cloud.google.com, "
                             "YouTube Data API v3)")
        self.base, self.deadline, self.requests = base.rstrip("/"), deadline, 0

    def _get(self, what: str, **params) -> dict:
        url = f"{self.base}/{what}?{urlencode({**params, 'key': self.key})}"
        self.requests += 1
        try:
            return get_json(url, deadline=self.deadline)
        except urllib.error.HTTPError as err:
            reason = _reason(getattr(err, "body", b""))
            if err.code == 429 or reason in BLOCKING:
                raise Blocked(f"YouTube Data API: {reason or err.code}") from err
            raise Failed(f"YouTube Data API: HTTP {err.code} {reason}".strip()) from err
        except (OSError, TimeoutError, ValueError) as err:
            raise Failed(f"YouTube Data API: {err}") from err

    def videos(self, ids: list[str]) -> tuple[dict[str, dict], set[str]]:
        """(items by video id, the ids it did not return)."""
        items: dict[str, dict] = {}
        for i in range(0, len(ids), BATCH):
            chunk = ids[i:i + BATCH]
            got = self._get("videos", part="snippet,statistics,contentDetails", id=",".join(chunk),
                            maxResults=BATCH).get("items", [])
            items.update({it["id"]: it for it in got if isinstance(it, dict) and it.get("id") in chunk})
        channels = sorted({it.get("snippet", {}).get("channelId") for it in items.values()} - {None})
        followers: dict[str, dict] = {}
        for i in range(0, len(channels), BATCH):
            got = self._get("channels", part="statistics", id=",".join(channels[i:i + BATCH]),
                            maxResults=BATCH).get("items", [])
            followers.update({c["id"]: c.get("statistics", {}) for c in got if isinstance(c, dict) and "id" in c})
        for it in items.values():
            it["channel"] = {"statistics": followers.get(it.get("snippet", {}).get("channelId"), {})}
        return items, set(ids) - set(items)


def _reason(body: bytes) -> str:
    try:
        errors = json.loads(body or b"{}").get("error", {}).get("errors", [])
        return str(errors[0].get("reason", "")) if errors else ""
    except (ValueError, AttributeError):
        return ""
