"""Feature rows for a prediction moment: one function for training rows and for a draft.

    view = StoreView.read(store)                          # the store's tables at pinned versions (heads/view.py)
    fs = build_features(store, "pre_upload", LabelSpec())  # every video with a final outcome
    fs.X(["metadata", "text", "image"])                   # (n, n_scalar + d_text + d_image) float32
    draft = draft_features(view, Draft(title=..., creator_id=..., publish_at=...), vectors={"text": v})

``feature_rows`` computes the scalar features of any rows — stored videos or a draft that is not in the
store yet — from the store as it was at each row's cutoff (publish time plus the moment's hours):
followers as of the cutoff and the creator prior from outcomes known before publishing (both from
``miles.heads.history``), and the video's own snapshots up to the cutoff for the early moments.
``tests/heads/test_leaks.py`` perturbs everything after each cutoff and checks that no feature moves;
``tests/queries/test_predict.py`` builds 50 stored videos through the draft path and gets their training
rows back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from miles.errors import MilesError
from miles.heads.features import FRESH, early_hours, moment_hours, scalar_names
from miles.heads.history import creator_history, followers_asof, log_followers, seconds, video_asof
from miles.heads.labels import LabelSpec
from miles.heads.view import StoreView
from miles.store import Store
from miles.store.text import compose_text

log = logging.getLogger(__name__)

BLOCKS = ("metadata", "text", "image")
# What a training row carries besides its features: its outcome and labels (``miles.heads.labels``).
LABEL_COLUMNS = ["creator_id", "platform", "published_at", "velocity", "outcome_known_at", "viral", "viral_threshold",
                 "cohort", "cohort_end"]


@dataclass
class FeatureSet:
    moment: str
    spec: LabelSpec
    frame: pd.DataFrame  # sorted by published_at
    scalar_names: list[str]
    text: np.ndarray | None = None  # (n, d_text), zeros where a video has no vector
    image: np.ndarray | None = None  # (n, d_image)
    encoders: dict = field(default_factory=dict)  # table -> fingerprint
    store_versions: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def blocks(self) -> list[str]:
        """The blocks this set has: metadata, then text and image where there are vectors."""
        return [b for b in BLOCKS if b == "metadata" or getattr(self, b) is not None]

    def X(self, blocks: list[str] | tuple[str, ...] = ("metadata",)) -> np.ndarray:
        parts = []
        for b in blocks:
            if b == "metadata":
                parts.append(self.frame[self.scalar_names].to_numpy(dtype=np.float32))
            elif b in ("text", "image"):
                if getattr(self, b) is None:
                    raise MilesError(f"no {b} embeddings in this store: run `miles embed` first")
                parts.append(getattr(self, b))
            else:
                raise MilesError(f"unknown feature block {b!r}; valid: {', '.join(BLOCKS)}")
        return np.hstack(parts).astype(np.float32)

    def feature_names(self, blocks) -> list[str]:
        names: list[str] = []
        for b in blocks:
            if b == "metadata":
                names += self.scalar_names
            else:
                names += [f"{b}_{i}" for i in range(getattr(self, b).shape[1])]
        return names

    def known_before(self, when) -> FeatureSet:
        """The rows whose outcome was known before ``when``: what a model trained then could have seen."""
        keep = (pd.to_datetime(self.frame["outcome_known_at"], utc=True) < pd.Timestamp(when)).to_numpy()
        cut = {b: (getattr(self, b)[keep] if getattr(self, b) is not None else None) for b in ("text", "image")}
        return FeatureSet(self.moment, self.spec, self.frame[keep].reset_index(drop=True), self.scalar_names,
                          encoders=self.encoders, store_versions=self.store_versions, **cut)

    @property
    def texts(self) -> np.ndarray:
        return self.frame["text"].to_numpy(dtype=object)


def scalar_names_for(moment: str) -> list[str]:
    """The scalar columns of a feature row at ``moment``: the registry's (``miles.heads.features``)."""
    return scalar_names(moment)


def feature_rows(rows: pd.DataFrame, view: StoreView, moment: str, spec: LabelSpec) -> pd.DataFrame:
    """The scalar features (and the text the baseline reads) of ``rows`` — stored videos or drafts, with
    the columns of ``VIDEO_COLUMNS`` and ``has_thumbnail`` — from the store as it was at each row's cutoff."""
    hours = moment_hours(moment)
    pub = pd.to_datetime(rows["published_at"], utc=True).reset_index(drop=True)
    cutoff = pub + pd.Timedelta(hours=hours)
    titles = rows["title"].fillna("").to_numpy(dtype=object)
    tags = [list(t) if t is not None and not (isinstance(t, float) and np.isnan(t)) else [] for t in rows["hashtags"]]
    f = pd.DataFrame({"video_id": rows["video_id"].to_numpy()})
    f["duration_s"] = pd.to_numeric(rows["duration_s"], errors="coerce").to_numpy(dtype=float)
    f["publish_hour"] = pub.dt.hour.to_numpy()
    f["publish_weekday"] = pub.dt.day_of_week.to_numpy()
    f["title_chars"] = [len(t) for t in titles]
    f["title_words"] = [len(t.split()) for t in titles]
    f["hashtag_count"] = [len(t) for t in tags]
    f["has_thumbnail"] = rows["has_thumbnail"].to_numpy(dtype=float)
    f["text"] = [compose_text(t, h) for t, h in zip(titles, tags)]
    prior, n_prior = creator_history(view.creator_outcomes(spec), rows["creator_id"], pub, spec.min_history)
    f["creator_prior"], f["creator_n_prior"] = prior, n_prior.astype(float)
    f["log_followers"] = followers_asof(view.followers(), rows["creator_id"], cutoff)
    if "followers" in rows:  # a draft's own count, given now, beats the store's last observation
        given = pd.to_numeric(rows["followers"], errors="coerce").to_numpy(dtype=float)
        f["log_followers"] = np.where(np.isnan(given), f["log_followers"], log_followers(given))
    for h in early_hours(moment):
        h = int(h) if float(h).is_integer() else h
        if h <= hours:
            at = pub + pd.Timedelta(hours=h)
            seen = video_asof(view.snapshot_index(["views", "likes"]), rows["video_id"], at, ["views", "likes"])
            views, likes = seen["views"].to_numpy(dtype=float, copy=True), seen["likes"].to_numpy(dtype=float, copy=True)
            age = (view.snapshot_times().at(rows["video_id"], at) - seconds(pub)) / 3600
            stale = ~(age >= FRESH * h)  # too early a snapshot (say, 1 h old for the 6 h moment), or none
            views[stale], likes[stale], age[stale] = np.nan, np.nan, np.nan
            f[f"snap_age_{h}h"] = age
            f[f"log_views_{h}h"] = np.log10(views + 1.0)
            f[f"log_likes_{h}h"] = np.log10(likes + 1.0)
            f[f"like_rate_{h}h"] = likes / np.maximum(views, 1.0)
    return f


def assemble(videos: pd.DataFrame, snapshots: pd.DataFrame, moment: str, spec: LabelSpec,
             view: StoreView | None = None) -> pd.DataFrame:
    """The scalar features and outcomes of every video with a final outcome (frames in, frame out)."""
    view = view or StoreView.of(videos, snapshots)
    hours = moment_hours(moment)
    if spec.age_hours is not None and spec.age_hours <= hours:
        raise MilesError(f"the label is measured at {spec.age_hours:g} h, not after the {moment} moment: the "
                         f"features would contain the answer; use a later --label-age")
    out = view.outcomes(spec)
    out = out[out["final"]]
    if spec.age_hours is None and hours > 0:
        # The latest observation is the label: only rows observed after the moment have one to predict.
        late = out["age_hours"] > hours
        if not late.any():
            raise MilesError(f"with --label-age 0 the label is each video's latest observation, and none was "
                             f"observed after {hours:g} h, so {moment} has nothing to predict: use pre_upload, "
                             "or give a label age")
        out = out[late]
    out = out.reset_index(drop=True)
    rows = view.videos.set_index("video_id").loc[out["video_id"]].reset_index()
    f = feature_rows(rows, view, moment, spec)
    meta = out[LABEL_COLUMNS].reset_index(drop=True)
    meta["content_hash"] = rows["content_hash"].to_numpy()
    return pd.concat([meta, f], axis=1)


@dataclass
class Draft:
    """A video that is not in the store yet: what its creator knows before publishing."""

    title: str
    publish_at: datetime
    hashtags: list[str] = field(default_factory=list)
    description: str | None = None
    duration_s: float | None = None
    creator_id: str | None = None
    has_thumbnail: bool = False
    platform: str | None = None
    followers: int | None = None  # the creator's count now, when the creator gives it
    video_id: str = "draft"

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"video_id": self.video_id, "creator_id": self.creator_id, "platform": self.platform,
                              "published_at": pd.Timestamp(self.publish_at), "title": self.title,
                              "hashtags": list(self.hashtags), "description": self.description,
                              "duration_s": np.nan if self.duration_s is None else float(self.duration_s),
                              "has_thumbnail": float(self.has_thumbnail),
                              "followers": np.nan if self.followers is None else float(self.followers)}])


def draft_features(view: StoreView, draft: Draft | pd.DataFrame, spec: LabelSpec, scalar_names: list[str],
                   vectors: dict[str, np.ndarray] | None = None, dims: dict[str, int] | None = None,
                   moment: str = "pre_upload") -> FeatureSet:
    """The one-row FeatureSet of a draft (or of one stored video's row, scored live at ``moment``), through
    the same ``feature_rows`` as training rows; a modality it lacks is zeros, as for a stored video with no
    vector."""
    f = feature_rows(draft.frame() if isinstance(draft, Draft) else draft.reset_index(drop=True), view, moment, spec)
    fs = FeatureSet(moment, spec, f, scalar_names, store_versions=dict(view.versions))
    for block, dim in (dims or {}).items():
        vec = (vectors or {}).get(block)
        setattr(fs, block, (np.zeros(dim, np.float32) if vec is None else np.asarray(vec, np.float32))[None, :])
    return fs


def vectors_of(store: Store, table: str | None, ids: pd.Series, version: int | None = None) -> np.ndarray | None:
    """(len(ids), d) vectors of ``table`` in the order of ``ids`` (zeros where a video has none), or None."""
    if table is None or not store.has(table):
        return None
    from miles.store.index import read_vectors

    vid, vecs = read_vectors(store, table, version)
    pos = pd.Series(np.arange(len(vid)), index=vid)
    out = np.zeros((len(ids), vecs.shape[1]), dtype=np.float32)
    idx = pos.reindex(ids.to_numpy())
    ok = idx.notna().to_numpy()
    out[ok] = vecs[idx[ok].to_numpy(dtype=int)]
    return out


def feature_text_tables(store: Store) -> list[str]:
    """The text tables heads may read: every ``emb_text_*`` but those whose text includes the description
    (``_desc``), which is read when a video is crawled, after publishing, and may say how it went
    ("trending", "thanks for 1M views")."""
    return [n for n in store.table_names() if n.startswith("emb_text_") and not n.endswith("_desc")]


def default_tables(store: Store, text_encoder: str | None = None) -> tuple[str | None, str | None]:
    """The text and image tables heads read: ``text_encoder``'s table when given (an error when the store has
    none), else the offline preset's when present, else the first there is."""
    texts = feature_text_tables(store)
    if text_encoder is not None:
        from miles.store.embeddings import table_name

        want = table_name("text", text_encoder)
        if want.endswith("_desc"):
            raise MilesError(f"{want} embeds descriptions, which are read when a video is crawled, after "
                             "publishing: no head may use them (they serve similar-video search only)")
        if want not in texts:
            raise MilesError(f"this store has no title vectors from the {text_encoder} encoder",
                             hint=f"`miles embed --store {store} --modality text --text-encoder {text_encoder}` "
                                  "makes them")
        text = want
    else:
        text = "emb_text_minilm" if "emb_text_minilm" in texts else next(iter(texts), None)
    images = [n for n in store.table_names() if n.startswith("emb_image_")]
    image = "emb_image_efficientnet_lite0" if "emb_image_efficientnet_lite0" in images else next(iter(images), None)
    return text, image


def build_features(store: Store, moment: str = "pre_upload", spec: LabelSpec | None = None,
                   text_encoder: str | None = None, view: StoreView | None = None) -> FeatureSet:
    """Read the store (versions pinned and recorded) and assemble the features of ``moment``, the titles'
    vectors from ``text_encoder``'s table (default: ``default_tables``)."""
    from miles.store.embeddings import table_fingerprint

    spec = spec or LabelSpec()
    view = view or StoreView.read(store)
    if view.snapshots.empty:
        raise MilesError(f"store {store} has no snapshots (view counts over time), so no outcome is known: "
                         "ingest observations with counts and an observation time (--observed-at)")
    frame = assemble(view.videos, view.snapshots, moment, spec, view=view)
    if frame.empty and spec.age_hours is None:
        raise MilesError(f"no video in {store} has an outcome: none has both a publish time and a count "
                         "observed after it (a source without publish times gives no views per hour and no "
                         "upload week to rank within)")
    if frame.empty:
        raise MilesError(f"no video in {store} has a final outcome at {spec.age_hours:g} h (snapshots on "
                         "both sides of that age): ingest later observations, or use --label-age 0 for the "
                         "latest one")
    versions = dict(view.versions)
    dt, di = default_tables(store, text_encoder)
    encoders = {}
    for t in (dt, di):
        if t is not None and store.has(t):
            versions[t] = store.version(t)
            encoders[t] = table_fingerprint(store, t)
    fs = FeatureSet(moment, spec, frame, scalar_names_for(moment), encoders=encoders, store_versions=versions)
    fs.text = vectors_of(store, dt, frame["video_id"], versions.get(dt))
    fs.image = vectors_of(store, di, frame["video_id"], versions.get(di))
    log.info("features for %s: %d videos, %d scalars, text %s, image %s", moment, len(frame), len(fs.scalar_names),
             None if fs.text is None else fs.text.shape[1], None if fs.image is None else fs.image.shape[1])
    return fs
