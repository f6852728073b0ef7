"""``miles recommend``: what to change in a draft and why, backed by similar videos that broke out.

    out = recommend(store, title="my ramen", thumbnail=jpeg_bytes, creator_id="c1",
                    title_variants=["Wait for it... ramen hack"], thumbnail_variants=[("b.jpg", other_jpeg_bytes)])
    print(out["text"])

1. The draft is scored (``predict``), and so is every variant the creator gives; variants are ranked by
   calibrated P(viral), each with its change from the draft and a 95% interval of that change over the
   head's resampled refits, which score both (``miles.heads.intervals.paired``).
2. Suggestions compare the draft with its viral neighbours (title length, opening, hashtags, duration,
   publish hour, thumbnail brightness, contrast and faces) and with the head's signed SHAP groups, and cite
   the neighbours. Openings are learned from the training rows (``miles.heads.openings``), not listed. Faces are counted by ``miles.queries.faces`` (OpenCV's packaged frontal-face cascade).
   The LightGBM head's global SHAP patterns (mean SHAP per quantile bin of title length, hashtags,
   duration and publish hour over its training rows, saved by ``miles train``) add a suggestion where the
   draft sits in a bin the model scores at least 0.1 log-odds below the best one.
3. The text is deterministic. With an OpenAI-compatible endpoint configured (``MILES_LLM_BASE_URL``,
   ``MILES_LLM_MODEL``, ``MILES_LLM_API_KEY``), an LLM may rewrite it from the same evidence only; on any
   error or timeout the deterministic text is used and the reason is said.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re

import numpy as np

from miles.heads.intervals import paired
from miles.heads.openings import opening_of
from miles.queries.cache import deployed_head
from miles.queries.card import group_words, odds
from miles.queries.faces import count_faces
from miles.queries.predict import score_draft
from miles.store import Store

log = logging.getLogger(__name__)

def _image_stats(data: bytes | None) -> dict:
    """Brightness and contrast (0–1 greyscale mean and std) and the number of frontal faces."""
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
    faces = count_faces(img)
    img.thumbnail((128, 128))
    a = np.asarray(img, dtype=np.float32) / 255.0
    return {"brightness": float(a.mean()), "contrast": float(a.std()), "faces": faces}


def _rounded(stats: dict) -> dict:
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items()}


def _features(title: str, n_hashtags: int, duration, hour, thumb: bytes | None) -> dict:
    f = {"title_chars": len(title or ""), "opening": opening_of(title), "hashtags": n_hashtags,
         "duration_s": duration, "publish_hour": hour}
    f.update(_image_stats(thumb))
    return f


def _variant_rows(base: dict, base_draws, drafts: list[tuple[str, str, dict, dict, object]]) -> list[dict]:
    out = []
    for kind, label, res, measured, draws in drafts:
        delta = res["viral_probability"] - base["viral_probability"]
        interval = None if draws is None or base_draws is None else \
            [round(x, 4) for x in paired(draws, base_draws, delta)]
        out.append({"kind": kind, "variant": label, "viral_probability": res["viral_probability"],
                    "delta": round(res["viral_probability"] - base["viral_probability"], 4),
                    "delta_interval": interval, "velocity": res["velocity"],
                    "delta_velocity": round(res["velocity"] - base["velocity"], 4),
                    "why": [f["says"] for f in res["factors"][:2]], **({"thumbnail": measured} if measured else {})})
    return sorted(out, key=lambda r: -r["viral_probability"])


PATTERN_WORDS = {"title_chars": ("title length", " characters"), "title_words": ("title length", " words"),
                 "hashtag_count": ("hashtags", ""), "duration_s": ("duration", " s"),
                 "publish_hour": ("publish hour (UTC)", ":00")}


def _pattern_suggestions(patterns: dict, inputs: dict, min_gap: float = 0.1, min_rows: int = 20) -> list[dict]:
    """Where the head's global SHAP pattern puts the draft's value in a bin worth at least ``min_gap``
    log-odds less than the best bin (each bin holding at least ``min_rows`` training videos)."""
    out = []
    for name, bins in patterns.items():
        value = inputs.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)) or name not in PATTERN_WORDS:
            continue
        bins = [b for b in bins if b["n"] >= min_rows]
        if len(bins) < 2:
            continue
        mine = next((b for b in bins if b["lo"] <= value <= b["hi"]), None)
        best = max(bins, key=lambda b: b["effect"])
        if mine is None or best is mine or best["effect"] - mine["effect"] < min_gap:
            continue
        label, unit = PATTERN_WORDS[name]
        out.append({"what": f"{label}: across {sum(b['n'] for b in bins)} training videos the model scores "
                            f"{best['lo']:.3g}–{best['hi']:.3g}{unit} highest; at {mine['lo']:.3g}–{mine['hi']:.3g}"
                            f"{unit}, where yours is ({value:.3g}{unit}), it gives {odds(mine['effect'] - best['effect'])}"
                            " of that (the model's pattern, not a cause)",
                    "evidence": [], "pattern": name})
    return out


def _opening(draft: dict, rows: list[dict], ids: list[str], learned: list[dict]) -> list[dict]:
    """Suggest an opening learned from the training rows that similar viral videos use and the draft does not."""
    mine = set(draft["opening"])
    if any(o["opening"] in mine for o in learned):
        return []
    titles = {r["video_id"]: r["title"] for r in rows}
    for o in learned:
        users = [i for i in ids if o["opening"] in opening_of(titles.get(i))]
        if users:
            return [{"what": f"open with “{o['opening']}…”: of {o['n']} training videos that do, "
                             f"{o['rate']:.0%} broke out ({o['ci_low']:.0%}–{o['ci_high']:.0%}) against "
                             f"{o['base_rate']:.0%} of all; {len(users)} of the {len(ids)} similar viral videos "
                             f"open so (e.g. “{titles[users[0]]}”)", "evidence": users}]
    return []


def _suggestions(store: Store, draft: dict, neighbours: list[dict], factors: list[dict],
                 openings: list[dict]) -> list[dict]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not neighbours:
        return [{"what": "no similar earlier video that broke out is in the store, so there is no evidence to "
                         "compare with", "evidence": []}]
    ids = [n["video_id"] for n in neighbours]
    rows = store.read("videos", filter=pc.field("video_id").isin(pa.array(ids, pa.string()))).to_pylist()
    feats = {r["video_id"]: _features(r["title"], len(r["hashtags"] or []), r["duration_s"], r["published_at"].hour,
                                      r["thumbnail"]) for r in rows}
    out = []

    def numeric(name: str, unit: str, label: str):
        vals = [feats[i][name] for i in ids if i in feats and feats[i].get(name) is not None]
        mine = draft.get(name)
        if len(vals) < 2 or mine is None:
            return
        lo, med, hi = np.percentile(vals, [25, 50, 75])
        if lo <= mine <= hi:
            return
        direction = "more" if mine < lo else "less"
        out.append({"what": f"{label}: yours is {mine:.3g}{unit}; the {len(vals)} similar viral videos have "
                            f"{lo:.3g}–{hi:.3g}{unit} (median {med:.3g}) — consider {direction}",
                    "evidence": [i for i in ids if i in feats]})

    out += _opening(draft, rows, ids, openings)
    with_thumb = [i for i in ids if "faces" in feats.get(i, {})]
    faced = [i for i in with_thumb if feats[i]["faces"] > 0]
    if draft.get("faces") == 0 and len(with_thumb) >= 2 and len(faced) * 2 >= len(with_thumb):
        out.append({"what": f"show a face: {len(faced)} of {len(with_thumb)} similar viral videos have a face "
                            "in the thumbnail and yours has none", "evidence": faced})
    elif draft.get("faces", 0) > 0 and len(with_thumb) >= 3 and not faced:
        out.append({"what": f"none of the {len(with_thumb)} similar viral videos shows a face in its thumbnail; "
                            "yours does, so the face is not what they have in common", "evidence": with_thumb})
    numeric("title_chars", " characters", "title length")
    numeric("hashtags", "", "hashtags")
    numeric("duration_s", " s", "duration")
    numeric("brightness", "", "thumbnail brightness (0–1)")
    numeric("contrast", "", "thumbnail contrast")
    hours = [feats[i]["publish_hour"] for i in ids if i in feats]
    if draft.get("publish_hour") is not None and hours and min(abs(draft["publish_hour"] - h) for h in hours) > 3:
        out.append({"what": f"publish hour: yours is {draft['publish_hour']}:00 UTC; the similar viral videos went "
                            f"out at {', '.join(f'{h}:00' for h in sorted(set(hours)))}", "evidence": ids})
    for f in factors:
        if f["kind"] == "group" and f["effect"] <= -0.05 and f["name"] in ("title embedding", "thumbnail embedding",
                                                                       "format", "timing"):
            out.append({"what": f"the model holds {group_words(f['name'])} against this draft ({odds(f['effect'])})",
                        "evidence": []})
    return out or [{"what": "the draft already looks like its viral neighbours on every measured point",
                    "evidence": ids}]


def deterministic_text(result: dict) -> str:
    d = result["draft"]
    ci = d.get("viral_interval")
    lines = [f"P(viral) {d['viral_probability']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
             + f", velocity {d['velocity']:.2f} log10 views/h."]
    for s in result["suggestions"]:
        cite = f" (see {', '.join(s['evidence'][:3])})" if s["evidence"] else ""
        lines.append(f"- {s['what']}{cite}")
    if result["variants"]:
        best = result["variants"][0]
        ci = best["delta_interval"]
        what = (f"{best['kind']} “{best['variant']}”, P(viral) {best['viral_probability']:.2f} ({best['delta']:+.2f} vs "
                "the draft" + (f", 95% [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "") + ")"
                + (f"; {_describe(best['thumbnail'])}" if best.get("thumbnail") else ""))
        if best["delta"] <= 0:
            lines.append(f"No variant scores above the draft; the closest is the {what}.")
        elif ci and ci[0] <= 0 <= ci[1]:
            lines.append(f"No clear winner: the highest is the {what}, and its interval includes no change.")
        else:
            lines.append(f"Best variant: {what}.")
    return "\n".join(lines)


def _describe(stats: dict) -> str:
    faces = stats.get("faces", 0)
    return (f"{faces} face{'s' if faces != 1 else ''}, brightness {stats['brightness']:.2f}, "
            f"contrast {stats['contrast']:.2f}")


def llm_text(evidence: dict, fallback: str, timeout: float = 20.0, max_bytes: int = 1 << 20) -> tuple[str, str]:
    """(text, source): the LLM's rewrite of the evidence, or ``fallback`` and why. The call has ``timeout``
    seconds in all and its reply at most ``max_bytes``; control characters in the reply are dropped."""
    from miles.net import post_json

    base = os.environ.get("MILES_LLM_BASE_URL")
    if not base:
        return fallback, "deterministic"
    body = {"model": os.environ.get("MILES_LLM_MODEL", "gpt-4o-mini"), "temperature": 0,
            "messages": [{"role": "system", "content": "You advise a short-video creator. Use only the evidence "
                          "given (numbers, video ids); invent nothing. At most 8 short bullet points."},
                         {"role": "user", "content": json.dumps(evidence, ensure_ascii=False, default=str)}]}
    try:
        reply = post_json(base.rstrip("/") + "/chat/completions", body,
                          {"Authorization": f"Bearer {os.environ.get('MILES_LLM_API_KEY', '')}"}, timeout, max_bytes)
        text = reply["choices"][0]["message"]["content"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty content")  # internal: a bug, not input
        return CONTROL.sub("", text).strip(), "llm"
    except Exception as err:  # any failure: the deterministic text, and say so
        log.warning("LLM writer failed (%s: %s); using the deterministic text", type(err).__name__, err)
        return fallback + f"\n(LLM unavailable: {type(err).__name__}; deterministic text shown)", "deterministic"


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps newlines and tabs


def recommend(store: Store, title: str, thumbnail: bytes | None = None, duration: float | None = None,
              publish_at=None, followers: int | None = None, creator_id: str | None = None, hashtags=None,
              title_variants=(), thumbnail_variants: list[tuple[str, bytes]] | tuple = (), head: str = "lightgbm",
              k: int = 5, use_llm: bool = False) -> dict:
    """``thumbnail_variants``: (label, image bytes) pairs; the label (a file name, say) only names the row."""
    common = dict(duration=duration, publish_at=publish_at, followers=followers, creator_id=creator_id,
                  hashtags=hashtags, head=head, k=k)
    base, base_draws = score_draft(store, title=title, thumbnail=thumbnail, **common)
    drafts = [("title", t, *score_draft(store, title=t, thumbnail=thumbnail, **common), {}) for t in title_variants]
    drafts += [("thumbnail", label, *score_draft(store, title=title, thumbnail=data, **common),
                _rounded(_image_stats(data))) for label, data in thumbnail_variants]
    drafts = [(kind, label, res, measured, draws) for kind, label, res, draws, measured in drafts]
    inputs = base["inputs"]
    mine = _features(title, int(inputs["hashtag_count"]), inputs["duration_s"], int(inputs["publish_hour"]), thumbnail)
    meta = deployed_head(store, head)[1]
    result = {"draft": {k2: base[k2] for k2 in ("viral_probability", "viral_interval", "interval_means", "velocity",
                                                "velocity_interval", "velocity_interval_means", "card")},
              "measured": _rounded(mine), "factors": base["factors"], "similar": base["similar"],
              "notes": base["notes"],
              "suggestions": _suggestions(store, mine, base["similar"], base["factors"], meta.get("openings", []))
              + _pattern_suggestions(meta.get("shap_patterns", {}), inputs),
              "variants": _variant_rows(base, base_draws, drafts)}
    text = deterministic_text(result)
    result["text"], result["text_source"] = llm_text(result, text) if use_llm else (text, "deterministic")
    return result
