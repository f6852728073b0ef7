"""What the server holds: one store, its deployed head, everything loaded once at start.

    service = Service.start(store, head="lightgbm")   # refuses a store without a trained head or vectors
    service.predict(fields, thumbnail_bytes)           # the same dict as ``miles predict --json``
    service.close()                                    # the app's lifespan ends: its models are released

Every method is a thin call into ``miles.queries`` and is blocking: the app runs them on worker threads,
at most ``concurrency`` at a time. The models those calls load (the head, its encoders, the store's view,
vectors and indexes) live in the service's own caches (``miles.queries.cache.Caches``), which the app
holds in its state for its lifespan, not in the process's. Thumbnails arrive as bytes; no client string
becomes a path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from miles.errors import MilesError, NotFound
from miles.heads.labels import LabelSpec
from miles.queries.cache import Caches, using
from miles.store import Store

log = logging.getLogger(__name__)


@dataclass
class Service:
    store: Store
    head: str = "lightgbm"
    spec: LabelSpec = field(default_factory=LabelSpec)
    caches: Caches = field(default_factory=lambda: Caches(stores=1))

    def _run(self, call: Callable[..., Any], *args, **kwargs) -> Any:
        with using(self.caches):
            return call(*args, **kwargs)

    def close(self) -> None:
        """Release the models this service loaded (the end of the app's lifespan)."""
        self.caches.clear()

    @staticmethod
    def check(store: Store, head: str = "lightgbm") -> dict:
        """Refuse, with the command to run, a store that has no vectors or no trained head; else the head's
        metadata. Loads no model."""

        from miles.heads.dataset import default_tables
        from miles.heads.deployed import read_meta

        if not store.exists():
            raise MilesError(f"no Miles store at {store}: run `miles demo --store {store}` first")
        text, image = default_tables(store)
        if text is None and image is None:
            raise MilesError(f"store {store} has no embeddings: run `miles embed --store {store}` and "
                             f"`miles train --store {store}` first")
        meta = read_meta(store, head)
        if meta is None:
            raise MilesError(f"store {store} has no trained {head} head: run "
                             f"`miles train --store {store} --heads {head}`")
        return meta

    @classmethod
    def start(cls, store: Store, head: str = "lightgbm") -> Service:
        """Load the head, its encoders, the store's indexes and view, and answer one draft to warm up."""
        from miles.queries.predict import predict

        meta = cls.check(store, head)
        service = cls(store, head, LabelSpec(**meta["label_spec"]))
        service._run(predict, store, title="warm up", head=head, k=1)
        log.info("serving %s with the %s head (label at %s h)", store, head, service.spec.age_hours)
        return service

    # ---- queries ---------------------------------------------------------------------------------
    def predict(self, thumbnail: bytes | None = None, **fields) -> dict:
        from miles.queries.predict import predict

        return self._run(predict, self.store, thumbnail=thumbnail, head=self.head, **fields)

    def recommend(self, thumbnail: bytes | None = None, **fields) -> dict:
        from miles.queries.recommend import recommend

        return self._run(recommend, self.store, thumbnail=thumbnail, head=self.head, **fields)

    def live(self, video_id: str, at: str | None = None, k: int = 5) -> dict:
        from miles.queries.live import score_video

        return self._run(score_video, self.store, video_id, at, head=self.head, k=k)

    def watchlist(self) -> dict:
        from miles.queries.watchlist import watchlist

        return self._run(watchlist, self.store, self.head)

    def score_history(self, video_id: str) -> list[dict]:
        from miles.queries.watchlist import score_history

        return self._run(score_history, self.store, video_id, self.head)

    def similar(self, **kw) -> list[dict]:
        from miles.queries.similar import similar

        return self._run(similar, self.store, spec=self.spec, **kw)

    def video(self, video_id: str) -> dict:
        from miles.queries.catalog import video

        return self._run(video, self.store, video_id, self.spec)

    def thumbnail(self, video_id: str) -> bytes:
        import pyarrow.compute as pc

        rows = self.store.read("videos", columns=["thumbnail"], filter=pc.field("video_id") == video_id).to_pylist()
        if not rows:
            raise NotFound(f"no video {video_id!r} in this store")
        if rows[0]["thumbnail"] is None:
            raise NotFound(f"video {video_id!r} has no thumbnail")
        return rows[0]["thumbnail"]

    def info(self) -> dict:
        from miles.queries.catalog import info

        return {**self._run(info, self.store), "deployed": self.head}

    def store_summary(self) -> dict:
        from miles.queries.catalog import store_summary

        return self._run(store_summary, self.store, self.spec)

    def creators(self, limit: int = 500) -> list[str]:
        from miles.queries.cache import store_view

        counts = self._run(store_view, self.store).videos["creator_id"].value_counts()
        return [str(c) for c in counts.index[:limit]]

    def evaluation(self):
        from miles.queries.catalog import latest_evaluation

        return self._run(latest_evaluation, self.store)

    def head_meta(self) -> dict:
        from miles.heads.deployed import require_meta

        return require_meta(self.store, self.head)
