"""Suggestions tried on the model: each change a suggestion proposes is made to the draft, the changed draft
is scored by the same head, and the suggestion says what the model expects it to do.

    ideas = tried(ideas, score, base, base_draws, thumbnail)
    ideas[0]["tried"]   # {"viral_probability": 0.12, "delta": 0.03, "delta_interval": [-0.01, 0.07],
                        #  "verdict": "unclear", "says": "tried on your draft: +3 points (−1 to +7); ..."}

``score(**changes)`` returns ``(result, draws)`` as ``miles.queries.predict.score_draft`` does; the interval
is the change's paired interval over the head's resampled refits (``miles.heads.intervals.paired``), the
same as a variant's. A suggestion the model scores as no better says so ("the model doesn't expect this to
help") and is listed after those it expects to help. Thumbnail edits are made here: brightness or contrast
moved to a target (PIL's enhancers), or a 9:16 crop centred on the largest face.
"""

from __future__ import annotations

import io

from miles.heads.intervals import paired
from miles.queries.card import point_range, points

HELPS, UNCLEAR, NO, UNTRIED = "helps", "unclear", "no", "untried"
ORDER = {HELPS: 0, UNCLEAR: 1, UNTRIED: 2, NO: 3}
MIN_GAIN = 0.005  # half a point of probability: less is no change a creator would see


def edit_thumbnail(data: bytes, how, stats: dict) -> bytes | None:
    """The thumbnail with ``how`` applied: ("brightness", target), ("contrast", target) or "face"."""
    from PIL import Image, ImageEnhance

    img = Image.open(io.BytesIO(data)).convert("RGB")
    if how == "face":
        box = stats.get("face_box")
        if not box:
            return None
        cx, cy = (box[0] + box[2] / 2) * img.width, (box[1] + box[3] / 2) * img.height
        h = min(img.height, box[3] * img.height * 3.0)
        w = min(img.width, h * img.width / img.height)
        left, top = min(max(0, cx - w / 2), img.width - w), min(max(0, cy - h / 2), img.height - h)
        img = img.crop((round(left), round(top), round(left + w), round(top + h))).resize(img.size)
    else:
        what, target = how
        now = stats.get(what)
        if not now:
            return None
        enhancer = ImageEnhance.Brightness if what == "brightness" else ImageEnhance.Contrast
        img = enhancer(img).enhance(max(0.2, min(5.0, target / now)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    return out.getvalue()


def verdict(delta: float, interval) -> str:
    if delta < MIN_GAIN:
        return NO
    return HELPS if interval is not None and interval[0] > 0 else UNCLEAR


def says(delta: float, interval, what: str) -> str:
    rng = f" {point_range(interval)}" if interval is not None else ""
    return {HELPS: f"tried on your draft: {points(delta)}{rng}",
            UNCLEAR: f"tried on your draft: {points(delta)}{rng}, but the range includes no change, so the model "
                     "isn't sure it helps",
            NO: f"tried on your draft, the model doesn't expect this to help ({points(delta)}{rng})"}[what]


def tried(ideas: list[dict], score, base: dict, base_draws, thumbnail: bytes | None, stats: dict) -> list[dict]:
    """``ideas`` with each ``change`` applied, scored and replaced by what the model said (``tried``)."""
    out = []
    for idea in ideas:
        idea = dict(idea)
        change = dict(idea.pop("change", None) or {})
        if "thumbnail" in change:
            change["thumbnail"] = edit_thumbnail(thumbnail, change["thumbnail"], stats) if thumbnail else None
            if change["thumbnail"] is None:
                change = {}
        if not change:
            out.append({**idea, "tried": {"verdict": UNTRIED}})
            continue
        res, draws = score(**change)
        delta = res["viral_probability"] - base["viral_probability"]
        interval = None if draws is None or base_draws is None else [round(x, 4) for x in paired(draws, base_draws, delta)]
        v = verdict(delta, interval)
        out.append({**idea, "tried": {"viral_probability": res["viral_probability"], "delta": round(delta, 4),
                                      "delta_interval": interval, "verdict": v, "says": says(delta, interval, v)}})
    return sorted(out, key=lambda s: (ORDER[s["tried"]["verdict"]], -s["tried"].get("delta", 0)))
