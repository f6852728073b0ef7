"""The verdicts of one evaluation in sentences: which head ranks best on each split and whether clearly, where the served head and the creator's track record stand, and whether titles and thumbnails help.

    for split, sentences in verdicts(records, gains, "pre_upload", served="lightgbm"): ...
    verdict(gain)        # "a gain the interval supports" / "no detectable gain (the interval includes zero)"

``records``: rows {head, moment, split, features, metric, value, ci_low, ci_high}, as ``miles eval`` keeps them
(``EvalResult.records``) and as the store gives them back. ``gains``: paired gains {head, moment, split,
features, versus, metric, gain, ci_low, ci_high}: how much better ``head`` scored than ``versus`` (another head,
or the same head on metadata alone) on the same test videos, positive = better whichever way the metric runs,
its interval from the same resamples. A difference is called real only when that paired interval leaves out
zero (two overlapping intervals of separate scores say nothing about it); where no paired interval was
recorded the sentence says so. The report's reading and the dashboard's Models page both speak from here.
"""

from __future__ import annotations

from miles.eval.metrics import HIGHER_IS_BETTER
from miles.heads.registry import head_kind

SPLIT_WORDS = {"time": "videos published after the training period", "creator": "creators never seen in training",
               "time_creator": "new creators' videos published after the training period",
               "random": "a random split (for comparison only)"}
SPLIT_ORDER = ("time", "creator", "time_creator", "random")
METRIC_WORDS = {"auroc": "AUROC", "brier": "Brier score", "velocity_mae": "mean velocity error in log10 views per hour"}
BLOCK_WORDS = {"metadata": "metadata", "text": "title", "image": "thumbnail"}
PRIOR = "the creator's own track record"


def direction(metric: str) -> str:
    return "higher is better" if HIGHER_IS_BETTER[metric] else "lower is better"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def head_words(head: str, features: str = "") -> str:
    """A head as a reader names it: "LightGBM on metadata, title and thumbnail", "the fusion MLP"."""
    kind = head_kind(head)
    if kind.reads != "blocks" or not features:
        return kind.words
    return f"{kind.words} on {_and([BLOCK_WORDS.get(b, b) for b in features.split('+')])}"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def scored(r: dict) -> str:
    """A score and its 95% interval: "0.899 (0.870–0.920)"."""
    return f"{r['value']:.3f} ({r['ci_low']:.3f}–{r['ci_high']:.3f})"


def _diff(g: dict) -> str:
    return f"{g['gain']:+.3f} ({g['ci_low']:+.3f} to {g['ci_high']:+.3f})"


def verdict(g: dict) -> str:
    """A paired gain in words: clear of zero either way, or no detectable difference."""
    if g["ci_low"] > 0:
        return "a gain the interval supports"
    if g["ci_high"] < 0:
        return "a loss the interval supports"
    return "no detectable gain (the interval includes zero)"


def paired(gains: list[dict], moment: str, split: str, a: str, b: str, metric: str = "auroc") -> dict | None:
    """How much better head ``a`` scored than head ``b`` (a recorded b-over-a turned round), or None."""
    for g in gains:
        if (g["moment"], g["split"], g["metric"]) != (moment, split, metric):
            continue
        if (g["head"], g["versus"]) == (a, b):
            return g
        if (g["head"], g["versus"]) == (b, a):
            return {**_turned(g), "head": a, "versus": b}
    return None


def deployable(records: list[dict], moment: str, split: str, metric: str = "auroc") -> dict[str, dict]:
    """Each head's widest variant on the split (what training deploys): head → its ``metric`` row."""
    out: dict[str, dict] = {}
    for r in records:
        if (r["moment"], r["split"], r["metric"]) == (moment, split, metric) and r["head"] and r["value"] == r["value"] \
                and "@" not in r["features"]:  # "…@multilingual": another text encoder, compared, not deployed
            if r["head"] not in out or r["features"].count("+") > out[r["head"]]["features"].count("+"):
                out[r["head"]] = r
    return out


def _turned(g: dict) -> dict:
    return {**g, "gain": -g["gain"], "ci_low": -g["ci_high"], "ci_high": -g["ci_low"]}


def _apart(g: dict | None, a: str, b: str, missing: list) -> str:
    """"; " and whether ``a`` or ``b`` is clearly ahead by the paired difference ``g`` (a over b), told as the
    lead of the one ahead; nothing (and a mark in ``missing``) where no paired difference was recorded."""
    if g is None:
        missing.append((a, b))
        return ""
    if g["ci_high"] < 0 or (g["gain"] < 0 and g["ci_low"] <= 0):
        g, a, b = _turned(g), b, a
    if g["ci_low"] > 0:
        return f"; {a} is clearly ahead of {b}: its lead on the same videos, {_diff(g)}, leaves out zero"
    return f"; no detectable gap between {a} and {b}: the lead of {a} on the same videos, {_diff(g)}, includes zero"


def standing(records: list[dict], gains: list[dict], moment: str, split: str, served: str | None = None,
             missing: list | None = None) -> list[str]:
    """The best head on the split and whether clearly, the served head's score, and the creator's track record
    against the served head (or the best other head where none is served). Pairs whose paired difference
    was not recorded go into ``missing``."""
    missing = [] if missing is None else missing
    heads = deployable(records, moment, split)
    if not heads:
        return []
    ranked = sorted(heads.values(), key=lambda r: -r["value"])
    best, runner = ranked[0]["head"], (ranked[1]["head"] if len(ranked) > 1 else None)
    words = {h: head_words(h) for h in heads}
    served_words = f"{words[served]} (the served head)" if served in heads else ""
    s = f"On {SPLIT_WORDS.get(split, split)}, {served_words if best == served else words[best]} ranks best by " \
        f"AUROC ({direction('auroc')}): {scored(heads[best])}"
    said = set()
    if runner is not None:
        s += f"; next comes {words[runner]} at {heads[runner]['value']:.3f}" + _apart(
            paired(gains, moment, split, best, runner), words[best], words[runner], missing)
        said.add(frozenset((best, runner)))
    out = [s + "."]
    if served in heads and served != best:
        s = f"The served head, {words[served]}, scores {scored(heads[served])}"
        if frozenset((best, served)) not in said:
            s += _apart(paired(gains, moment, split, best, served), words[best], "the served head", missing)
            said.add(frozenset((best, served)))
        out.append(s + ".")
    prior = next((h for h in heads if head_kind(h).reads == "prior"), None)
    others = [r["head"] for r in ranked if r["head"] != prior]
    versus = served if served in heads and served != prior else (others[0] if others else None)
    if prior is not None and versus is not None and frozenset((prior, versus)) not in said:
        shown = versus == best or versus == served  # its score is said above
        label = served_words if versus == served else words[versus]
        out.append(f"{_cap(PRIOR)} alone scores {scored(heads[prior])}"
                   + ("" if shown else f", {label} {scored(heads[versus])}")
                   + _apart(paired(gains, moment, split, prior, versus), "the track record",
                            "the served head" if versus == served else words[versus], missing) + ".")
    over = [paired(gains, moment, split, h, prior) for h in others] if prior is not None else []
    if over and all(g is not None and g["ci_low"] <= 0 for g in over):
        out.append(f"No model beats {PRIOR} by a margin the paired interval supports: who posted the video sets "
                   "most of what is predictable here.")
    return out


def content_gains(records: list[dict], gains: list[dict], moment: str, split: str,
                  missing: list | None = None) -> list[str]:
    """For each head that reads the title and thumbnail: what adding them to the metadata changed, per metric
    (changes without a recorded paired interval go into ``missing``)."""
    missing = [] if missing is None else missing
    out = []
    value = {(r["head"], r["features"], r["metric"]): r["value"] for r in records
             if (r["moment"], r["split"]) == (moment, split)}
    for head, r in deployable(records, moment, split).items():
        added = [BLOCK_WORDS.get(b, b) for b in r["features"].split("+") if b != "metadata"]
        mine = {g["metric"]: g for g in gains if (g["moment"], g["split"], g["head"], g["features"], g["versus"])
                == (moment, split, head, r["features"], "metadata")}
        if head_kind(head).reads != "blocks" or not added or ((head, "metadata", "auroc") not in value and not mine):
            continue
        parts = []
        for metric in ("auroc", "brier", "velocity_mae"):
            base, full, g = value.get((head, "metadata", metric)), value.get((head, r["features"], metric)), mine.get(metric)
            if g is None and (base is None or full is None):
                continue
            p = f"{METRIC_WORDS[metric]} ({direction(metric)})" + (f" {base:.3f} → {full:.3f}" if base is not None
                                                                      and full is not None else "")
            if g is None:
                missing.append((head, metric))
            elif g["ci_low"] > 0 or g["ci_high"] < 0:
                p += f", {verdict(g)} (improvement {_diff(g)})"
            else:
                p += f", no detectable gain (the improvement's interval, {g['ci_low']:+.3f} to {g['ci_high']:+.3f}, " \
                     "includes zero)"
            parts.append(p)
        if parts:
            out.append(f"Adding the {_and(added)} to {head_words(head)}'s metadata: " + "; ".join(parts) + ".")
    return out


def encoder_choice(gains: list[dict], moment: str, split: str) -> list[str]:
    """Which text encoder to deploy, per head that was fitted with more than one (``miles.eval.encoders``):
    each one's AUROC gain over metadata, and the paired lead of one over the other on the same videos."""
    out = []
    for g in gains:
        if (g["moment"], g["split"], g["metric"]) != (moment, split, "auroc") or "@" not in g["versus"]:
            continue
        features, alt = g["features"].split("@", 1)
        main = g["versus"].split("@", 1)[1]
        over = {f: next((h for h in gains if (h["moment"], h["split"], h["metric"], h["head"], h["features"],
                                              h["versus"]) == (moment, split, "auroc", g["head"], f, "metadata")), None)
                for f in (g["features"], features)}
        said = [f"{name} {_diff(o)}" for name, o in ((alt, over[g["features"]]), (main, over[features])) if o]
        s = (f"Title encoders for {head_words(g['head'], features)}: AUROC gain over metadata alone, "
             + (", ".join(said) if said else "not recorded"))
        if g["ci_low"] > 0:
            s += f"; {alt} leads {main} on the same videos by {_diff(g)}, clear of zero: deploy {alt}"
        elif g["ci_high"] < 0:
            s += f"; {main} leads {alt} on the same videos by {_diff(_turned(g))}, clear of zero: keep {main}"
        else:
            s += (f"; no clear winner: {alt}'s lead over {main} on the same videos, {_diff(g)}, includes zero, so "
                  "the AUROC does not choose between them")
        out.append(s + ".")
    return out


def split_sentences(records: list[dict], gains: list[dict], moment: str, split: str,
                    served: str | None = None) -> list[str]:
    """Everything said about one split; where paired differences were not recorded, a last sentence says that
    whether those differences are real is unknown."""
    missing: list = []
    out = standing(records, gains, moment, split, served, missing) + content_gains(records, gains, moment, split,
                                                                                    missing)
    out += encoder_choice(gains, moment, split)
    if missing:
        out.append("Whether the differences above are real is unknown: this evaluation recorded no paired interval "
                   "for them (evaluating the store again records them).")
    return out


def verdicts(records: list[dict], gains: list[dict], moment: str, served: str | None = None) -> list[tuple[str, list[str]]]:
    """(split, its sentences) for every split at ``moment``, the held-out ones first and the random one last."""
    present = list(dict.fromkeys(r["split"] for r in records if r["moment"] == moment))
    ordered = [s for s in SPLIT_ORDER if s in present] + [s for s in present if s not in SPLIT_ORDER]
    return [(s, out) for s in ordered if (out := split_sentences(records, gains, moment, s, served))]
