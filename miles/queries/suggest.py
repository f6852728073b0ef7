"""What a draft could change, from the videos like it that broke out and from the head's own patterns.

    draft = measure(title, tags, duration, publish_at, thumbnail_bytes)
    ideas = from_neighbours(store, draft, neighbours, learned_openings) + from_patterns(shap_patterns, inputs, draft)
    # [{"what": "length: the 5 similar videos that broke out run 11–33 s (median 18); yours is 35 s",
    #   "evidence": ["demo_000083", ...], "change": {"duration": 18.0}}, ...]

A range drawn from neighbours is said as what those videos did, never as a rule. Where a suggestion can be
applied mechanically (an opening, hashtags, length, publish hour, the thumbnail's brightness or contrast, a
closer crop on a face) it carries the ``change`` that ``miles.queries.tryout`` applies and scores with the
same head; the rest (a title's length, showing a face) are said as evidence only. A publish hour is
suggested only when the creator gave one.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from datetime import datetime

import numpy as np

from miles.heads.openings import opening_of
from miles.queries.card import odds
from miles.queries.faces import detect_faces
from miles.sources.parse import hashtags_in
from miles.store import Store

log = logging.getLogger(__name__)


def image_stats(data: bytes | None) -> dict:
    """Brightness and contrast (0–1 greyscale mean and std), the number of frontal faces and the largest
    face's box relative to the image (x, y, w, h in 0–1)."""
    if not data:
        return {}
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data))
        img.draft("L", (640, 640))
        img = img.convert("L")
    except Exception as err:  # a stored thumbnail was verified at ingest; a draft's may be anything
        log.warning("thumbnail not measured (%s)", err)
        return {}
    boxes = detect_faces(img)
    out = {"faces": len(boxes)}
    if boxes:
        x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
        out["face_box"] = [x / img.width, y / img.height, w / img.width, h / img.height]
    img.thumbnail((128, 128))
    a = np.asarray(img, dtype=np.float32) / 255.0
    return {"brightness": float(a.mean()), "contrast": float(a.std()), **out}


def measure(title: str, tags: list[str], duration, publish_at: datetime | None, thumb: bytes | None) -> dict:
    """The draft's measurable points, as the suggestions compare them."""
    return {"title": title, "title_chars": len(title or ""), "opening": opening_of(title), "tags": list(tags),
            "hashtags": len(tags), "duration_s": duration, "publish_at": publish_at,
            "publish_hour": None if publish_at is None else publish_at.hour, **image_stats(thumb)}


def shown(stats: dict) -> dict:
    """What a page shows of ``image_stats``: rounded, without the face's box."""
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items() if k != "face_box"}


def num(v: float) -> str:
    """A measured value for a sentence: 5000 → "5,000", 17.72 → "17.7", 0.3021 → "0.302"."""
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.3g}"


def _lead(title: str, opening: str) -> str:
    """The start of ``title`` through ``opening``'s words and on to the first punctuation (at most 6 words)."""
    words = opening.split()
    m = re.match(r"\W*" + r"\W+".join(re.escape(w) for w in words), title, re.IGNORECASE)
    if not m:
        return opening.capitalize()
    rest = re.match(r"[^.!?:…|—-]{0,40}?(?:[.!?:…|—-]+|$)", title[m.end():])
    lead = title[: m.end() + (rest.end() if rest else 0)].strip()
    return " ".join(lead.split()[:6])


def _opening(draft: dict, titles: dict, ids: list[str], learned: list[dict]) -> list[dict]:
    """An opening learned from the training rows that similar viral videos use and the draft does not."""
    if any(o["opening"] in set(draft["opening"]) for o in learned):
        return []
    for o in learned:
        users = [i for i in ids if o["opening"] in opening_of(titles.get(i))]
        if users:
            lead = _lead(titles[users[0]], o["opening"])
            return [{"what": f"open with “{lead}”: of {o['n']} training videos that open with “{o['opening']}”, "
                             f"{o['rate']:.0%} broke out ({o['ci_low']:.0%}–{o['ci_high']:.0%}) against "
                             f"{o['base_rate']:.0%} of all; {len(users)} of the {len(ids)} similar videos that broke "
                             f"out open so (e.g. “{titles[users[0]]}”)", "evidence": users,
                     "change": {"title": f"{lead} {draft['title']}"}}]
    return []


def _tags_to(draft: dict, n: int, pool: list[str]) -> list[str] | None:
    """The draft's hashtags made ``n`` long: trimmed, or grown from ``pool`` (the neighbours' tags, most used
    first); None when there is nothing to grow from."""
    mine = draft["tags"]
    if n <= len(mine):
        return mine[:n]
    extra = [t for t in pool if t.lower() not in {m.lower() for m in mine}][: n - len(mine)]
    return mine + extra if extra else None


def from_neighbours(store: Store, draft: dict, neighbours: list[dict], learned: list[dict]) -> list[dict]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not neighbours:
        return [{"what": "no similar earlier video that broke out is in the store, so there is no evidence to "
                         "compare with", "evidence": []}]
    ids = [n["video_id"] for n in neighbours]
    rows = store.read("videos", filter=pc.field("video_id").isin(pa.array(ids, pa.string()))).to_pylist()
    titles = {r["video_id"]: r["title"] for r in rows}
    feats = {r["video_id"]: measure(r["title"], list(r["hashtags"] or []), r["duration_s"], r["published_at"],
                                    r["thumbnail"]) for r in rows}
    pool = [t for t, _ in Counter(t for r in rows for t in (r["hashtags"] or [])).most_common()]
    out = _opening(draft, titles, ids, learned)

    def numeric(name: str, unit: str, label: str, change=None):
        vals = [feats[i][name] for i in ids if i in feats and feats[i].get(name) is not None]
        mine = draft.get(name)
        if len(vals) < 2 or mine is None:
            return
        lo, med, hi = np.percentile(vals, [25, 50, 75])
        if lo <= mine <= hi:
            return
        s = {"what": f"{label}: the {len(vals)} similar videos that broke out have {num(lo)}–{num(hi)}{unit} "
                     f"(median {num(med)}); yours has {num(mine)}{unit}", "evidence": [i for i in ids if i in feats]}
        change = change(med) if change else None
        out.append({**s, "change": change} if change else s)

    with_thumb = [i for i in ids if "faces" in feats.get(i, {})]
    faced = [i for i in with_thumb if feats[i]["faces"] > 0]
    if draft.get("faces") == 0 and len(with_thumb) >= 2 and len(faced) * 2 >= len(with_thumb):
        out.append({"what": f"a face: {len(faced)} of the {len(with_thumb)} similar videos that broke out show one "
                            "in the thumbnail; yours shows none", "evidence": faced})
    if draft.get("face_box") and draft["face_box"][2] < 0.35:
        out.append({"what": "a closer crop on the face in your thumbnail (it fills "
                            f"{draft['face_box'][2]:.0%} of the width)", "evidence": [], "change": {"thumbnail": "face"}})
    numeric("title_chars", " characters", "title length")
    numeric("hashtags", " hashtags", "hashtags",
            lambda med: (lambda t: {"hashtags": t} if t is not None else None)(_tags_to(draft, round(med), pool)))
    numeric("duration_s", " s", "length", lambda med: {"duration": round(float(med), 1)})
    numeric("brightness", "", "thumbnail brightness (0 dark to 1 light)",
            lambda med: {"thumbnail": ("brightness", float(med))})
    numeric("contrast", "", "thumbnail contrast", lambda med: {"thumbnail": ("contrast", float(med))})
    hours = sorted({feats[i]["publish_hour"] for i in ids if i in feats})
    if draft.get("publish_hour") is not None and hours and min(abs(draft["publish_hour"] - h) for h in hours) > 3:
        common = Counter(feats[i]["publish_hour"] for i in ids if i in feats).most_common(1)[0][0]
        out.append({"what": f"publish hour: the similar videos that broke out went out at "
                            f"{', '.join(f'{h}:00' for h in hours)} UTC; yours is {draft['publish_hour']}:00",
                    "evidence": ids, "change": {"publish_at": draft["publish_at"].replace(hour=common, minute=0)}})
    return out


PATTERN_WORDS = {"title_chars": ("title length", " characters"), "title_words": ("title length", " words"),
                 "hashtag_count": ("hashtags", " hashtags"), "duration_s": ("length", " s"),
                 "publish_hour": ("publish hour (UTC)", ":00")}


def _pattern_change(name: str, mid: float, draft: dict) -> dict | None:
    """The draft moved into the middle of the pattern's best bin, where that can be done mechanically."""
    if name == "duration_s":
        return {"duration": round(mid, 1)}
    if name == "hashtag_count":
        tags = _tags_to(draft, round(mid), [])
        return {"hashtags": tags} if tags is not None else None
    if name == "publish_hour":
        return {"publish_at": draft["publish_at"].replace(hour=int(mid), minute=0)}
    return None


def from_patterns(patterns: dict, inputs: dict, draft: dict, min_gap: float = 0.1, min_rows: int = 20) -> list[dict]:
    """Where the head's global SHAP pattern puts the draft's value in a bin worth at least ``min_gap``
    log-odds less than the best bin (each bin holding at least ``min_rows`` training videos)."""
    out = []
    for name, bins in patterns.items():
        value = inputs.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)) or name not in PATTERN_WORDS:
            continue
        if name == "publish_hour" and draft.get("publish_at") is None:
            continue  # the hour was not given: "now" is not the creator's plan
        bins = [b for b in bins if b["n"] >= min_rows]
        if len(bins) < 2:
            continue
        mine = next((b for b in bins if b["lo"] <= value <= b["hi"]), None)
        best = max(bins, key=lambda b: b["effect"])
        if mine is None or best is mine or best["effect"] - mine["effect"] < min_gap:
            continue
        label, unit = PATTERN_WORDS[name]
        change = _pattern_change(name, (best["lo"] + best["hi"]) / 2, draft)
        s = {"what": f"{label}: across {sum(b['n'] for b in bins)} training videos the model rates "
                     f"{num(best['lo'])}–{num(best['hi'])}{unit} highest; at {num(mine['lo'])}–{num(mine['hi'])}{unit}, "
                     f"where yours is ({num(value)}{unit}), it gives {odds(mine['effect'] - best['effect'])} of that "
                     "(a pattern the model learned, not a proven cause)", "evidence": [], "pattern": name}
        out.append({**s, "change": change} if change else s)
    return out


def tags_of(title: str, hashtags) -> list[str]:
    from miles.sources.parse import parse_hashtags

    return parse_hashtags(hashtags) if hashtags is not None else hashtags_in(title)
