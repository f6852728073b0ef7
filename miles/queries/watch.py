"""``miles watch``: score the videos that are live now as they grow, store each score, and alert once.

    summary = watch_pass(store, now, alert_above=0.5, alert_command="notify-send-json")
    summary.scored, summary.alerts       # [{"video_id": ..., "p_viral": 0.62, "moment": "early_6h", ...}]

A pass scores every video younger than the label age whose moment (``miles.queries.live.choose_moment``)
has a score from this head's version not yet stored, through ``score_video`` at ``now``, and appends it to
the ``scores`` table (one row per video, moment and head version: a pass repeated at the same time adds
nothing). A video whose P reaches ``alert_above`` for the first time (no earlier score of it by this head
did) is an alert: one line, and with ``alert_command`` the alert as JSON on the command's standard input —
the command is split like a shell would but never run by one, and has ``alert_timeout`` seconds. A failed
command is said, never fatal. ``miles watch`` runs a ``track`` pass before each scoring pass.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow.compute as pc

from miles.errors import MilesError
from miles.heads.deployed import read_meta
from miles.heads.features import moment_hours
from miles.heads.registry import DEFAULT_HEAD
from miles.queries.cache import store_view
from miles.queries.live import choose_moment, score_video
from miles.store import Store

log = logging.getLogger(__name__)


@dataclass
class WatchSummary:
    young: int = 0
    scored: int = 0
    unchanged: int = 0
    embedded: int = 0  # new videos encoded for this pass
    waiting: int = 0  # young videos still without vectors (not scored)
    alerts: list[dict] = field(default_factory=list)
    failed_alerts: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.young} live videos younger than the label age: {self.scored} scored at a new moment, "
                f"{self.unchanged} unchanged, {len(self.alerts)} alert(s)"
                + (f"; {self.embedded} new encoded" if self.embedded else "")
                + (f"; {self.waiting} without vectors, not scored" if self.waiting else ""))


def _without_vectors(store: Store, meta: dict, young: pd.DataFrame) -> set[str]:
    """Which young videos lack a vector in a table the head reads (an image only where there is a thumbnail)."""
    missing: set[str] = set()
    for table, fp in meta.get("encoders", {}).items():
        ids = young["video_id"] if fp.get("modality") != "image" else young.loc[young["has_thumbnail"] > 0, "video_id"]
        have = set(store.read(table, columns=["video_id"])["video_id"].to_pylist()) if store.has(table) else set()
        missing |= {i for i in ids if i not in have}
    return missing


def embed_new(store: Store, meta: dict) -> int:
    """Encode the videos the head's tables do not hold yet, with the encoders and recipe that made them."""
    from miles.embed.job import EmbedConfig, embed

    enc = {e["modality"]: e for e in meta.get("encoders", {}).values()}
    if not enc:
        return 0
    text = enc.get("text", {})
    config = EmbedConfig(text_encoder=text.get("name"), image_encoder=enc.get("image", {}).get("name"),
                         modalities=tuple(m for m in ("text", "image") if m in enc), progress=False,
                         include_description="description" in str(text.get("preprocessing", {}).get("text", "")))
    return sum(r.encoded for r in embed(store, config).values())


def send_alert(command: str, alert: dict, timeout: float) -> str | None:
    """Run ``command`` (no shell) with ``alert`` as JSON on its standard input; the problem, or None."""
    try:
        args = shlex.split(command)
    except ValueError as err:
        return f"the alert command cannot be read: {err}"
    try:
        done = subprocess.run(args, input=json.dumps(alert, default=str).encode(), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"the alert command ran past {timeout:g} s and was stopped"
    except OSError as err:
        return f"the alert command could not start: {err.strerror or err}"
    if done.returncode:
        return f"the alert command exited with {done.returncode}: {done.stderr.decode(errors='replace')[-200:].strip()}"
    return None


def _stored(store: Store, head: str) -> pd.DataFrame:
    return store.read("scores", columns=["video_id", "moment", "head_version", "p_viral"],
                      filter=pc.field("head") == head).to_pandas()


def watch_pass(store: Store, now: datetime, head: str = DEFAULT_HEAD, alert_above: float | None = None,
               alert_command: str | None = None, alert_timeout: float = 10.0, embed: bool = True) -> WatchSummary:
    """One scoring pass at ``now``; with ``embed``, young videos without vectors are encoded first."""
    if alert_above is not None and not 0 < alert_above < 1:
        raise MilesError(f"the alert threshold is a probability between 0 and 1, got {alert_above:g}")
    meta = read_meta(store, head)
    if meta is None:
        raise MilesError(f"no {head} model is trained for this store yet", hint=f"run `miles train --store {store}`")
    label_age = meta["label_spec"].get("age_hours") or 168.0
    videos = store_view(store).videos
    pub = pd.to_datetime(videos["published_at"], utc=True)
    age = (pd.Timestamp(now) - pub).dt.total_seconds() / 3600
    young = videos[(age >= 0) & (age < label_age)].assign(age=age[(age >= 0) & (age < label_age)])
    out = WatchSummary(young=len(young))
    bare = _without_vectors(store, meta, young)
    if bare and embed:
        out.embedded = embed_new(store, meta)
        bare = _without_vectors(store, meta, young)
    out.waiting = len(bare)
    young = young[~young["video_id"].isin(bare)]
    stored = _stored(store, head)
    done = set(zip(stored["video_id"], stored["moment"], stored["head_version"]))
    crossed = set(stored.loc[stored["p_viral"] >= alert_above, "video_id"]) if alert_above is not None else set()
    rows = []
    for vid, hours in zip(young["video_id"], young["age"]):
        moment = choose_moment(store, head, hours)[0]
        version = str((read_meta(store, head, moment) or {}).get("trained_at"))
        if (vid, moment, version) in done:
            out.unchanged += 1
            continue
        s = score_video(store, vid, at=now, head=head, k=0)
        lo, hi = s["viral_interval"] or (None, None)
        card = s["card"]
        vlo, vhi = card.get("views_range") or (None, None)
        alert = alert_above is not None and s["viral_probability"] >= alert_above and vid not in crossed
        rows.append({"video_id": vid, "moment": moment, "head": head, "head_version": version,
                     "scored_at": pd.Timestamp(now), "age_hours": round(float(hours), 3), "p_viral": s["viral_probability"],
                     "p_low": lo, "p_high": hi, "views_expected": card.get("views_expected"), "views_low": vlo,
                     "views_high": vhi, "alert": alert})
        if alert:
            crossed.add(vid)
            out.alerts.append({"video_id": vid, "moment": moment, "age_hours": round(float(hours), 2),
                               "p_viral": s["viral_probability"], "interval": s["viral_interval"],
                               "views": card.get("views"), "headline": card["headline"]})
    if rows:
        store.insert_new("scores", rows)
    out.scored = len(rows)
    for a in out.alerts if alert_command else ():
        problem = send_alert(alert_command, a, alert_timeout)
        if problem:
            out.failed_alerts.append(f"{a['video_id']}: {problem}")
    return out


def alert_line(a: dict) -> str:
    at = "before upload" if a["moment"] == "pre_upload" else f"at {moment_hours(a['moment']):g} h"
    return f"ALERT {a['video_id']} ({a['age_hours']:g} h old, scored {at}): {a['headline']}"
