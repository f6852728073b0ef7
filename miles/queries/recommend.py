"""``miles recommend``: what to change in a draft and why, each change tried on the model, backed by similar
videos that broke out.

    out = recommend(store, title="my ramen", thumbnail=jpeg_bytes, creator_id="c1",
                    title_variants=["Wait for it... ramen hack"], thumbnail_variants=[("b.jpg", other_jpeg_bytes)])
    print(out["text"])

1. The draft is scored (``predict``), and so is every variant the creator gives; variants are ranked by
   calibrated P(viral), each with its change from the draft and a 95% interval of that change over the
   head's resampled refits, which score both (``miles.heads.intervals.paired``). ``variant_verdict`` says
   whether one is a clear winner; a variant below the draft is never called best.
2. Suggestions compare the draft with its viral neighbours and with the head's global SHAP patterns
   (``miles.queries.suggest``); each that can be applied is applied to the draft and scored by the same
   head (``miles.queries.tryout``), and says what the model expects of it.
3. The text is deterministic. With an OpenAI-compatible endpoint configured (``MILES_LLM_BASE_URL``,
   ``MILES_LLM_MODEL``, ``MILES_LLM_API_KEY``), an LLM may rewrite it from the same evidence only; on any
   error or timeout the deterministic text is used and the reason is said.
"""

from __future__ import annotations

import json
import logging
import os
import re

from miles.heads.intervals import paired
from miles.queries.cache import deployed_head
from miles.queries.card import point_range, points
from miles.queries.predict import score_draft
from miles.queries.suggest import from_neighbours, from_patterns, image_stats, measure, shown, tags_of
from miles.queries.tryout import tried
from miles.store import Store

log = logging.getLogger(__name__)

def _variant_rows(base: dict, base_draws, drafts: list[tuple[str, str, int, dict, dict, object]]) -> list[dict]:
    out = []
    for kind, label, given, res, measured, draws in drafts:
        delta = res["viral_probability"] - base["viral_probability"]
        interval = None if draws is None or base_draws is None else \
            [round(x, 4) for x in paired(draws, base_draws, delta)]
        out.append({"kind": kind, "variant": label, "given": given, "viral_probability": res["viral_probability"],
                    "delta": round(delta, 4), "delta_interval": interval,
                    "change": points(delta) + (f" {point_range(interval)}" if interval else ""),
                    "velocity": res["velocity"], "delta_velocity": round(res["velocity"] - base["velocity"], 4),
                    "why": [f["says"] for f in res["factors"][:2]], **({"thumbnail": measured} if measured else {})})
    return sorted(out, key=lambda r: -r["viral_probability"])


def variant_verdict(variants: list[dict]) -> str | None:
    """One sentence on the ranking: a clear winner only when the top variant beats the draft and its paired
    interval excludes no change; never "best" for a variant that scores below the draft."""
    if not variants:
        return None
    top = variants[0]
    name = f"the {top['kind']} “{top['variant']}”"
    if top["delta"] <= 0:
        return f"No variant scores above the draft; the closest is {name} ({top['change']})."
    ci = top["delta_interval"]
    if ci is None or ci[0] <= 0:
        return (f"No clear winner: the highest is {name} at {top['viral_probability']:.0%} ({top['change']} against "
                "the draft), and its range includes no change.")
    return f"Best variant: {name} at {top['viral_probability']:.0%}, {top['change']} against the draft."


def deterministic_text(result: dict) -> str:
    d = result["draft"]
    c = d.get("card") or {}
    lines = [c.get("headline") or f"{d['viral_probability']:.0%}"]
    lines += [f"{x[:1].upper()}{x[1:]}." for x in (c.get("views"), c.get("sure")) if x]
    for s in result["suggestions"]:
        cite = f" (see {', '.join(s['evidence'][:3])})" if s["evidence"] else ""
        said = s.get("tried", {}).get("says")
        lines.append(f"- {s['what']}{cite}" + (f" — {said}" if said else ""))
    if result.get("verdict"):
        lines.append(result["verdict"])
    return "\n".join(lines)


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
                  hashtags=hashtags, head=head)
    base, base_draws = score_draft(store, title=title, thumbnail=thumbnail, k=k, **common)

    def score(**change):
        return score_draft(store, **{"title": title, "thumbnail": thumbnail, **common, "k": 0, **change})

    drafts = [("title", t, i + 1, *score(title=t), {}) for i, t in enumerate(title_variants)]
    drafts += [("thumbnail", label, i + 1, *score(thumbnail=data), shown(image_stats(data)))
               for i, (label, data) in enumerate(thumbnail_variants)]
    drafts = [(kind, label, given, res, measured, draws) for kind, label, given, res, draws, measured in drafts]
    inputs = base["inputs"]
    at = base["publish_at"] if publish_at else None
    mine = measure(title, tags_of(title, hashtags), inputs["duration_s"], at, thumbnail)
    meta = deployed_head(store, head)[1]
    ideas = from_neighbours(store, mine, base["similar"], meta.get("openings", [])) \
        + from_patterns(meta.get("shap_patterns", {}), inputs, mine)
    variants = _variant_rows(base, base_draws, drafts)
    result = {"draft": {k2: base[k2] for k2 in ("viral_probability", "viral_interval", "interval_means", "velocity",
                                                "velocity_interval", "velocity_interval_means", "card")},
              "measured": shown({k2: v for k2, v in mine.items() if k2 not in ("title", "tags", "publish_at")}),
              "factors": base["factors"], "similar": base["similar"], "notes": base["notes"],
              "suggestions": tried(ideas, score, base, base_draws, thumbnail, mine),
              "variants": variants, "verdict": variant_verdict(variants)}
    text = deterministic_text(result)
    result["text"], result["text_source"] = llm_text(result, text) if use_llm else (text, "deterministic")
    return result
