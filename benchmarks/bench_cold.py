"""Cold start: whole-process wall time and peak memory of the commands a person types.

    python benchmarks/bench_cold.py --store demo-store --runs 3

Each command runs in a fresh process (``python -m miles.cli ...``), ``--runs`` times on each path: the
saved ONNX graphs (the default) and the full encoders built in torch (``MILES_GRAPHS=0``), taking turns.
Wall time from start to exit and the process's peak RSS (from ``wait4``); prints median, min and max.
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


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
    paths = {"graphs": dict(os.environ), "full": {**os.environ, "MILES_GRAPHS": "0"}}
    print(f"# cold start · {platform.machine()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d')} · "
          f"{args.runs} runs each, the two paths taking turns; median (min-max) s, highest peak RSS MiB")
    print(f"{'command':<40}{'graphs s':>18}{'full s':>20}{'ratio':>7}{'graphs MiB':>12}{'full MiB':>10}")
    for name, cmd in commands(args.store).items():
        run(cmd, paths["graphs"])  # makes the graphs if this machine has none yet (not counted)
        got: dict[str, list] = {k: [] for k in paths}
        for _ in range(args.runs):
            for path, env in paths.items():
                got[path].append(run(cmd, env))
        med = {k: float(np.median([w for w, _ in v])) for k, v in got.items()}
        cell = {k: f"{med[k]:.2f} ({min(w for w, _ in v):.2f}-{max(w for w, _ in v):.2f})" for k, v in got.items()}
        print(f"{name:<40}{cell['graphs']:>18}{cell['full']:>20}{med['full'] / med['graphs']:>6.1f}x"
              f"{max(r for _, r in got['graphs']):>12.0f}{max(r for _, r in got['full']):>10.0f}")


if __name__ == "__main__":
    main()
