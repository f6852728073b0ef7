"""What the hardening costs: the writer lock, the atomic head swap, and ``miles sql``'s memory with a limit.

    python benchmarks/bench_hardening.py --store demo-store
    PYTHONPATH=<an older checkout> python benchmarks/bench_hardening.py --sql-only   # the old sql, same query

1. The lock alone: acquire and release, 1,000 times.
2. ``ingest`` of the demo's CSV into a fresh store, with the lock and with it replaced by a no-op,
   alternating, 3 runs each.
3. ``train --heads lightgbm``: the head written to a new folder and swapped in by renaming a symlink,
   beside the same files written straight into place.
4. ``miles sql "SELECT * FROM range(10000000)" --limit 5 --format json``: peak memory of the whole process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def peak_mib(args: list[str]) -> tuple[float, float]:
    """(wall s, peak RSS MiB) of a command, read by a fresh parent whose only child it is."""
    code = ("import json, resource, subprocess, sys, time\n"
            f"t = time.perf_counter(); subprocess.run({args!r}, capture_output=True)\n"
            "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    wall, kib = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    return wall, kib / 1024


def bench_sql(store: str) -> None:
    print("\n## miles sql, 10,000,000-row result, --limit 5 --format json")
    print(f"{'run':<6}{'wall s':>8}{'peak MiB':>10}")
    for i in range(3):
        wall, mib = peak_mib([sys.executable, "-m", "miles.cli", "sql", "SELECT * FROM range(10000000)",
                              "--store", store, "--limit", "5", "--format", "json"])
        print(f"{i + 1:<6}{wall:>8.2f}{mib:>10.0f}")


def bench_lock(store) -> None:
    from miles.store.lock import writer_lock

    t = time.perf_counter()
    for _ in range(1000):
        with writer_lock(store, "bench"):
            pass
    print(f"\n## writer lock: acquire + release {(time.perf_counter() - t) / 1000 * 1e6:.0f} µs")


def bench_ingest(csv: Path) -> None:
    from miles.sources import ingest
    from miles.store import Store

    ingest_mod = sys.modules["miles.sources.ingest"]  # the package exports a function of the same name

    real = ingest_mod.writer_lock
    times: dict[str, list[float]] = {"with the lock": [], "lock replaced by a no-op": []}
    for _ in range(3):
        for label in times:
            ingest_mod.writer_lock = real if label == "with the lock" else (
                lambda store, cmd: contextlib.nullcontext())
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                ingest([csv], Store(Path(tmp) / "s"), progress=False)
                times[label].append(time.perf_counter() - t)
    ingest_mod.writer_lock = real
    print(f"\n## ingest {csv.name} into a fresh store, 3 runs each, alternating")
    print(f"{'':<28}{'median s':>10}{'min s':>8}{'max s':>8}")
    for label, ts in times.items():
        print(f"{label:<28}{statistics.median(ts):>10.2f}{min(ts):>8.2f}{max(ts):>8.2f}")


def bench_swap(store) -> None:
    from miles.heads.dataset import build_features
    from miles.heads.deployed import save_deployed
    from miles.heads.fit import fit_head
    from miles.heads.inputs import head_inputs
    from miles.heads.persist import save_head
    from miles.store import Store

    fs = build_features(store, "pre_upload")
    y = fs.spec.fit(fs.frame).transform(fs.frame)["viral"].to_numpy()
    X, _, params = head_inputs(fs, "lightgbm", fs.blocks())
    fitted = fit_head("lightgbm", X, y, fs.frame["velocity"].to_numpy(), params)
    times: dict[str, list[float]] = {"new folder + symlink swap": [], "written in place": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(5):
            t = time.perf_counter()
            save_deployed(Store(Path(tmp) / "swap"), "lightgbm", "pre_upload", fitted, {"head": "lightgbm"})
            times["new folder + symlink swap"].append(time.perf_counter() - t)
            t = time.perf_counter()
            folder = Path(tmp) / "place" / "pre_upload"
            save_head(fitted.viral, folder / "viral", {})
            save_head(fitted.velocity, folder / "velocity", {})
            (folder / "head.json").write_text(json.dumps({"calibration": fitted.calibration.to_dict()}))
            times["written in place"].append(time.perf_counter() - t)
    print("\n## saving a trained LightGBM head (viral + velocity + head.json), 5 runs each")
    print(f"{'':<28}{'median ms':>10}")
    for label, ts in times.items():
        print(f"{label:<28}{statistics.median(ts) * 1000:>10.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--sql-only", action="store_true")
    args = ap.parse_args()
    print(f"# hardening · {platform.machine()} · {__import__('os').cpu_count()} cores · {time.strftime('%Y-%m-%d')}")
    bench_sql(args.store)
    if args.sql_only:
        return
    from miles.store import Store

    store = Store.open(args.store, must_exist=True)
    bench_lock(store)
    bench_ingest(store.path / "demo_source" / "videos.csv")
    bench_swap(store)


if __name__ == "__main__":
    main()
