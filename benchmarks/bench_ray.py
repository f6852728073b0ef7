"""Local vs Ray embedding engine on the same store: wall time, ratio, overhead per chunk, peak memory.

    python benchmarks/bench_ray.py --videos 20000 --chunks 1 4
    python benchmarks/bench_ray.py --videos 20000 --chunks 1 4 --gpus-per-actor 1   # a GPU machine

Synthetic demo videos are generated and ingested once (untimed), then copied, one pristine copy per run.
Each run is a fresh ``miles embed --modality text`` process (titles only: the part every engine shares;
thumbnails add the same decode work to both); ``--chunks K`` runs the Ray engine with ``--chunk`` set so
that the plan splits into K chunks. Peak memory is of the whole process tree (the CLI, and under Ray its
GCS, raylet and workers), sampled from /proc every 0.2 s. The overhead per chunk is
(wall with K chunks - wall with 1 chunk) / (K - 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def tree_rss_mib(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


class Stopped(Exception):
    """The command was stopped (Ctrl-C or SIGTERM to this script) after ``wall`` s, its tree at ``peak`` MiB."""

    def __init__(self, wall: float, peak: float):
        super().__init__(f"stopped after {wall:.0f} s")
        self.wall, self.peak = wall, peak


def run(cmd: list[str], on_line=None, every: float = 0.2) -> tuple[float, float]:
    """(wall s, peak MiB of the process tree, sampled every ``every`` s) of one command; ``on_line`` sees each
    line of its stderr. Sampling walks /proc, which costs a core a few percent at 0.2 s under Ray. When this
    script is interrupted, the command is terminated (its Ray goes with it) and ``Stopped`` is raised."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mib(proc.pid))
            time.sleep(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tail: list[str] = []
    try:
        for line in proc.stderr:
            tail = (tail + [line])[-40:]
            if on_line:
                on_line(line)
        proc.wait()
    except KeyboardInterrupt:
        # a SIGTERM to this script does not reach the child, and a child of a background shell ignores SIGINT
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise Stopped(time.perf_counter() - t, peak[0]) from None
    wall = time.perf_counter() - t
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{''.join(tail)}")
    return wall, peak[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=20000)
    ap.add_argument("--chunks", type=int, nargs="+", default=[1, 4], help="Ray runs: the plan in this many chunks")
    ap.add_argument("--actors", type=int, default=1)
    ap.add_argument("--gpus-per-actor", type=float, default=0.0, help="on a GPU machine: 1")
    args = ap.parse_args()
    from miles.sources import ingest
    from miles.sources.demo import generate
    from miles.store import Store

    print(f"# local vs ray engine · {platform.machine()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d')} · "
          f"{args.videos:,} videos, titles (minilm) · {args.actors} actor(s)")
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp) / "src", n_videos=args.videos, seed=0)
        pristine = Path(tmp) / "store"
        ingest([files.csv], Store.open(pristine), progress=False)
        miles = [sys.executable, "-m", "miles.cli", "-q", "embed", "--modality", "text"]
        runs = [("local", 1, [])] + [("ray", k, ["--engine", "ray", "--actors", str(args.actors),
                                                 "--gpus-per-actor", str(args.gpus_per_actor),
                                                 "--chunk", str(-(-args.videos // k))]) for k in args.chunks]
        print(f"{'engine':<8}{'chunks':>7}{'wall s':>9}{'videos/s':>10}{'vs local':>10}{'peak MiB (tree)':>17}")
        results = {}
        for engine, k, extra in runs:
            store = Path(tmp) / f"run-{engine}-{k}"
            shutil.copytree(pristine, store)
            wall, peak = run(miles + ["--store", str(store)] + extra)
            results[(engine, k)] = wall
            print(f"{engine:<8}{k:>7}{wall:>9.1f}{args.videos / wall:>10.0f}{wall / results[('local', 1)]:>9.2f}x"
                  f"{peak:>17.0f}")
            shutil.rmtree(store)
        ks = sorted(k for e, k in results if e == "ray")
        if len(ks) > 1:
            per = (results[("ray", ks[-1])] - results[("ray", ks[0])]) / (ks[-1] - ks[0])
            print(f"# overhead per extra chunk: {per:.1f} s (ray, {ks[0]} vs {ks[-1]} chunks)")


if __name__ == "__main__":
    main()
