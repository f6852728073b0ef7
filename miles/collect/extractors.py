"""yt-dlp extractors for the simulated platform (``miles.collect.platform``): a channel's Shorts listing
and a video page. They use yt-dlp's own networking, so discovery and tracking against 127.0.0.1 run
the same code paths as against a real site. A video's info dict has exactly the keys of yt-dlp's own
YouTube Shorts test cases that Miles maps (checked by a contract test)."""

from __future__ import annotations

from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import ExtractorError

HOST = r"https?://127\.0\.0\.1:\d+"


class SimChannelIE(InfoExtractor):
    IE_NAME = "sim:channel"
    _VALID_URL = HOST + r"/sim/@(?P<id>[\w-]+)/shorts"

    def _real_extract(self, url):
        channel = self._match_id(url)
        data = self._download_json(url, channel)
        base = url.split("/sim/")[0]
        entries = [self.url_result(f"{base}/sim/video/{v['id']}", SimIE, v["id"], v["title"], view_count=v["views"])
                   for v in data["videos"]]
        return self.playlist_result(entries, channel, channel)


class SimIE(InfoExtractor):
    IE_NAME = "sim"
    _VALID_URL = HOST + r"/sim/video/(?P<id>[\w-]+)"

    def _real_extract(self, url):
        vid = self._match_id(url)
        data = self._download_json(url, vid, expected_status=(410,))
        if "error" in data:
            raise ExtractorError(data["error"], expected=True, video_id=vid)
        base = url.split("/sim/")[0]
        return {**data, "thumbnail": f"{base}/sim/thumb/{vid}.jpg", "webpage_url": url,
                "formats": [{"url": f"{base}/sim/media/{vid}.mp4", "ext": "mp4", "format_id": "sd"}]}


EXTRACTORS = (SimChannelIE, SimIE)
