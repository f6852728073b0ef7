"""Feature assembly for a prediction moment: point-in-time joins from the store.

    fs = build_features(store, "pre_upload", LabelSpec(age_hours=168))
    fs.frame          # one row per video with a final outcome: ids, time, outcome, scalar features
    fs.X(["metadata", "text", "image"])     # (n, n_scalar + d_text + d_image) float32

A feature of moment ``m`` at video v may use only data observed at or before v's publish time plus m's
hours (``cutoff``): creator followers as of the cutoff, the creator prior from outcomes known before
publishing, and the video's own snapshots up to the cutoff for the early moments.
``tests/heads/test_leaks.py`` perturbs everything after each cutoff and checks that no feature moves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from miles.heads.features import available, moment_hours
from miles.heads.labels import LabelSpec, compute_outcomes
from miles.store import Store
from miles.store.text import compose_text

log = logging.getLogger(__name__)

BLOCKS = ("metadata", "text", "image")
PRE_UPLOAD_SCALARS = ["duration_s", "publish_hour", "publish_weekday", "title_chars", "title_words", "hashtag_count",
                      "has_thumbnail", "log_followers", "creator_prior", "creator_n_prior"]
EARLY_HOURS = (1, 6, 24)


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

    def X(self, blocks: list[str] | tuple[str, ...] = ("metadata",)) -> np.ndarray:
        parts = []
        for b in blocks:
            if b == "metadata":
                parts.append(self.frame[self.scalar_names].to_numpy(dtype=np.float32))
            elif b == "text":
                if self.text is None:
                    raise ValueError("no text embeddings in this store: run `miles embed` first")
                parts.append(self.text)
            elif b == "image":
                if self.image is None:
                    raise ValueError("no image embeddings in this store: run `miles embed` first")
                parts.append(self.image)
            else:
                raise ValueError(f"unknown feature block {b!r}; valid: {', '.join(BLOCKS)}")
        return np.hstack(parts).astype(np.float32)

    def feature_names(self, blocks) -> list[str]:
        names: list[str] = []
        for b in blocks:
            if b == "metadata":
                names += self.scalar_names
            elif b == "text":
                names += [f"text_{i}" for i in range(self.text.shape[1])]
            elif b == "image":
                names += [f"image_{i}" for i in range(self.image.shape[1])]
        return names

    @property
    def texts(self) -> np.ndarray:
        return self.frame["text"].to_numpy(dtype=object)


def scalar_names_for(moment: str) -> list[str]:
    hours = moment_hours(moment)
    names = list(PRE_UPLOAD_SCALARS)
    for h in EARLY_HOURS:
        if h <= hours:
            names += [f"log_views_{h}h", f"log_likes_{h}h", f"like_rate_{h}h"]
    allowed = {f.name for f in available(moment)}
    bad = [n for n in names if n not in allowed]
    assert not bad, f"features {bad} are not available at {moment}"  # the registry is the contract
    return names


def assemble(videos: pd.DataFrame, snapshots: pd.DataFrame, moment: str, spec: LabelSpec) -> pd.DataFrame:
    """The scalar features and outcomes of every video with a final outcome (pure: frames in, frame out)."""
    hours = moment_hours(moment)
    if spec.age_hours is not None and spec.age_hours <= hours:
        raise ValueError(f"the label is measured at {spec.age_hours} h, not after the {moment} moment: the "
                         f"features would contain the answer; use a later LabelSpec(age_hours=...)")
    out = compute_outcomes(videos, snapshots, spec)
    out = out[out["final"]].reset_index(drop=True)
    v = videos.set_index("video_id").loc[out["video_id"]]
    pub = out["published_at"]
    cutoff = pub + pd.Timedelta(hours=hours)
    f = pd.DataFrame({"video_id": out["video_id"]})
    f["duration_s"] = v["duration_s"].to_numpy(dtype=float)
    f["publish_hour"] = pub.dt.hour.to_numpy()
    f["publish_weekday"] = pub.dt.day_of_week.to_numpy()
    titles = v["title"].fillna("").to_numpy(dtype=object)
    tags = v["hashtags"].to_numpy(dtype=object)
    f["title_chars"] = [len(t) for t in titles]
    f["title_words"] = [len(t.split()) for t in titles]
    f["hashtag_count"] = [len(t) if t is not None else 0 for t in tags]
    f["has_thumbnail"] = v["has_thumbnail"].to_numpy(dtype=float)
    f["text"] = [compose_text(t, h) for t, h in zip(titles, tags)]
    f["creator_prior"] = out["creator_prior"].to_numpy()
    f["creator_n_prior"] = out["n_prior"].to_numpy(dtype=float)
    f["log_followers"] = _followers_asof(out, cutoff, videos, snapshots)
    if hours > 0:
        f = f.join(_early(out, cutoff, snapshots, hours))
    meta = out[["creator_id", "platform", "published_at", "velocity", "outcome_known_at"]].reset_index(drop=True)
    return pd.concat([meta, f], axis=1)


def _followers_asof(out, cutoff, videos, snapshots) -> np.ndarray:
    """log10 followers of the creator at the latest observation (of any of their videos) at or before the
    cutoff; NaN where there is none."""
    snap = snapshots[["video_id", "observed_at", "creator_followers"]].dropna()
    snap = snap.merge(videos[["video_id", "creator_id"]], on="video_id").dropna(subset=["creator_id"])
    left = pd.DataFrame({"creator_id": out["creator_id"], "t": cutoff, "i": np.arange(len(out))}).dropna(
        subset=["creator_id"])
    if snap.empty or left.empty:
        return np.full(len(out), np.nan)
    right = snap.rename(columns={"observed_at": "t"})[["creator_id", "t", "creator_followers"]]
    m = pd.merge_asof(left.sort_values("t"), right.sort_values("t"), on="t", by="creator_id", direction="backward")
    res = np.full(len(out), np.nan)
    res[m["i"].to_numpy()] = np.log10(m["creator_followers"].to_numpy(dtype=float) + 1.0)
    return res


def _early(out, cutoff, snapshots, hours) -> pd.DataFrame:
    """For each early mark h <= hours: log views, log likes and like rate of the video's latest snapshot at
    or before min(publish + h, cutoff)."""
    res = pd.DataFrame(index=range(len(out)))
    snap = snapshots[["video_id", "observed_at", "views", "likes"]]
    for h in EARLY_HOURS:
        if h > hours:
            continue
        t = out["published_at"] + pd.Timedelta(hours=h)
        left = pd.DataFrame({"video_id": out["video_id"], "t": t, "i": np.arange(len(out))}).sort_values("t")
        right = snap.rename(columns={"observed_at": "t"}).sort_values("t")
        m = pd.merge_asof(left, right, on="t", by="video_id", direction="backward")
        views = np.full(len(out), np.nan)
        likes = np.full(len(out), np.nan)
        views[m["i"].to_numpy()] = m["views"].to_numpy(dtype=float)
        likes[m["i"].to_numpy()] = m["likes"].to_numpy(dtype=float)
        res[f"log_views_{h}h"] = np.log10(views + 1.0)
        res[f"log_likes_{h}h"] = np.log10(likes + 1.0)
        res[f"like_rate_{h}h"] = likes / np.maximum(views, 1.0)
    return res


def _vectors(store: Store, table: str | None, ids: pd.Series, version: int | None) -> np.ndarray | None:
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


def default_tables(store: Store) -> tuple[str | None, str | None]:
    names = store.table_names()
    text = next((n for n in names if n == "emb_text_minilm"), next((n for n in names if n.startswith("emb_text_")), None))
    image = next((n for n in names if n == "emb_image_efficientnet_lite0"),
                 next((n for n in names if n.startswith("emb_image_")), None))
    return text, image


def build_features(store: Store, moment: str = "pre_upload", spec: LabelSpec | None = None,
                   text_table: str | None = None, image_table: str | None = None) -> FeatureSet:
    """Read the store (versions pinned and recorded) and assemble the features of ``moment``."""
    import pyarrow.compute as pc

    from miles.store.embeddings import table_fingerprint

    spec = spec or LabelSpec(age_hours=168.0)
    versions = {t: store.version(t) for t in ("videos", "snapshots") if store.has(t)}
    if not versions.get("videos"):
        raise ValueError(f"store {store.path} has no videos: run `miles ingest` or `miles demo` first")
    vt = store.dataset("videos", versions["videos"]).to_table(
        columns=["video_id", "creator_id", "platform", "published_at", "title", "hashtags", "duration_s"])
    has_thumb = store.dataset("videos", versions["videos"]).to_table(columns=["video_id"],
                                                                     filter=pc.field("thumbnail").is_valid())
    videos = vt.to_pandas()
    videos["has_thumbnail"] = videos["video_id"].isin(set(has_thumb["video_id"].to_pylist())).astype(float)
    snapshots = store.read("snapshots", version=versions.get("snapshots")).to_pandas()
    frame = assemble(videos, snapshots, moment, spec)
    if frame.empty:
        raise ValueError(f"no video in {store.path} has a final outcome at {spec.age_hours} h: "
                         "ingest later observations, or use LabelSpec(age_hours=None) for the latest one")
    dt, di = text_table, image_table
    if dt is None and di is None:
        dt, di = default_tables(store)
    encoders = {}
    for t in (dt, di):
        if t is not None and store.has(t):
            versions[t] = store.version(t)
            encoders[t] = table_fingerprint(store, t)
    fs = FeatureSet(moment, spec, frame, scalar_names_for(moment), encoders=encoders, store_versions=versions)
    fs.text = _vectors(store, dt, frame["video_id"], versions.get(dt))
    fs.image = _vectors(store, di, frame["video_id"], versions.get(di))
    log.info("features for %s: %d videos, %d scalars, text %s, image %s", moment, len(frame), len(fs.scalar_names),
             None if fs.text is None else fs.text.shape[1], None if fs.image is None else fs.image.shape[1])
    return fs
