import struct
import zlib

import pytest

from miles.sources.images import ImageError, read_thumbnail, verify_image
from tests.conftest import jpeg_bytes


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size: a decompression bomb must be refused before decoding."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_valid_jpeg_and_png():
    assert verify_image(jpeg_bytes((64, 48))) == (64, 48)
    assert verify_image(jpeg_bytes((10, 20), fmt="PNG")) == (10, 20)


def test_corrupt_image_rejected():
    data = jpeg_bytes()
    with pytest.raises(ImageError, match="not a decodable image"):
        verify_image(data[: len(data) // 3])
    with pytest.raises(ImageError, match="not a decodable image"):
        verify_image(b"this is not an image")
    with pytest.raises(ImageError, match="empty"):
        verify_image(b"")


def test_decompression_bomb_refused():
    with pytest.raises(ImageError, match="decompression bomb"):
        verify_image(png_header_only(50_000, 50_000))
    with pytest.raises(ImageError, match="over the limit of 1,000"):
        verify_image(png_header_only(100, 100), max_pixels=1000)


def test_oversized_file_refused(tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(jpeg_bytes() + b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(ImageError, match="MiB, over the limit"):
        read_thumbnail(big, max_bytes=1024 * 1024)
    with pytest.raises(ImageError, match="cannot be read"):
        read_thumbnail(tmp_path / "missing.jpg")
