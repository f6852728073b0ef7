"""A prediction in a creator's words: the score card that ``predict``, the API and the dashboard all show.

    card = score_card(p=0.09, interval=(0.05, 0.15), velocity=1.48, band=(0.81, 2.39),
                      label={"age_hours": 168, "viral_fraction": 0.2, "cohort": "platform_week", ...},
                      followers=52_000, creator="unknown")
    card["headline"]   # "9% — a typical video here breaks out 20% of the time: about half as likely"

Every sentence is built from the numbers of the prediction it describes: the probability against the base
rate that the label itself fixes (the top ``viral_fraction`` of each cohort breaks out, so a typical video's
chance is exactly that fraction), the views the velocity means at the label's age with the range of its
band, how sure the range lets us be, and what was assumed about the channel.
"""

from __future__ import annotations

import math

GROUP_WORDS = {"creator": "your channel's track record", "title embedding": "the title's wording",
               "thumbnail embedding": "the thumbnail's look", "format": "length and format", "timing": "timing",
               "early engagement": "the early views and likes", "title": "the title's wording",
               "thumbnail": "the thumbnail's look"}
COHORT_WORDS = {"platform_week": "its week on its platform", "platform_day": "its day on its platform",
                "platform": "its platform", "all": "all videos"}


def group_words(group: str) -> str:
    """A feature group as a creator names it: "creator" → "your channel's track record"."""
    return GROUP_WORDS.get(group, group)


def odds(effect: float) -> str:
    """A change in log-odds as a multiple of the odds: -0.4 → "×0.67 the odds"."""
    return f"×{math.exp(effect):.2f} the odds"


def channel_share(groups: list[tuple[str, float]]) -> str | None:
    """When the channel's track record moves the score more than everything else together, say so."""
    total = sum(abs(v) for _, v in groups)
    mine = sum(abs(v) for g, v in groups if g == "creator")
    if total <= 0 or mine / total < 0.5:
        return None
    return (f"your channel's track record sets most of this score ({mine / total:.0%} of what moves it); the title, "
            "thumbnail, length and timing move it the rest")


def compact(n: float) -> str:
    """52000 → "52k", 1234567 → "1.2M", 950 → "950"."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            v = n / size
            return f"{v:.1f}{suffix}".replace(".0", "") if v < 10 else f"{v:.0f}{suffix}"
    return f"{n:.0f}"


def round_views(n: float) -> str:
    """A view count to two significant figures, with thousands separators: 1987 → "2,000"."""
    if n < 10:
        return f"{n:.0f}"
    digits = len(str(int(n))) - 2
    return f"{round(n, -digits):,.0f}"


def likelihood(ratio: float) -> str:
    """A probability against the base rate, in words: "about half as likely", "about 2.3 times as likely"."""
    if ratio >= 1.15:
        return f"about {ratio:.1f} times as likely"
    if ratio > 0.87:
        return "about as likely as a typical video"
    for cut, words in ((0.3, "less than a third as likely"), (0.4, "about a third as likely"),
                       (0.6, "about half as likely"), (0.8, "about two thirds as likely")):
        if ratio <= cut:
            return words
    return "somewhat less likely"


def sureness(interval: tuple[float, float] | None, p: float) -> str:
    """How sure the range lets us be, in words, from its width against the estimate."""
    if interval is None:
        return "no range could be given for this estimate"
    lo, hi = interval
    spread = hi - lo
    if spread <= max(0.06, 0.5 * p):
        return f"fairly sure: between {lo:.0%} and {hi:.0%}"
    if spread <= max(0.15, 1.2 * p):
        return f"roughly: anywhere from {lo:.0%} to {hi:.0%}"
    return f"unsure: it could be anything from {lo:.0%} to {hi:.0%}"


def age_words(hours: float | None, by: bool = True) -> str:
    """168 → "by day 7" (or "at 7 days"), 6 → "by hour 6" ("at 6 hours")."""
    if hours is None:
        return "when last seen"
    days = hours / 24
    if hours % 24 == 0:
        return f"by day {days:g}" if by else f"at {days:g} day{'s' * (days != 1)}"
    return f"by hour {hours:g}" if by else f"at {hours:g} hour{'s' * (hours != 1)}"


def points(delta: float) -> str:
    """A change in probability in points: 0.031 → "+3 points", 0.002 → "under half a point"."""
    n = delta * 100
    if abs(n) < 0.5:
        return "under half a point"
    return f"{n:+.0f} point{'s' * (round(abs(n)) != 1)}".replace("-", "−")


def point_range(interval) -> str:
    """A paired interval in points: "(−1 to +6)"."""
    lo, hi = (f"{x * 100:+.0f}".replace("-", "−").replace("+0", "0").replace("−0", "0") for x in interval)
    return f"({lo} to {hi})"


def score_card(p: float, interval: tuple[float, float] | None, velocity: float,
               band: tuple[float, float] | None, label: dict, followers: float | None, creator: str,
               channel_effect: float | None = None) -> dict:
    """``creator``: "known" (its history was used), "unknown" (an id the store has no videos of) or
    "blank" (none given). ``channel_effect``: what the channel's group moves the log-odds by against an
    average video here (its SHAP value), said as a multiple of the odds."""
    base = float(label["viral_fraction"])
    ratio = p / base if base > 0 else float("nan")
    hours = label.get("age_hours")
    within = COHORT_WORDS.get(label.get("cohort", ""), "its group")
    by = age_words(hours)
    card = {
        "probability": round(p, 4), "base_rate": base, "odds_multiple": round(ratio, 2),
        "headline": f"{p:.0%} — a typical video here breaks out {base:.0%} of the time: {likelihood(ratio)}",
        "break_out_means": f"breaking out means landing in the top {base:.0%} of {within} by views per hour "
                           f"{age_words(hours, by=False)}",
        "sure": sureness(interval, p),
    }
    if label.get("target") == "velocity" and hours:
        views = 10 ** velocity * hours
        card["views_expected"] = round(views)
        text = f"about {round_views(views)} views {by}"
        if band is not None:
            lo, hi = (10 ** b * hours for b in band)
            card["views_range"] = [round(lo), round(hi)]
            text += f" ({round_views(lo)}–{round_views(hi)})"
        card["views"] = text
    if followers is not None:
        card["followers"] = compact(followers)
    moves = "" if channel_effect is None else \
        f" (against an average video here, that moves the odds {odds(channel_effect).removesuffix(' the odds')})"
    card["channel"] = {
        "known": (f"your channel's track record ({compact(followers)} followers) is part of this estimate"
                  if followers is not None else "your channel's track record is part of this estimate") + moves,
        "unknown": f"this channel has no videos here, so it is scored as a channel with no track record{moves}: "
                   "the rest rests on the title, thumbnail, length and timing",
        "blank": f"no channel was given, so it is scored as a channel with no track record{moves}: give your "
                 "channel for an estimate that uses its history",
    }[creator]
    if channel_effect is not None:
        card["channel_odds"] = round(math.exp(channel_effect), 2)
    return card
