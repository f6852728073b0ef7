"""The plain reading of an evaluation: every sentence built from that run's records, never fixed text.

    for sentence in reading(result, "pre_upload", served="lightgbm"): ...

It reads ``result.records`` (metrics with intervals, the test prevalence, interval coverage),
``result.gains`` (paired gains: embeddings over metadata, each head over the creator's track record),
``result.splits`` (sizes and what each rule took out of training), ``result.unit`` (what the intervals
resample) and ``result.notes`` (what was skipped or changed). Which head ranks best on each split and
whether clearly, where the served head and the creator's track record stand, and what titles and thumbnails
add are ``miles.eval.verdicts``' sentences, the same the dashboard's Models page shows.
"""

from __future__ import annotations

from miles.eval.verdicts import SPLIT_WORDS, head_words, scored, split_sentences

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


def reading(result, moment: str, served: str | None = None) -> list[str]:
    """The sentences of the plain reading at ``moment``; ``served``: the head the dashboard serves, if any."""
    recs = [r for r in result.records if r["moment"] == moment]
    splits = list(dict.fromkeys(r["split"] for r in recs))
    unit = getattr(result, "unit", "creators")
    out = [*_splits_sentences(result, moment, splits),
           f"Every interval is a 95% bootstrap interval that resamples whole {unit}"
           + (" (the store has no creator ids)." if unit == "videos" else ".")]
    for split in [s for s in splits if s != "random"] + (["random"] if "random" in splits else []):
        out += _split_sentences(result, recs, moment, split, served)
    out += _early_sentences(result, moment)
    if "random" in splits:
        out.append("The random split mixes each creator's videos into training and test; it is shown for "
                   "comparison only, since it flatters any model that can recognise a creator.")
    out += [f"Note: {n}" for n in result.notes if n.startswith(moment)]
    return [s for s in out if s]


def _split_sentences(result, recs: list[dict], moment: str, split: str, served: str | None) -> list[str]:
    prev = next((r for r in recs if r["split"] == split and r["metric"] == "prevalence"), None)
    s = split_sentences(recs, result.gains, moment, split, served)
    if s and prev:
        s.insert(0, f"On {SPLIT_WORDS.get(split, split)}, {prev['value']:.0%} of the test videos broke out.")
    return s + _calibration_sentences(recs, split)


def _calibration_sentences(recs: list[dict], split: str) -> list[str]:
    out = []
    by = {(r["head"], r["features"], r["metric"]): r for r in recs if r["split"] == split}
    for (head, features, metric), r in by.items():
        if metric != "p_coverage":
            continue
        ece = by.get((head, features, "ece"))
        vel = by.get((head, features, "velocity_coverage"))
        name = head_words(head, features)
        name = name[:1].upper() + name[1:]
        s = f"{name}: probabilities off by {ece['value']:.3f} on average (ECE)" if ece else \
            name
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
            out.append(f"At {m}, with the first views observed, the strongest reaches AUROC {scored(r)} on "
                       f"{SPLIT_WORDS['time']}, against {base['value']:.3f} before upload.")
    return out
