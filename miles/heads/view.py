"""The store's videos and snapshots read once, at pinned versions: what every feature row is built from.

    view = StoreView.read(store)           # videos (VIDEO_COLUMNS + has_thumbnail), snapshots, versions
    view.outcomes(LabelSpec())             # every video's outcome and labels, computed once per spec
    view.followers(); view.snapshot_index(["views"])   # the time indexes as-of lookups use

A query process keeps one per store version (``miles.queries.cache``), so a draft's features cost
microseconds; ``StoreView.of`` wraps frames already in memory (tests, notebooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from miles.bounded import Bounded
from miles.errors import MilesError
from miles.heads.history import CreatorOutcomes, TimeIndex, follower_observations, seconds, split_by_key
from miles.heads.labels import LabelSpec, compute_outcomes
from miles.store import Store

VIDEO_COLUMNS = ["video_id", "creator_id", "platform", "published_at", "title", "hashtags", "description",
                 "duration_s", "content_hash", "language"]


@dataclass
class StoreView:
    """The store's videos and snapshots read once, at pinned versions; outcomes computed once per label
    spec. Everything a feature row needs, for training and for a draft alike."""

    videos: pd.DataFrame  # VIDEO_COLUMNS + has_thumbnail
    snapshots: pd.DataFrame
    versions: dict = field(default_factory=dict)
    path: str = ""
    _memo: Bounded = field(default_factory=lambda: Bounded(32), repr=False)  # what is derived from the frames

    @classmethod
    def read(cls, store: Store) -> StoreView:
        import pyarrow.compute as pc

        versions = {t: store.version(t) for t in ("videos", "snapshots") if store.has(t)}
        if not versions.get("videos"):
            raise MilesError(f"store {store} has no videos: run `miles ingest PATH --store {store}` "
                             "or `miles demo` first")
        ds = store.dataset("videos", versions["videos"])
        videos = ds.to_table(columns=VIDEO_COLUMNS).to_pandas()
        has_thumb = set(ds.to_table(columns=["video_id"], filter=pc.field("thumbnail").is_valid())["video_id"]
                        .to_pylist())
        videos["has_thumbnail"] = videos["video_id"].isin(has_thumb).astype(float)
        snapshots = store.read("snapshots", version=versions.get("snapshots")).to_pandas()
        return cls(videos, snapshots, versions, store.location.key)

    @classmethod
    def of(cls, videos: pd.DataFrame, snapshots: pd.DataFrame) -> StoreView:
        """A view over frames already in memory (tests, notebooks)."""
        videos = videos.copy()
        for c in VIDEO_COLUMNS:
            if c not in videos:
                videos[c] = None
        if "has_thumbnail" not in videos:
            videos["has_thumbnail"] = 1.0
        return cls(videos, snapshots)

    def memo(self, key, make):
        """What is derived from this view's frames, computed once (outcomes per spec, time indexes, the
        evidence a query asks for): up to 32 such things, the least recently used dropped first."""
        return self._memo.get(key, make)

    def _outcome_pair(self, spec: LabelSpec):
        def make():
            out = compute_outcomes(self.videos, self.snapshots, spec)
            return out, CreatorOutcomes.of(out)

        return self.memo(("outcomes", spec), make)

    def outcomes(self, spec: LabelSpec) -> pd.DataFrame:
        """Every video's outcome under ``spec`` (computed once per spec)."""
        return self._outcome_pair(spec)[0]

    def creator_outcomes(self, spec: LabelSpec) -> CreatorOutcomes:
        """The same outcomes indexed by creator, for ``creator_history``."""
        return self._outcome_pair(spec)[1]

    def by_id(self) -> pd.DataFrame:
        """The videos indexed by video_id (built once)."""
        return self.memo("by_id", lambda: self.videos.set_index("video_id"))

    def followers(self) -> TimeIndex:
        return self.memo("followers", lambda: follower_observations(self.videos, self.snapshots))

    def snapshot_times(self) -> TimeIndex:
        """Each video's snapshot times as values (seconds since the epoch): how old a count seen as of a
        time is."""
        def make():
            f = self.snapshots[["video_id", "observed_at"]].dropna()
            t = seconds(f["observed_at"])
            return TimeIndex(split_by_key(f["video_id"], t, t))

        return self.memo(("snapshots", "observed_at"), make)

    def snapshot_index(self, columns: list[str]) -> dict[str, TimeIndex]:
        return {c: self.memo(("snapshots", c), lambda c=c: TimeIndex.of(self.snapshots, "video_id", "observed_at", c))
                for c in columns}
