"""``miles predict --video-id``: a video that is already live, scored at the latest moment its age allows.

    out = score_video(store, "demo_000123", at="2026-05-04T09:00:00Z")
    out["moment"], out["viral_probability"], out["viral_interval"], out["card"], out["progress"]

The moment is the latest of ``pre_upload``, ``early_1h``, ``early_6h`` and ``early_24h`` that the video's
age at ``at`` (default now) has reached and for which a head is trained; a later moment the age allows but
no head serves is said in the notes. The features come from the same ``feature_rows`` as training rows, as
of publish + the moment's hours (so no snapshot after that cutoff, nor after ``at``), with the stored
vectors of the video; the head, its calibration, its range and its reasons are the moment's own.
``progress`` says how the video is doing at ``at``: its views at its latest snapshot, its creator's earlier
videos at the same age, and the similar earlier videos' views at 1, 6 and 24 hours.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from miles.errors import MilesError, NotFound
from miles.heads.dataset import draft_features
from miles.heads.deployed import head_tables, read_meta
from miles.heads.features import MOMENTS, moment_hours
from miles.heads.fit import INTERVAL_TEXT, VELOCITY_TEXT
from miles.heads.inputs import head_inputs
from miles.heads.labels import LabelSpec
from miles.heads.registry import DEFAULT_HEAD, head_kind
from miles.queries.cache import deployed_head, store_view
from miles.queries.card import score_card
from miles.queries.encode import query_vectors
from miles.queries.reasons import reasons
from miles.queries.similar import similar, views_at
from miles.sources.parse import parse_time
from miles.store import Store

AGES = (1, 6, 24)  # the hours at which the neighbours' views are shown


def choose_moment(store: Store, head: str, age_hours: float) -> tuple[str, list[str], list[str]]:
    """The latest moment ``age_hours`` has reached with a trained head, notes on later ones without, and
    those later moments."""
    moment, missing = _moments(store, head, age_hours)
    notes = [f"the video is {age_hours:.0f} h old, but no model is trained for the {moment_hours(m):g}-hour moment, "
             f"so the {'pre-upload' if moment == 'pre_upload' else f'{moment_hours(moment):g}-hour'} model scored it"
             for m in missing[-1:]]
    return moment, notes, missing


def _moments(store: Store, head: str, age_hours: float) -> tuple[str, list[str]]:
    """The moment to use and the later ones the age has reached that no head serves."""
    reached = [m for m in MOMENTS if moment_hours(m) <= age_hours]
    served = [m for m in reached if read_meta(store, head, m) is not None]
    if not served:
        raise MilesError(f"no {head} model is trained for this store yet",
                         hint=f"run `miles train --store {store} --moments {' '.join(reached)}`")
    moment = served[-1]
    return moment, [m for m in reached if moment_hours(m) > moment_hours(moment)]


def progress(store: Store, view, row: pd.Series, at: datetime, spec: LabelSpec, k: int,
             tables: dict[str, str] | None = None) -> dict:
    """How the video is doing at ``at``: its own views, its creator's usual at the same age, its neighbours'."""
    snaps = view.snapshots[(view.snapshots["video_id"] == row["video_id"]) &
                           (pd.to_datetime(view.snapshots["observed_at"], utc=True) <= pd.Timestamp(at))]
    pub = pd.Timestamp(row["published_at"])
    out: dict = {"views": None, "age_hours": None, "creator_usual": None, "neighbours": []}
    if len(snaps):
        last = snaps.sort_values("observed_at").iloc[-1]
        age = (pd.Timestamp(last["observed_at"]) - pub).total_seconds() / 3600
        out.update(views=None if pd.isna(last["views"]) else int(last["views"]), age_hours=round(age, 2))
        earlier = view.videos[(view.videos["creator_id"] == row["creator_id"]) &
                              (pd.to_datetime(view.videos["published_at"], utc=True) < pub)]
        if len(earlier):
            when = pd.to_datetime(earlier["published_at"], utc=True) + pd.Timedelta(hours=age)
            seen = views_at(view, earlier["video_id"], when[when <= pd.Timestamp(at)])
            seen = seen[~np.isnan(seen)] if len(seen) else seen
            if len(seen):
                out["creator_usual"] = {"median_views": float(np.median(seen)), "videos": int(len(seen))}
    if k:
        for n in similar(store, video_id=row["video_id"], k=k, before=pub, spec=spec, tables=tables):
            start = pd.Timestamp(n["published_at"])
            views = views_at(view, [n["video_id"]] * len(AGES), [start + pd.Timedelta(hours=h) for h in AGES])
            out["neighbours"].append({"video_id": n["video_id"], "title": n["title"], "viral": n["viral"],
                                      "views_at": {f"{h}h": None if np.isnan(v) else int(v) for h, v in zip(AGES, views)}})
    return out


def score_video(store: Store, video_id: str, at: str | datetime | None = None, head: str = DEFAULT_HEAD,
                k: int = 5) -> dict:
    """What ``miles predict --video-id --json`` prints (the module's docstring says what is in it)."""
    view = store_view(store)
    rows = view.videos[view.videos["video_id"] == video_id]
    if rows.empty:
        raise NotFound(f"no video {video_id!r} in this store")
    try:
        when = parse_time(at) if at else datetime.now(timezone.utc)
    except ValueError as err:
        raise MilesError(f"the time to score at: {err}") from err
    row = rows.iloc[0]
    pub = pd.Timestamp(row["published_at"]).to_pydatetime()
    age = (when - pub).total_seconds() / 3600
    if age < 0:
        raise MilesError(f"video {video_id!r} goes out at {pub:%Y-%m-%d %H:%M} UTC, after the time asked about")
    moment, notes, missing = choose_moment(store, head, age)
    fitted, meta = deployed_head(store, head, moment)
    spec = LabelSpec(**meta["label_spec"])
    tables = head_tables(meta)
    vecs = query_vectors(store, tables, video_id=video_id) if tables else {}
    dims = {m: int(meta["encoders"][t]["dim"]) for m, t in tables.items() if m in meta["blocks"]}
    fs = draft_features(view, rows, spec, meta["scalar_names"], vecs, dims, moment)
    X = head_inputs(fs, head, meta["blocks"])[0]
    raw, p, vel = (float(a[0]) for a in fitted.predict(X))
    draws = fitted.resampled(X)
    interval = fitted.viral_interval(X, np.array([p]), draws)
    interval = None if interval is None else (float(interval[0][0]), float(interval[1][0]))
    band = fitted.calibration.velocity_interval(vel)
    scalars = {n: (None if pd.isna(fs.frame.loc[0, n]) else float(fs.frame.loc[0, n])) for n in meta["scalar_names"]}
    factors = reasons(fitted.viral, fitted.inputs(X), meta["scalar_names"], scalars, set(), spec.age_hours) \
        if head_kind(head).explains else []
    label = {"age_hours": spec.age_hours, "viral_fraction": spec.viral_fraction, "cohort": spec.cohort,
             "target": "velocity" if spec.per_hour else "views"}
    lf = scalars.get("log_followers")
    card = score_card(p, interval, vel, band, label, None if lf is None else 10 ** lf - 1, "known",
                      next((f["effect"] for f in factors if f["kind"] == "group" and f["name"] == "creator"), None))
    return {"video_id": video_id, "head": head, "moment": moment, "scored_at": when.isoformat(),
            "age_hours": round(age, 2), "viral_probability": round(p, 4),
            "viral_interval": None if interval is None else [round(x, 4) for x in interval],
            "viral_probability_raw": round(raw, 4), "interval_means": INTERVAL_TEXT if interval else None,
            "velocity": round(vel, 4), "velocity_interval": None if band is None else [round(x, 4) for x in band],
            "velocity_interval_means": VELOCITY_TEXT if band is not None else None, "label": label, "card": card,
            "factors": factors, "progress": progress(store, view, row, when, spec, k, tables),
            "notes": notes + list(fitted.notes), "inputs": scalars, "untrained_moments": missing}
