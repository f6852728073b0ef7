"""Thumbnail checks: every image is verified before it is stored.

A thumbnail must be a regular file (not a device such as ``/dev/zero``, a FIFO that would block, or a
folder) under ``MAX_BYTES`` — checked on the open handle and read with a cap, so a file that grows while
it is read cannot exhaust memory — whose header declares at most ``MAX_PIXELS`` pixels (so a
decompression bomb is refused before it is decoded), and which then decodes completely. A path named
inside an input file must lie under that file's folder (or ``--thumbnails``): ``inside`` says so.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

from miles.errors import MilesError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 8K x 5K; thumbnails are far smaller
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP")  # what a draft's thumbnail may be, told by its bytes, not its name


class ImageError(MilesError):
    """A thumbnail that cannot be stored; the message says why."""


class ImageTooLarge(ImageError):
    """Over the byte or pixel limit."""


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
                    raise ImageTooLarge(
                        f"thumbnail is {width}x{height} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} (a decompression bomb, or not a thumbnail)"
                    )
                img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageTooLarge(f"thumbnail refused as a decompression bomb: {err}") from err
    except Exception as err:  # PIL raises many types for corrupt data
        why = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the file", str(err))  # no object reprs in a message
        raise ImageError(f"thumbnail is not a decodable image ({type(err).__name__}: {why})") from err
    return width, height


def upload_size(data: bytes, what: str = "the thumbnail") -> tuple[int, int]:
    """(width, height) from the header of an uploaded image, without decoding it; ``ImageError`` unless its
    content is JPEG, PNG or WebP (Pillow is not even asked to try another format)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(UPLOAD_FORMATS)) as img:
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{what} declares more pixels than the limit of {MAX_PIXELS:,}") from None
    except Exception:  # Pillow's UnidentifiedImageError, or a header it cannot read
        raise ImageError(f"{what} isn't an image Miles can read (JPEG, PNG or WebP)") from None
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{what} is {width}x{height} = {width * height:,} pixels, over the limit of "
                            f"{MAX_PIXELS:,}")
    return width, height


def read_capped(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; ``ImageError`` for anything else. The file is
    opened without blocking (a FIFO) and checked on the open handle (no swap between check and read)."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except IsADirectoryError as err:
        raise ImageError(f"thumbnail {str(path)!r} is a folder, not a file") from err
    except OSError as err:
        raise ImageError(f"thumbnail file {str(path)!r} cannot be read ({err.strerror})") from err
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        raise ImageError(f"thumbnail {str(path)!r} is {kind}, not an image file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > max_bytes:
            raise ImageTooLarge(f"thumbnail file {path.name!r} is {st.st_size / 2**20:.1f} MiB, over the limit of "
                             f"{max_bytes / 2**20:.0f} MiB")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"thumbnail file {path.name!r} grew past the limit of {max_bytes / 2**20:.0f} MiB while read")
    return data


def read_thumbnail(path: Path, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> bytes:
    """Read and verify the image at ``path``; ``ImageError`` says what is wrong with it."""
    data = read_capped(Path(path), max_bytes)
    verify_image(data, max_pixels=max_pixels)
    return data


def inside(path: Path, folder: Path) -> bool:
    """Is ``path`` (symlinks resolved) within ``folder``?"""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
