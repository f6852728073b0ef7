"""Cold start: whole-process wall time and peak memory of the commands a person types.

    python benchmarks/bench_cold.py --store demo-store --runs 3

Each command runs in a fresh process (``python -m miles.cli ...``), ``--runs`` times; wall time from
start to exit and the process's peak RSS (from ``wait4``). Prints median, min and max.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

import numpy as np


def commands(store: str) -> dict[str, list[str]]:
    thumb = os.path.join(store, "demo_source", "thumbnails", "demo_000010.jpg")
    miles = [sys.executable, "-m", "miles.cli", "-q"]
    return {
        "predict (title + thumbnail + creator)": miles + ["predict", "--store", store, "--title",
                                                          "Wait for it... ramen hack", "--creator-id", "creator_0042",
                                                          "--duration", "25", "--thumbnail", thumb],
        "recommend (two variants)": miles + ["recommend", "--store", store, "--title", "ramen at home", "--creator-id",
                                             "creator_0042", "--duration", "55", "--title-variant",
                                             "Wait for it... ramen hack", "--title-variant", "ramen in 5 minutes"],
        "similar --title": miles + ["similar", "--store", store, "--title", "ramen hack", "-k", "5"],
        "sql count": miles + ["sql", "select count(*) from videos", "--store", store],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }


def run(cmd: list[str]) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"# cold start · {platform.machine()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d')} · "
          f"{args.runs} runs each")
    print(f"{'command':<40}{'median s':>10}{'min s':>8}{'max s':>8}{'peak RSS MiB':>14}")
    for name, cmd in commands(args.store).items():
        got = [run(cmd) for _ in range(args.runs)]
        walls = [w for w, _ in got]
        print(f"{name:<40}{np.median(walls):>10.2f}{min(walls):>8.2f}{max(walls):>8.2f}"
              f"{max(r for _, r in got):>14.0f}")


if __name__ == "__main__":
    main()
