"""Why a draft scores as it does, in a creator's words: the head's SHAP values grouped and named as a
creator would name them, each single feature said with its value as a creator knows it.

    reasons(model, X, scalar_names, scalars, absent={"thumbnail embedding"}, age_hours=168)
    # [{"kind": "group", "name": "creator", "effect": 1.32,
    #   "says": "your channel's track record raises the odds of breaking out (×3.73 the odds)"},
    #  {"kind": "feature", "name": "log_followers", "value": 5.53, "effect": 0.14,
    #   "says": "342k followers: ×1.15 the odds of breaking out"}, ...]

Effects are multiples of the odds against an average video of the head's training rows (what a SHAP value
measures), never log-odds; a value is said as a count, a length or an hour, never as its log.
"""

from __future__ import annotations

import numpy as np

from miles.queries.card import age_words, compact, group_words, odds, round_views

ABSENT = {"thumbnail embedding": "no thumbnail given", "title embedding": "no title vector"}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNKNOWN = {"log_followers": "followers not known", "creator_prior": "no earlier video of yours with a known outcome",
           "creator_n_prior": "no earlier video of yours", "duration_s": "length not given"}


def _plural(n: float, word: str) -> str:
    return f"{n:,.0f} {word}{'s' * (round(n) != 1)}"


def feature_words(name: str, value: float | None, age_hours: float | None = None) -> str:
    """A feature's value as a creator says it: log_followers 4.72 → "52k followers"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return UNKNOWN.get(name, f"{name.replace('_', ' ')} not known")
    by = age_words(age_hours)
    if name == "log_followers":
        return f"{compact(10 ** value - 1)} followers"
    if name == "creator_prior":
        return (f"your earlier videos' usual pace (about {round_views(10 ** value * age_hours)} views {by})"
                if age_hours else f"your earlier videos' usual pace (about {round_views(10 ** value)} views an hour)")
    if name == "creator_n_prior":
        return f"{_plural(value, 'earlier video')} of yours with a known outcome"
    if name == "duration_s":
        return f"a length of {value:.0f} s"
    if name == "publish_hour":
        return f"posting at {int(value)}:00 UTC"
    if name == "publish_weekday":
        return f"posting on a {DAYS[int(value) % 7]}"
    if name == "title_chars":
        return f"a title of {_plural(value, 'character')}"
    if name == "title_words":
        return f"a title of {_plural(value, 'word')}"
    if name == "hashtag_count":
        return _plural(value, "hashtag")
    if name == "has_thumbnail":
        return "a thumbnail" if value else "no thumbnail"
    for prefix, noun in (("log_views_", "views"), ("log_likes_", "likes")):
        if name.startswith(prefix):
            n = 10 ** value - 1
            return f"{round_views(n)} {noun if round(n) != 1 else noun[:-1]} by hour {name[len(prefix):].removesuffix('h')}"
    if name.startswith("snap_age_"):
        return f"the {name[len('snap_age_'):].removesuffix('h')} h counts taken at {value:.1f} h"
    if name.startswith("like_rate_"):
        return f"{value:.1%} of viewers liking by hour {name[len('like_rate_'):].removesuffix('h')}"
    return f"{name.replace('_', ' ')} of {value:.3g}"


def _verb(subject: str, effect: float) -> str:
    plural = " and " in subject and not subject.startswith("no ")
    return ("raise" if effect > 0 else "lower") + ("" if plural else "s")


def reasons(model, X: np.ndarray, scalar_names: list[str], scalars: dict, absent: set[str],
            age_hours: float | None = None, top: int = 5) -> list[dict]:
    """The head's SHAP values for this draft in words: groups first, then single features. A group the
    draft lacks (``absent``: no thumbnail, say) is described as missing, as the model saw it."""
    from miles.heads.explain import grouped, tree_shap

    if not hasattr(model, "reducer_"):
        return []
    values, names = tree_shap(model, X, scalar_names)
    gvals, gnames = grouped(values, names)
    out = []
    for j in np.argsort(-np.abs(gvals[0]))[:top]:
        v, g = float(gvals[0, j]), gnames[j]
        what = f"{ABSENT[g]} (scored as videos without one are)" if g in absent else group_words(g)
        out.append({"kind": "group", "name": g, "value": None, "effect": round(v, 4),
                    "says": f"{what} {_verb(what, v)} the odds of breaking out ({odds(v)})"})
    for j in np.argsort(-np.abs(values[0]))[: top * 3]:
        n = names[j]
        if n in scalar_names and len([f for f in out if f["kind"] == "feature"]) < top:
            v = float(values[0, j])
            what = feature_words(n, scalars.get(n), age_hours)
            out.append({"kind": "feature", "name": n, "value": scalars.get(n), "effect": round(v, 4),
                        "says": f"{what[:1].upper()}{what[1:]}: {odds(v)} of breaking out"})
    return out
