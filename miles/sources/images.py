"""Thumbnail checks: every image is verified before it is stored.

A thumbnail must be a file under ``MAX_BYTES`` whose header declares at most ``MAX_PIXELS`` pixels (so a
decompression bomb is refused before it is decoded), and which then decodes completely.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 8K x 5K; thumbnails are far smaller


class ImageError(ValueError):
    """A thumbnail that cannot be stored; the message says why."""


def verify_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Check that ``data`` is a decodable image of at most ``max_pixels``; return its (width, height)."""
    from PIL import Image

    if not data:
        raise ImageError("thumbnail is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageError(
                        f"thumbnail is {width}x{height} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} (a decompression bomb, or not a thumbnail)"
                    )
                img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"thumbnail refused as a decompression bomb: {err}") from err
    except Exception as err:  # PIL raises many types for corrupt data
        raise ImageError(f"thumbnail is not a decodable image ({type(err).__name__}: {err})") from err
    return width, height


def read_thumbnail(path: Path, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> bytes:
    """Read and verify the image at ``path``; ``ImageError`` says what is wrong with it."""
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ImageError(f"thumbnail file {str(path)!r} cannot be read ({err.strerror})") from err
    if size > max_bytes:
        raise ImageError(f"thumbnail file {path.name!r} is {size / 2**20:.1f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB")
    data = path.read_bytes()
    verify_image(data, max_pixels=max_pixels)
    return data
