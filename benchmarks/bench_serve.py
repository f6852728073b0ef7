"""A bounded load loop on the real ``/api/v1/predict``, the server on 127.0.0.1 in its own process.

    python benchmarks/bench_serve.py --store demo-store --requests 2000 --concurrency 1 4 16

The server is ``miles serve`` (uvicorn, the LightGBM head, two predictions at once). Each request is a
multipart draft (title, creator, duration and a real thumbnail from the store), drawn in turn from a few.
For each concurrency: throughput, latency p50 / p95 / p99, errors, and the server's resident memory before
and after (from /proc). Every URL is checked to be on 127.0.0.1 before it is called. Then, where Debian's
Chromium is installed, the draft page's time to a result in a real browser (title, creator, thumbnail;
submit to the gauge on screen), 5 times.
"""

from __future__ import annotations

import argparse
import io
import platform
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import numpy as np


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (name, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                  f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the server processes), MiB."""
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for p in [pid] + [int(c) for c in (children.read_text().split() if children.exists() else [])]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def post(url: str, body: bytes, kind: str) -> tuple[float, bool]:
    assert urlparse(url).hostname == "127.0.0.1", url
    req = urllib.request.Request(url, data=body, headers={"Content-Type": kind})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            ok = r.status == 200 and b"viral_probability" in r.read()
    except Exception:
        ok = False
    return time.perf_counter() - t, ok


def browser_time(base: str, thumbnail: Path, runs: int = 5) -> None:
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        print("\n(no chromium: the draft page's time to a result was not measured)")
        return
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu",
                                                                     "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for i in range(runs + 1):
            page.goto(base + "/")
            page.fill("#title", f"Wait for it... ramen hack {i}")
            page.fill("#creator_id", "creator_0042")
            page.set_input_files("#thumbnail", str(thumbnail))
            t = time.perf_counter()
            page.click("button[type=submit]")
            page.wait_for_selector("#prediction .gauge", timeout=120_000)
            if i:  # the first is a warm-up
                times.append(time.perf_counter() - t)
        browser.close()
    print(f"\ndraft page in Chromium, submit to gauge: median {np.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {runs} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="demo-store")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--serve", action="append", default=[], metavar="FLAG",
                    help="a flag for miles serve, e.g. --serve=--processes=2 (repeatable)")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "miles.cli", "-q", "serve", "--store", args.store, "--port",
                               str(port), *args.serve], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        thumbs = sorted((Path(args.store) / "demo_source" / "thumbnails").glob("*.jpg"))[:8]
        titles = ["Wait for it... ramen hack", "My leg day routine from this morning", "I tried desk setup for 30 days",
                  "corgi bath update", "POV: you finally tried budget", "room makeover vlog, part two"]
        bodies = [multipart({"title": titles[i % len(titles)], "creator_id": f"creator_{i:04d}", "duration": str(20 + i)},
                            {"thumbnail": (t.name, t.read_bytes())}) for i, t in enumerate(thumbs)]
        post(base + "/api/v1/predict", *bodies[0])
        print(f"# serve benchmark · {platform.machine()} · {__import__('os').cpu_count()} cores · "
              f"{time.strftime('%Y-%m-%d')} · {args.requests} requests per row")
        print(f"{'concurrency':>11}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
              f"{'RSS before MiB':>16}{'RSS after MiB':>15}")
        for c in args.concurrency:
            before = rss_mib(server.pid)
            t = time.perf_counter()
            with ThreadPoolExecutor(c) as pool:
                results = list(pool.map(lambda i: post(base + "/api/v1/predict", *bodies[i % len(bodies)]),
                                        range(args.requests)))
            wall = time.perf_counter() - t
            lat = np.array([r[0] for r in results]) * 1000
            errors = sum(not r[1] for r in results)
            print(f"{c:>11}{args.requests / wall:>8.1f}{np.percentile(lat, 50):>9.0f}{np.percentile(lat, 95):>9.0f}"
                  f"{np.percentile(lat, 99):>9.0f}{errors:>8}{before:>16.0f}{rss_mib(server.pid):>15.0f}")
        browser_time(base, thumbs[0])
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
