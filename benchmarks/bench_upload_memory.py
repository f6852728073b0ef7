"""Memory of a server answering ``/recommend`` with large thumbnails: does it come back, or grow per request?

    python benchmarks/bench_upload_memory.py --store demo-store --requests 4 --format PNG

One process: the app on a started service (in-process client), a warm-up predict, then ``--requests``
recommend requests, each with a draft and two variant thumbnails of 4000x3000 (12 Mpx each, 36 Mpx a
request: inside the 48 Mpx budget). Prints the wall time of each and the resident memory against the
baseline taken after the warm-up.
"""

from __future__ import annotations

import argparse
import io
import platform
import time


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    import numpy as np
    from PIL import Image
    from starlette.testclient import TestClient

    from miles.serve.app import create_app
    from miles.serve.service import Service
    from miles.store import Store

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--format", default="PNG", choices=["PNG", "JPEG", "WEBP"])
    args = ap.parse_args()

    ramp = np.add.outer(np.linspace(0, 60, 3000), np.linspace(0, 255, 4000)) % 256
    buf = io.BytesIO()
    Image.fromarray(np.stack([ramp] * 3, -1).astype(np.uint8)).save(buf, args.format)
    image = buf.getvalue()
    files = [("thumbnail", ("a", image, "application/octet-stream"))] + [
        ("thumbnail_variant", (f"v{i}", image, "application/octet-stream")) for i in range(2)]
    service = Service.start(Store.open(args.store, must_exist=True))
    print(f"# /recommend with three 12-Mpx {args.format}s ({len(image) / 2**20:.2f} MiB each) · {platform.node()} · "
          f"{time.strftime('%Y-%m-%d')}")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        client.post("/api/v1/predict", data={"title": "warm up"})
        base = rss_mib()
        print(f"{'request':>8} {'status':>7} {'wall s':>7} {'RSS MiB':>8} {'vs baseline':>12}")
        print(f"{'baseline':>8} {'':>7} {'':>7} {base:>8.0f} {'':>12}")
        for i in range(args.requests):
            t = time.perf_counter()
            r = client.post("/api/v1/recommend", data={"title": "Wait for it... ramen hack"}, files=files)
            print(f"{i + 1:>8} {r.status_code:>7} {time.perf_counter() - t:>7.2f} {rss_mib():>8.0f} "
                  f"{rss_mib() - base:>+12.0f}", flush=True)


if __name__ == "__main__":
    main()
