"""The plain reading of an evaluation: every sentence built from that run's records, never fixed text.

    for sentence in reading(result, "pre_upload"): ...

It reads ``result.records`` (metrics with intervals, the test prevalence, interval coverage),
``result.gains`` (paired gains: embeddings over metadata, each head over the creator's track record),
``result.splits`` (sizes and what each rule took out of training), ``result.unit`` (what the intervals
resample) and ``result.notes`` (what was skipped or changed). A gain whose interval holds zero is "no
detectable gain"; a head leads only when its paired gain over the next is clear of zero.
"""

from __future__ import annotations

from miles.heads.registry import head_kind

SPLIT_WORDS = {"time": "forward in time", "creator": "on creators never seen in training",
               "time_creator": "on new creators, later", "random": "on a random split"}


def _ci(r: dict, key: str = "value", digits: int = 3) -> str:
    return f"{r[key]:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"


def _signed(g: dict) -> str:
    return f"{g['gain']:+.3f} [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}]"


def verdict(g: dict) -> str:
    """A paired gain in words: clear of zero either way, or no detectable difference."""
    if g["ci_low"] > 0:
        return "a gain the interval supports"
    if g["ci_high"] < 0:
        return "a loss the interval supports"
    return "no detectable gain (the interval includes zero)"


def _over_prior(gain: dict) -> bool:
    """A paired gain over the creator's own track record (not over the metadata alone)."""
    return gain["versus"] != "metadata" and head_kind(gain["versus"]).reads == "prior"


def _name(head: str, features: str) -> str:
    kind = head_kind(head)
    return kind.words if kind.reads != "blocks" else f"{kind.words} on {features.replace('+', ' + ')}"


COHORT_WORDS = {"platform_week": "week", "platform_day": "day"}


def _splits_sentences(result, moment: str, splits: list[str]) -> list[str]:
    out = []
    for split in splits:
        info = result.splits.get((moment, split), {})
        if not info:
            continue
        cohort = COHORT_WORDS.get(info.get("cohort"), "week")
        gone = [f"{info['purged']:,} whose outcome came after the cut" if info.get("purged") else "",
                f"{info['embargoed']:,} whose {cohort}'s label depended on videos after the cut"
                if info.get("embargoed") else "",
                f"{info['duplicates']:,} with a copy among the test videos" if info.get("duplicates") else ""]
        gone = [g for g in gone if g]
        s = (f"{SPLIT_WORDS.get(split, split).capitalize()}: {info.get('n_train', 0):,} training and "
             f"{info.get('n_test', 0):,} test videos" + (f" (left out of training: {', '.join(gone)})" if gone else ""))
        if info.get("purge") is False:
            s += ("; training outcomes observed after the cut were kept (the purge was off), so this split ranks "
                  "videos but is not a forecast of deployment")
        out.append(s + ".")
    return out


def reading(result, moment: str) -> list[str]:
    """The sentences of the plain reading at ``moment``."""
    recs = [r for r in result.records if r["moment"] == moment]
    splits = list(dict.fromkeys(r["split"] for r in recs))
    unit = getattr(result, "unit", "creators")
    out = [*_splits_sentences(result, moment, splits),
           f"Every interval is a 95% bootstrap interval that resamples whole {unit}"
           + (" (the store has no creator ids)." if unit == "videos" else ".")]
    for split in [s for s in splits if s != "random"] + (["random"] if "random" in splits else []):
        out += _split_sentences(result, recs, moment, split)
    out += _early_sentences(result, moment)
    if "random" in splits:
        out.append("The random split mixes each creator's videos into training and test; it is shown for "
                   "comparison only, since it flatters any model that can recognise a creator.")
    out += [f"Note: {n}" for n in result.notes if n.startswith(moment)]
    return [s for s in out if s]


def _split_sentences(result, recs: list[dict], moment: str, split: str) -> list[str]:
    auroc = [r for r in recs if r["split"] == split and r["metric"] == "auroc" and r["head"]]
    if not auroc:
        return []
    best = max(auroc, key=lambda r: r["value"])
    prev = next((r for r in recs if r["split"] == split and r["metric"] == "prevalence"), None)
    s = [f"Predicting a breakout {SPLIT_WORDS.get(split, split)} at {moment}: the strongest is "
         f"{_name(best['head'], best['features'])}, AUROC {_ci(best)}"
         + (f", where {prev['value']:.0%} of test videos broke out" if prev else "") + "."]
    versus = {g["head"]: g for g in result.gains
              if (g["moment"], g["split"], g["metric"]) == (moment, split, "auroc") and _over_prior(g)}
    prior = next((r for r in auroc if head_kind(r["head"]).reads == "prior"), None)
    if prior is not None and versus:
        clear = [h for h, g in versus.items() if g["ci_low"] > 0]
        if not clear:
            s.append(f"The creator's own track record alone reaches {_ci(prior)}, and no model beats it by a "
                     "margin the interval supports: who posted the video sets most of what is predictable here.")
        else:
            top = max(clear, key=lambda h: versus[h]["gain"])
            s.append(f"The creator's own track record alone reaches {_ci(prior)}; "
                     f"{_name(top, versus[top]['features'])} beats it by {_signed(versus[top])}.")
    for g in result.gains:
        if (g["moment"], g["split"], g["versus"], g["metric"]) == (moment, split, "metadata", "auroc") and \
                g["features"].count("+") == 2:
            s.append(f"Adding title and thumbnail vectors to {head_kind(g['head']).words} changes AUROC by "
                     f"{_signed(g)} over metadata alone: {verdict(g)}.")
    s += _calibration_sentences(recs, split)
    return s


def _calibration_sentences(recs: list[dict], split: str) -> list[str]:
    out = []
    by = {(r["head"], r["features"], r["metric"]): r for r in recs if r["split"] == split}
    for (head, features, metric), r in by.items():
        if metric != "p_coverage":
            continue
        ece = by.get((head, features, "ece"))
        vel = by.get((head, features, "velocity_coverage"))
        s = f"{_name(head, features)}: probabilities off by {ece['value']:.3f} on average (ECE)" if ece else \
            _name(head, features)
        s += f"; its ranges held the breakout rate of similar test videos for {r['value']:.0%} of them (95% claimed)"
        if vel:
            s += f", its velocity ranges held {vel['value']:.0%} of test velocities"
        out.append(s + ".")
    return out


def _early_sentences(result, moment: str) -> list[str]:
    """What watching the first hours adds: the best AUROC at each later moment against this one."""
    if moment != "pre_upload":
        return []
    best = {}
    for r in result.records:
        if r["metric"] == "auroc" and r["split"] == "time" and r["head"]:
            if r["moment"] not in best or r["value"] > best[r["moment"]]["value"]:
                best[r["moment"]] = r
    base = best.get("pre_upload")
    out = []
    for m, r in best.items():
        if m != "pre_upload" and base is not None:
            out.append(f"At {m}, with the first views observed, the strongest reaches {_ci(r)} forward in time, "
                       f"against {base['value']:.3f} before upload.")
    return out
