"""Face counting in thumbnails (``miles.queries.faces``): how often it is right, and how fast.

    python benchmarks/bench_faces.py

Rows (each from data that ships with a package, or from ../shared/data when present):
- lfw-subset: scikit-image's 100 LFW face crops and 100 non-face crops (25 px, upscaled ×4 with a border).
- natural, no people: 18 scikit-image sample photos with no human face (coffee, rocket, coins…).
- demo (synthetic): 200 Miles demo thumbnails drawn with and without a face.
- bilibili covers: 60 real covers labelled by hand (tests/data/bilibili_face_labels.json), a stratified
  sample weighted up to all 946; the detector settings were chosen on these labels, so read it as optimistic.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

from miles.eval.metrics import wilson_interval
from miles.queries.faces import count_faces, stratified_scores
from miles.sources.demo import NICHES
from miles.sources.drawn import thumbnail_image

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "bilibili_face_labels.json"
COVERS = ROOT.parent / "shared" / "data" / "bilibili-covers-dev" / "covers"
NO_FACE = ["camera", "coffee", "chelsea", "rocket", "coins", "horse", "moon", "page", "text", "brick", "grass",
           "gravel", "cell", "hubble_deep_field", "retina", "logo", "immunohistochemistry", "clock"]


def timed(images) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    found = np.array([count_faces(im) > 0 for im in images])
    return found, (time.perf_counter() - t) / len(images) * 1000


def rate(found: np.ndarray) -> str:
    lo, hi = wilson_interval(int(found.sum()), len(found))
    return f"{found.mean():.2f} [{lo:.2f}, {hi:.2f}]"


def lfw_images():
    from skimage import data

    crops = (data.lfw_subset() * 255).astype(np.uint8)
    return [np.pad(c.repeat(4, 0).repeat(4, 1), 25, mode="edge") for c in crops]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=int, default=200, help="demo thumbnails (half with a face)")
    args = ap.parse_args()
    from skimage import data

    rows = []
    lfw = lfw_images()
    found, ms = timed(lfw)
    rows.append(("lfw-subset (faces / non-faces)", "100 / 100", rate(found[:100]), f"FPR {rate(found[100:])}", ms))
    found, ms = timed([getattr(data, n)() for n in NO_FACE])
    rows.append(("natural photos, no people", f"0 / {len(NO_FACE)}", "–", f"FPR {rate(found)}", ms))
    rng = np.random.default_rng(1)
    names = list(NICHES)
    truth = np.arange(args.demo) % 2 == 1
    thumbs = [thumbnail_image(rng, NICHES[names[i % len(names)]], float(rng.beta(2, 2)), float(rng.beta(2, 2)),
                         bool(truth[i]), "WOW" if rng.random() < 0.45 else None) for i in range(args.demo)]
    found, ms = timed(thumbs)
    rows.append(("demo thumbnails (synthetic)", f"{truth.sum()} / {(~truth).sum()}", rate(found[truth]),
                 f"FPR {rate(found[~truth])}", ms))
    if COVERS.is_dir():
        doc = json.loads(LABELS.read_text())
        ids = [i for s in doc["strata"].values() for i in s["labels"]]
        found, ms = timed([(COVERS / f"{i}.jpg").read_bytes() for i in ids])
        sc = stratified_scores(doc["strata"], dict(zip(ids, found)))
        pos = sum(v for s in doc["strata"].values() for v in s["labels"].values())
        rows.append(("bilibili covers, hand-labelled (weighted to 946)", f"{pos} / {len(ids) - pos}",
                     f"{sc['recall']:.2f} [{sc['recall_ci'][0]:.2f}, {sc['recall_ci'][1]:.2f}]",
                     f"precision {sc['precision']:.2f} [{sc['precision_ci'][0]:.2f}, {sc['precision_ci'][1]:.2f}]",
                     ms))
    else:
        print(f"(bilibili covers not found at {COVERS}; that row is skipped)")
    print(f"faces — {platform.machine()}, {platform.python_version()}, {date.today()}")
    print("| images | with / without a face | recall [95%] | false positives [95%] | ms / image |")
    print("|---|---|---|---|---|")
    for name, n, rec, fp, ms in rows:
        print(f"| {name} | {n} | {rec} | {fp} | {ms:.1f} |")


if __name__ == "__main__":
    main()
