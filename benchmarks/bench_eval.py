"""Where ``miles eval`` spends its time: the whole stage, and each part of it, from a profile.

    python benchmarks/bench_eval.py --store demo-store                       # the demo's eval stage
    PYTHONPATH=<an older checkout> python benchmarks/bench_eval.py ...      # the same for older code

Runs ``evaluate`` (the demo's configuration: every head, ablations, pre_upload and early_6h, every split
the code has, its default number of bootstrap resamples) under cProfile, then prints the wall time and
how much of it went to each head's fits, the bootstrap intervals and building features. It uses only
names both the old and the new evaluation code have, so two checkouts can be compared side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import time

PARTS = {  # part -> (file suffix, function) whose cumulative time is that part's
    "MLP fits": ("heads/mlp.py", "fit"),
    "LightGBM fits": ("heads/models.py", "fit"),
    "bootstrap intervals": ("eval/metrics.py", "with_interval"),
    "paired gains": ("eval/metrics.py", "paired_gain"),
    "features": ("heads/dataset.py", "build_features"),
}


def cumulative(stats: pstats.Stats, suffix: str, func: str) -> float:
    total = 0.0
    for (file, _line, name), (_, _, _, ct, _) in stats.stats.items():
        if file.endswith(suffix) and name == func:
            total += ct
    return total


def lightgbm_fit(stats: pstats.Stats) -> float:
    """LightGBMHead.fit alone (models.py has three ``fit``s: pick the one that calls lightgbm)."""
    total = 0.0
    for (file, _line, name), (_, _, _, ct, _callers) in stats.stats.items():
        if name == "fit" and file.endswith(("lightgbm/sklearn.py",)):
            total += ct
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--moments", nargs="+", default=["pre_upload", "early_6h"])
    args = ap.parse_args()

    from miles.eval.runner import EvalConfig, evaluate
    from miles.store import Store

    store = Store.open(args.store)
    cfg = EvalConfig(moments=tuple(args.moments), progress=False)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    result = evaluate(store, cfg)
    prof.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(prof)
    rows = [("whole eval stage", wall)]
    rows += [(part, cumulative(stats, *where)) for part, where in PARTS.items() if part != "LightGBM fits"]
    rows.insert(2, ("LightGBM fits (lightgbm's own)", lightgbm_fit(stats)))
    fits = len(result.fitted)
    print(f"miles eval on {args.store}: {len(result.features[args.moments[0]])} videos, moments "
          f"{' '.join(args.moments)}, splits {' '.join(cfg.splits)}, {fits} head variants, "
          f"{cfg.n_boot} creator resamples; {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} cores (profiled: about 10% slower than unprofiled)")
    print(f"{'part':<34}{'seconds':>10}{'share':>8}")
    for name, sec in rows:
        print(f"{name:<34}{sec:>10.1f}{sec / wall:>8.0%}")
    mlp, lgb = rows[1][1], rows[2][1]
    print(f"MLP fit time / LightGBM fit time: {mlp / lgb:.2f}" if lgb else "no LightGBM fits")


if __name__ == "__main__":
    main()
