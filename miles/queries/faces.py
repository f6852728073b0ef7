"""Faces in thumbnails: how many frontal faces a thumbnail shows, for ``miles recommend``.

    from miles.queries.faces import count_faces, detect_faces
    count_faces(Path("thumb.jpg").read_bytes())   # -> 1
    detect_faces(image_bytes)                      # -> [(x, y, w, h), ...] in the image's own pixels

The detector is OpenCV's Viola–Jones cascade ``haarcascade_frontalface_alt2``, whose trained weights ship
inside the ``opencv-python-headless`` wheel: nothing is downloaded. It finds upright, roughly frontal faces;
profiles, heavily tilted or tiny faces (under ``min_size`` of the shorter side) are not counted, and drawn
or cartoon faces mostly are not either. Measured recall and false-positive rates are in BENCHMARKS.md
(``python benchmarks/bench_faces.py``).

Images are decoded with Pillow (draft mode for JPEGs), turned to greyscale, shrunk so the longer side is
at most ``max_side`` pixels and histogram-equalised before detection; boxes are scaled back.
"""

from __future__ import annotations

import io
import threading

import numpy as np

from miles.bounded import Bounded
from miles.errors import MilesError

CASCADE = "haarcascade_frontalface_alt2.xml"
_lock = threading.Lock()


_CASCADE = Bounded(1)


def _cascade():
    return _CASCADE.get(CASCADE, _load_cascade)


def _load_cascade():
    try:
        import cv2
    except ImportError as err:  # pragma: no cover - a dependency of Miles
        raise MilesError("face detection needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'") from err
    if not hasattr(cv2, "CascadeClassifier"):  # pragma: no cover - OpenCV 5 moved cascades out of the core
        raise MilesError(f"this OpenCV ({cv2.__version__}) has no CascadeClassifier; "
                           "install 'opencv-python-headless>=4.8,<5'")
    path = cv2.data.haarcascades + CASCADE
    cc = cv2.CascadeClassifier(path)
    if cc.empty():  # pragma: no cover - a broken OpenCV install
        raise MilesError(f"could not load the face cascade {path}")
    return cv2, cc


def _grey(image) -> np.ndarray:
    """uint8 greyscale array from encoded bytes, a PIL image, or an array (H×W or H×W×3 RGB)."""
    from PIL import Image

    if isinstance(image, (bytes, bytearray, memoryview)):
        im = Image.open(io.BytesIO(bytes(image)))
        im.draft("L", (640, 640))
        image = im
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"))
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if a.ndim == 3:
        a = (a[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    return a


def detect_faces(image, min_size: float = 0.08, max_side: int = 480, min_neighbors: int = 3,
                 scale_factor: float = 1.1) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the frontal faces in ``image``, in the image's own pixel coordinates.

    ``min_size`` is the smallest face side counted, as a fraction of the image's shorter side (never under
    the cascade's 24-pixel window after shrinking). The defaults (3 neighbours, scale step 1.1) were chosen
    on hand-labelled real covers; see BENCHMARKS.md.
    ``image`` is encoded bytes (JPEG, PNG, WebP…), a PIL image, or an array. Undecodable bytes raise
    ``ValueError``.
    """
    try:
        g = _grey(image)
    except Exception as err:
        raise MilesError(f"not a decodable image: {err}") from err
    if g.ndim != 2 or min(g.shape) < 24:
        return []
    cv2, cc = _cascade()
    h, w = g.shape
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(g, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1.0 else g
    small = cv2.equalizeHist(np.ascontiguousarray(small))
    side = max(24, int(min(small.shape) * min_size))
    with _lock:  # one cascade object; detectMultiScale is not documented as thread-safe
        found = cc.detectMultiScale(small, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(side, side))
    return [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]


def count_faces(image, **kwargs) -> int:
    """How many frontal faces ``image`` shows (see ``detect_faces``)."""
    return len(detect_faces(image, **kwargs))


def stratified_scores(strata: dict, found: dict[str, bool], n_boot: int = 2000, seed: int = 0) -> dict:
    """Precision and recall of ``found`` (id → detector said "face") against hand labels drawn as a
    stratified sample, weighted up to the population, with 95% bootstrap intervals (resampling within
    each stratum).

    ``strata`` maps a stratum name to ``{"population": N, "labels": {id: 0 or 1}}``; ids missing from
    ``found`` are an error.
    """
    parts = []
    for name, s in strata.items():
        ids = list(s["labels"])
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(f"no detection for {len(missing)} labelled ids of stratum {name!r}, e.g. {missing[0]}")  # internal: a bug, not input
        y = np.array([s["labels"][i] for i in ids], dtype=bool)
        p = np.array([bool(found[i]) for i in ids])
        parts.append((s["population"] / len(ids), y, p))

    def score(draws):
        tp = sum(w * np.sum(y[d] & p[d]) for (w, y, p), d in zip(parts, draws))
        fp = sum(w * np.sum(~y[d] & p[d]) for (w, y, p), d in zip(parts, draws))
        fn = sum(w * np.sum(y[d] & ~p[d]) for (w, y, p), d in zip(parts, draws))
        return (tp / (tp + fp) if tp + fp else np.nan), (tp / (tp + fn) if tp + fn else np.nan)

    precision, recall = score([np.arange(len(y)) for _, y, _ in parts])
    rng = np.random.default_rng(seed)
    boots = np.array([score([rng.integers(0, len(y), len(y)) for _, y, _ in parts]) for _ in range(n_boot)])
    lo, hi = np.nanpercentile(boots, [2.5, 97.5], axis=0)
    return {"precision": float(precision), "precision_ci": (float(lo[0]), float(hi[0])),
            "recall": float(recall), "recall_ci": (float(lo[1]), float(hi[1])),
            "labelled": sum(len(y) for _, y, _ in parts)}
