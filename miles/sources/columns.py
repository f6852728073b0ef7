"""Which source column feeds which canonical field.

Automatic matches cover the names that YouTube (yt-dlp, the Data API's ``videos.list`` items), TikTok
and common scrapers use; ``--map
canonical=source_column`` overrides them. Matching ignores case, ``_``, ``-`` and ``.``.
"""

from __future__ import annotations

from collections.abc import Iterable

from miles.errors import MilesError

# canonical field -> source names, most specific first
ALIASES: dict[str, tuple[str, ...]] = {
    "video_id": ("video_id", "videoId", "id", "vid", "bvid", "aweme_id", "pid", "display_id"),
    "platform": ("platform", "extractor_key", "site"),
    "creator_id": ("creator_id", "channel_id", "channelId", "uploader_id", "author_id", "authorMeta.id",
                   "uid", "user_id", "owner_id", "uploader", "uploader_name", "author", "channel",
                   "snippet.channelId"),
    "title": ("title", "fulltitle", "caption", "text", "post_content", "snippet.title"),
    "description": ("description", "desc", "snippet.description"),
    "hashtags": ("hashtags", "tags", "challenges", "snippet.tags"),
    "language": ("language", "lang", "defaultAudioLanguage", "post_text_language", "snippet.defaultAudioLanguage"),
    "duration_s": ("duration_s", "duration", "lengthSeconds", "video_duration", "videoMeta.duration",
                   "contentDetails.duration"),
    "published_at": ("published_at", "publishedAt", "publish_time", "createTime", "create_time",
                     "createTimeISO", "timestamp", "release_timestamp", "upload_date", "pubdate", "post_time",
                     "snippet.publishedAt"),
    "age_s": ("age_s", "age_seconds", "pub_seconds_ago", "seconds_since_publish"),
    "thumbnail": ("thumbnail_path", "thumbnail_file", "thumbnail", "thumb", "cover_path", "cover"),
    "observed_at": ("observed_at", "observedAt", "crawled_at", "scraped_at", "fetched_at", "epoch"),
    "views": ("views", "view_count", "viewCount", "playCount", "play_count", "plays", "statistics.viewCount"),
    "likes": ("likes", "like_count", "likeCount", "diggCount", "digg_count", "statistics.likeCount"),
    "comments": ("comments", "comment_count", "commentCount", "statistics.commentCount"),
    "shares": ("shares", "share_count", "shareCount", "repost_count"),
    "creator_followers": ("creator_followers", "followers", "follower_count", "followerCount", "subscribers",
                          "subscriber_count", "subscriberCount", "channel_follower_count", "uploader_follower",
                          "authorMeta.fans", "user_follower_count", "channel.statistics.subscriberCount"),
}
CANONICAL = tuple(ALIASES)


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(".", "")


def parse_map(items: Iterable[str] | None) -> dict[str, str]:
    """``["views=playCount", ...]`` → ``{"views": "playCount"}``; unknown canonical names are an error."""
    out: dict[str, str] = {}
    for item in items or ():
        canonical, sep, source = item.partition("=")
        canonical, source = canonical.strip(), source.strip()
        if not sep or not canonical or not source:
            raise MilesError(f"--map takes canonical=source_column, got {item!r}")
        if canonical not in ALIASES:
            raise MilesError(f"--map: unknown canonical column {canonical!r}; valid: {', '.join(CANONICAL)}")
        out[canonical] = source
    return out


def resolve_columns(source_columns: Iterable[str], user_map: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical field → the source column that feeds it, for one source's set of columns."""
    cols = list(source_columns)
    by_norm: dict[str, str] = {}
    for c in cols:
        by_norm.setdefault(_norm(c), c)
    user_map = user_map or {}
    taken = set(user_map.values())
    out = {k: v for k, v in user_map.items() if v in cols}
    for canonical, names in ALIASES.items():
        if canonical in out or canonical in user_map:
            continue
        for name in names:
            col = by_norm.get(_norm(name))
            if col is not None and col not in taken:
                out[canonical] = col
                taken.add(col)
                break
    return out
