"""Thumbnails drawn for the SYNTHETIC demo and the simulated platform: a niche palette, brighter or duller,
more or less contrast, sometimes a face, sometimes a bold text overlay, saved as a JPEG.

    jpeg = thumbnail_image(rng, NICHES["cooking"], bright=0.7, contrast=0.6, face=True, text="WOW")
"""

from __future__ import annotations

import io

import numpy as np

SIZE = (288, 512)  # portrait 9:16, as shorts covers are


def _face(d, cx: int, cy: int, r: int, skin: tuple[int, int, int]) -> None:
    """A drawn face with the light and dark regions of a real one (brows and eye sockets darker than the
    cheeks, a lighter nose bridge), so that a frontal-face detector finds most of them."""
    shade = tuple(int(c * 0.55) for c in skin)
    d.ellipse([cx - r, cy - int(r * 1.25), cx + r, cy + int(r * 1.25)], fill=skin)
    for ex in (cx - r / 2.5, cx + r / 2.5):
        d.ellipse([ex - r * 0.28, cy - r * 0.42, ex + r * 0.28, cy - r * 0.08], fill=shade)
        d.rectangle([ex - r * 0.3, cy - r * 0.58, ex + r * 0.3, cy - r * 0.48], fill=(40, 30, 25))
        d.ellipse([ex - r * 0.15, cy - r * 0.33, ex + r * 0.15, cy - r * 0.17], fill=(235, 235, 235))
        d.ellipse([ex - r * 0.07, cy - r * 0.3, ex + r * 0.07, cy - r * 0.2], fill=(20, 20, 20))
    d.polygon([(cx, cy - r * 0.15), (cx - r * 0.12, cy + r * 0.3), (cx + r * 0.12, cy + r * 0.3)],
              fill=tuple(int(c * 0.8) for c in skin))
    d.chord([cx - r * 0.5, cy + r * 0.35, cx + r * 0.5, cy + r * 0.95], 0, 180, fill=(120, 20, 30))


def thumbnail_image(rng: np.random.Generator, niche: dict, bright: float, contrast: float, face: bool,
               text: str | None) -> bytes:
    from PIL import Image, ImageDraw, ImageEnhance, ImageFont

    w, h = SIZE
    base = np.array(niche["hue"], dtype=np.float32) * (0.35 + 0.75 * bright)
    # (h, 1, 3) vertical gradient from the niche colour to a darker shade, stretched to (h, w, 3)
    grad = np.linspace(1.0, 0.45 + 0.3 * rng.random(), h, dtype=np.float32)[:, None, None]
    col = np.clip(base[None, None, :] * grad, 0, 255).astype(np.uint8)
    im = Image.fromarray(col, "RGB").resize((w, h), Image.Resampling.NEAREST)
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(2, 6))):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        x, y, s = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(20, 90))
        if niche["shape"] == "circle":
            d.ellipse([x - s, y - s, x + s, y + s], fill=colour)
        elif niche["shape"] == "rect":
            d.rectangle([x - s, y - s // 2, x + s, y + s // 2], fill=colour)
        else:
            d.rectangle([x - 8, y - s, x + 8, y + s], fill=colour)
    if face:
        cx, cy, r = w // 2 + int(rng.integers(-30, 30)), int(h * 0.42), int(rng.integers(55, 80))
        skin = (int(rng.integers(140, 240)), int(rng.integers(100, 190)), int(rng.integers(80, 160)))
        _face(d, cx, cy, r, skin)
    if text:
        font = ImageFont.load_default(size=44)
        box = d.textbbox((0, 0), text, font=font)
        tw = box[2] - box[0]
        y = int(h * 0.75)
        d.rectangle([(w - tw) // 2 - 10, y - 8, (w + tw) // 2 + 10, y + 56], fill=(255, 230, 0))
        d.text(((w - tw) // 2, y), text, fill=(0, 0, 0), font=font)
    im = ImageEnhance.Contrast(im).enhance(0.55 + contrast)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()
