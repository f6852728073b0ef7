"""Openings that go with breaking out, learned from the training rows (not a list of templates).

    learned = learn_openings(titles, viral)      # [{"opening": "wait for", "n": 212, "rate": 0.41, ...}]
    opening_of("Wait for it... ramen hack")      # ("wait", "wait for")

An opening is a title's first word or first two words (lower case, letters and digits of any script;
emoji and punctuation ignored). One is kept when at least ``min_rows`` training videos start with it and
the lower end of its viral rate's Wilson interval (z = 3, since many openings are tried) lies above the
base rate. ``miles train`` saves them with the head; ``recommend`` suggests one only where a similar viral
video uses it.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from miles.heads.stats import wilson_interval

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def opening_of(title: str | None, words: int = 2) -> tuple[str, ...]:
    """The title's first 1..``words`` words, each prefix once: ("wait", "wait for")."""
    tokens = _WORD.findall((title or "").lower())[:words]
    return tuple(" ".join(tokens[:i]) for i in range(1, len(tokens) + 1))


def learn_openings(titles, viral, min_rows: int = 30, z: float = 3.0, top: int = 10) -> list[dict]:
    y = np.asarray(viral, dtype=float)
    if not len(y):
        return []
    base = float(y.mean())
    rows: dict[str, list[int]] = defaultdict(list)
    for i, title in enumerate(titles):
        for o in opening_of(title):
            rows[o].append(i)
    out = []
    for o, idx in rows.items():
        if len(idx) < min_rows:
            continue
        k = float(y[idx].sum())
        lo, hi = wilson_interval(k, len(idx), z=z)
        if lo > base:
            out.append({"opening": o, "n": len(idx), "rate": round(k / len(idx), 4), "ci_low": round(lo, 4),
                        "ci_high": round(hi, 4), "base_rate": round(base, 4)})
    # A two-word opening is kept only when it says more than its first word: its rate's lower bound must
    # clear the word's own rate.
    rate = {r["opening"]: r["rate"] for r in out}
    kept = [r for r in out if " " not in r["opening"] or r["ci_low"] > rate.get(r["opening"].split()[0], -1.0)]
    return sorted(kept, key=lambda r: -r["ci_low"])[:top]
