"""Where ``miles eval`` spends its time: the whole stage, and each part of it, from a profile.

    python benchmarks/bench_eval.py --store demo-store                       # the demo's eval stage
    PYTHONPATH=<an older checkout> python benchmarks/bench_eval.py ...      # the same for older code

Runs ``evaluate`` (the demo's configuration: every head, ablations, pre_upload and early_6h, every split
the code has, its default number of bootstrap resamples) twice: once plain, for the wall time, and once
under cProfile, for the share of each head's fits, the bootstrap intervals and building features (the
profiler slows Python-heavy parts more than others, so shares are approximate). It uses only names both
the old and the new evaluation code have, so two checkouts can be compared side by side.
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
    t = time.perf_counter()
    result = evaluate(store, cfg)
    wall = time.perf_counter() - t
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    evaluate(store, cfg)
    prof.disable()
    profiled = time.perf_counter() - t
    stats = pstats.Stats(prof)
    rows = [(part, cumulative(stats, *where)) for part, where in PARTS.items() if part != "LightGBM fits"]
    rows.insert(1, ("LightGBM fits (lightgbm's own)", lightgbm_fit(stats)))
    print(f"miles eval on {args.store}: {len(result.features[args.moments[0]])} videos, moments "
          f"{' '.join(args.moments)}, splits {' '.join(cfg.splits)}, {len(result.fitted)} head variants, "
          f"{cfg.n_boot} creator resamples; {platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"whole evaluation, plain run: {wall:.1f} s (under the profiler: {profiled:.1f} s)")
    print(f"{'part (profiled run)':<34}{'seconds':>10}{'share':>8}")
    for name, sec in rows:
        print(f"{name:<34}{sec:>10.1f}{sec / profiled:>8.0%}")
    mlp, lgb = rows[0][1], rows[1][1]
    print(f"MLP fit time / LightGBM fit time: {mlp / lgb:.2f}" if lgb else "no LightGBM fits")


if __name__ == "__main__":
    main()
