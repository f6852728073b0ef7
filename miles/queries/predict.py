"""``miles predict``: how likely is a draft to break out, why, and which earlier videos like it did.

    out = predict(store, title="Wait for it... ramen hack", thumbnail=jpeg_bytes, creator_id="creator_0042")
    out["viral_probability"], out["viral_interval"], out["velocity"], out["factors"], out["similar"]

A draft is a row that is not in the store yet: its features come from ``miles.heads.dataset.draft_features``,
the same ``feature_rows`` that builds every training row (creator followers and history from the store
as of the planned publish time), its title and thumbnail are encoded by the encoders that made the
head's tables, and it is scored by the trained head. The probability is calibrated by the head's own
calibration (fitted at ``miles train`` on its latest training rows, saved in the head's folder) and comes
with the range of the same probability over the head's resampled refits (``miles.heads.fit``); the
velocity range is the conformal band of those latest rows. ``predict`` never reads evaluation runs.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from miles.errors import MilesError
from miles.heads.dataset import Draft, draft_features
from miles.heads.deployed import head_tables
from miles.heads.fit import INTERVAL_TEXT, VELOCITY_TEXT
from miles.heads.inputs import head_inputs
from miles.heads.labels import LabelSpec
from miles.heads.registry import DEFAULT_HEAD, head_kind
from miles.queries.cache import deployed_head, store_view
from miles.queries.card import channel_share, score_card
from miles.queries.encode import query_vectors
from miles.queries.reasons import reasons
from miles.queries.similar import similar
from miles.sources.parse import hashtags_in, parse_hashtags, parse_time
from miles.store import Store

MAX_DURATION_S = 24 * 3600.0  # a draft's length: a short is minutes long; past a day is a typo (or 1e308)
MAX_FOLLOWERS = 10**10  # more than there are people

log = logging.getLogger(__name__)
MOMENT = "pre_upload"


def _creator_note(store: Store, creator_id: str | None) -> str | None:
    if not creator_id:
        return "no creator given: the channel's history and followers are unknown"
    videos = store_view(store).videos
    if not (videos["creator_id"] == creator_id).any():
        return f"creator “{creator_id[:80]}” has no videos in this store, so no history or followers (check the id)"
    return None


TITLE_LIMIT = 100  # what YouTube shows and accepts; TikTok and Reels captions run longer, their titles do not


def _title_note(title: str) -> str | None:
    if len(title) <= TITLE_LIMIT:
        return None
    return (f"the title is {len(title):,} characters; YouTube takes at most {TITLE_LIMIT}, so it was scored as "
            "written but would be cut")


def _language_notes(store: Store, meta: dict, title: str) -> list[str]:
    """When the head reads title vectors from an encoder not trained on the draft's language, or on most of
    the store's titles' languages: a sentence each."""
    from miles.embed.languages import draft_language_note, store_language_note, title_languages
    from miles.store.language import detect_language

    table = head_tables(meta).get("text")
    if table is None or "text" not in meta.get("blocks", ()):
        return []
    encoder = meta["encoders"][table]["name"]
    view = store_view(store)
    langs = view.memo("languages", lambda: title_languages(view.videos))
    return [n for n in (draft_language_note(detect_language(title), encoder), store_language_note(langs, encoder))
            if n]


def _draft_vectors(store: Store, meta: dict, draft: Draft, thumbnail: bytes | None, timings: dict):
    tables = head_tables(meta)
    if not tables:
        return {}, {}
    vecs = query_vectors(store, tables, title=draft.title, thumbnail=thumbnail, hashtags=draft.hashtags,
                         description=draft.description, timings=timings)
    dims = {m: int(meta["encoders"][t]["dim"]) for m, t in tables.items() if m in meta["blocks"]}
    return vecs, dims


def predict(store: Store, title: str, thumbnail: bytes | None = None, duration: float | None = None,
            publish_at: str | datetime | None = None, followers: int | None = None, creator_id: str | None = None,
            hashtags: str | list[str] | None = None, description: str | None = None, head: str = DEFAULT_HEAD,
            k: int = 5) -> dict:
    """What ``miles predict --json`` prints (the module's docstring says what is in it)."""
    return score_draft(store, title, thumbnail, duration, publish_at, followers, creator_id, hashtags, description,
                       head, k)[0]


def score_draft(store: Store, title: str, thumbnail: bytes | None = None, duration: float | None = None,
                publish_at: str | datetime | None = None, followers: int | None = None,
                creator_id: str | None = None, hashtags: str | list[str] | None = None,
                description: str | None = None, head: str = DEFAULT_HEAD, k: int = 5) -> tuple[dict, np.ndarray | None]:
    """``predict``'s answer and the draft's P under each of the head's resampled refits, (B,): what a paired
    comparison of two drafts (``recommend``'s variants) reads."""
    if not isinstance(title, str) or not title.strip():
        raise MilesError("the title is empty: give the draft's title (emoji-only is fine)")
    if duration is not None and not (np.isfinite(duration) and 0 < duration <= MAX_DURATION_S):
        raise MilesError(f"the duration must be a positive number of seconds up to {MAX_DURATION_S:,.0f} (a day), "
                         f"got {duration:g}")
    if followers is not None and not 0 <= followers <= MAX_FOLLOWERS:
        raise MilesError(f"followers must be a count from 0 to {MAX_FOLLOWERS:,}, got {followers}")
    if k < 0:
        raise MilesError(f"the number of similar videos must be 0 or more, got {k}")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    fitted, meta = deployed_head(store, head, MOMENT)
    spec = LabelSpec(**meta["label_spec"])
    tags = parse_hashtags(hashtags) if hashtags is not None else hashtags_in(title)
    try:
        at = parse_time(publish_at) if publish_at else datetime.now(timezone.utc)
    except ValueError as err:
        raise MilesError(f"the publish time: {err}") from err
    draft = Draft(title=title, publish_at=at, hashtags=tags, description=description, duration_s=duration,
                  creator_id=creator_id or None, has_thumbnail=thumbnail is not None, followers=followers)
    timings["load"] = time.perf_counter() - t
    vecs, dims = _draft_vectors(store, meta, draft, thumbnail, timings)
    t = time.perf_counter()
    fs = draft_features(store_view(store), draft, spec, meta["scalar_names"], vecs, dims)
    X = head_inputs(fs, head, meta["blocks"])[0]
    timings["features"] = time.perf_counter() - t
    t = time.perf_counter()
    raw, p, vel = (float(a[0]) for a in fitted.predict(X))
    draws = fitted.resampled(X)
    interval = fitted.viral_interval(X, np.array([p]), draws)
    interval = None if interval is None else (float(interval[0][0]), float(interval[1][0]))
    timings["heads"] = time.perf_counter() - t
    scalars = {n: (None if pd.isna(fs.frame.loc[0, n]) else float(fs.frame.loc[0, n])) for n in meta["scalar_names"]}
    t = time.perf_counter()
    absent = {"thumbnail embedding"} if thumbnail is None else set()
    factors = reasons(fitted.viral, fitted.inputs(X), meta["scalar_names"], scalars, absent, spec.age_hours) \
        if head_kind(head).explains else []
    timings["shap"] = time.perf_counter() - t
    t = time.perf_counter()
    evidence = similar(store, k=k, viral_only=True, before=at, vectors=vecs, spec=spec,
                       tables=head_tables(meta)) if k and vecs else []
    timings["search"] = time.perf_counter() - t
    notes = [n for n in [_creator_note(store, creator_id), _title_note(title)] if n]
    notes += _language_notes(store, meta, title)
    if not publish_at:
        notes.append(f"no publish time given: timing is scored as if it went out now ({at:%H:%M} UTC on "
                     f"{at:%a %-d %b}); give the planned time for timing advice")
    if not evidence and k:
        notes.append(f"no video that broke out was published and settled before {at.isoformat()}, so there is "
                     "no earlier evidence to show")
    band = fitted.calibration.velocity_interval(vel)
    notes += fitted.notes
    label = {"age_hours": spec.age_hours, "viral_fraction": spec.viral_fraction, "cohort": spec.cohort,
             "target": "velocity" if spec.per_hour else "views"}
    known = bool(creator_id) and (store_view(store).videos["creator_id"] == creator_id).any()
    log_followers = scalars.get("log_followers")
    card = score_card(p, interval, vel, band, label, None if log_followers is None else 10 ** log_followers - 1,
                      "known" if known else "unknown" if creator_id else "blank",
                      next((f["effect"] for f in factors if f["kind"] == "group" and f["name"] == "creator"), None))
    mostly = channel_share([(f["name"], f["effect"]) for f in factors if f["kind"] == "group"])
    if mostly:
        card["mostly_channel"] = mostly
    return ({
        "head": head, "moment": MOMENT, "publish_at": at,
        "viral_probability": round(p, 4), "viral_interval": None if interval is None else [round(x, 4) for x in interval],
        "viral_probability_raw": round(raw, 4), "calibrated_on": fitted.calibration.n,
        "interval_means": INTERVAL_TEXT if interval is not None else None,
        "velocity": round(vel, 4), "velocity_interval": None if band is None else [round(x, 4) for x in band],
        "velocity_interval_means": VELOCITY_TEXT if band is not None else None,
        "label": label, "card": card,
        "factors": factors, "similar": evidence, "notes": notes, "inputs": scalars,
        "timings_ms": {k2: round(v * 1000, 1) for k2, v in timings.items()},
    }, None if draws is None else draws[:, 0])


def to_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=1, default=str)
