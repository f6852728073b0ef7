"""Calibration and ranges on the time split: does P mean what it says in the weeks after training?

    python benchmarks/bench_calibration.py --store demo=demo-store \
        --store "smp=smp-store:age_hours=None,per_hour=False:nopurge" \
        --store "bilibili=bili-store:age_hours=None,cohort='platform_day':nopurge"

Each ``--store NAME=PATH[:LABEL SPEC][:nopurge]`` is evaluated on the time split at ``pre_upload`` (and
``--moments``) with every head's full feature set, and one table row per head gives: test rows and
prevalence (the share that broke out), AUROC and AUPRC, ECE and Brier of the head's own probabilities
(raw) and of the calibrated ones that ``predict`` shows, and how often the ranges held what they claim
(the probability range against the breakout rate of the 50 test videos scored most alike, the velocity
range against each video's velocity), each with its 95% creator-bootstrap interval.

It reads only ``evaluate``'s records and fitted heads, so the same script measures an older checkout of
Miles (``PYTHONPATH=<checkout> python benchmarks/bench_calibration.py ...``), where the columns that
version does not compute stay empty.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np


def parse_store(text: str) -> tuple[str, str, dict, bool]:
    name, _, rest = text.partition("=")
    parts = rest.split(":")
    spec = eval(f"dict({parts[1]})") if len(parts) > 1 and parts[1] else {}  # a trusted command line
    return name, parts[0], spec, "nopurge" not in parts[2:]


def rows_of(name: str, path: str, spec_kw: dict, purge: bool, moments: tuple[str, ...]) -> list[dict]:
    from miles.eval.metrics import metric
    from miles.eval.runner import EvalConfig, evaluate
    from miles.heads.labels import LabelSpec
    from miles.store import Store

    cfg = EvalConfig(moments=moments, splits=("time",), spec=LabelSpec(**spec_kw), purge=purge, ablations=False,
                     progress=False)
    t = time.perf_counter()
    result = evaluate(Store.open(path), cfg)
    seconds = time.perf_counter() - t
    recs = {(r["moment"], r["head"], r["features"], r["metric"]): r for r in result.records}
    out = []
    for f in result.fitted:
        y = result.labels[(f.moment, f.split)][0][f.test_idx]
        raw = np.clip(f.p_raw, 0, 1) if f.p_raw is not None else None
        row = {"source": name, "moment": f.moment, "head": f.head, "n": len(y), "prevalence": float(y.mean()),
               "seconds": seconds}
        for m in ("auroc", "auprc", "ece", "brier", "p_coverage", "velocity_coverage"):
            row[m] = recs.get((f.moment, f.head, f.features, m))
        row["ece_raw"] = None if raw is None else metric("ece", y, raw)
        row["brier_raw"] = None if raw is None else metric("brier", y, raw)
        out.append(row)
    return out


def cell(r) -> str:
    if r is None:
        return ""
    if isinstance(r, float):
        return f"{r:.3f}"
    return f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", action="append", required=True, help="NAME=PATH[:LABEL SPEC][:nopurge]")
    ap.add_argument("--moments", nargs="+", default=["pre_upload"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows = []
    for text in args.store:
        rows += rows_of(*parse_store(text), tuple(args.moments))
    print("| source | moment | head | test rows | prevalence | AUROC | AUPRC | ECE raw | ECE | Brier raw | Brier "
          "| P range coverage | velocity range coverage |")
    print("|---|---|---|---:|---:|---|---|---:|---|---:|---|---|---|")
    for r in rows:
        print(f"| {r['source']} | {r['moment']} | {r['head']} | {r['n']:,} | {r['prevalence']:.3f} | "
              f"{cell(r['auroc'])} | {cell(r['auprc'])} | {cell(r['ece_raw'])} | {cell(r['ece'])} | "
              f"{cell(r['brier_raw'])} | {cell(r['brier'])} | {cell(r['p_coverage'])} | "
              f"{cell(r['velocity_coverage'])} |")
    for name in dict.fromkeys(r["source"] for r in rows):
        print(f"\n{name}: evaluated in {next(r['seconds'] for r in rows if r['source'] == name):.0f} s")


if __name__ == "__main__":
    main()
