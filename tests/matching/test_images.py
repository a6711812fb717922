"""The photo checks shared by mugshot import and face matching: limits are plain values, every refusal has
its reason and code. (The reasons one by one, through the gateway, are in tests/gateway/records/
test_mugshots.py; the probe path in test_pipeline.py.)"""

from __future__ import annotations

import importlib.util
import io
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from matching.exceptions import ImageRejectedError, MatchingErrorCode
from matching.images import image_check
from matching.types import ImageLimits, ImageRejection


def _png(width: int, height: int) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return encoded.tobytes()


def _refusal(data: bytes, limits: ImageLimits, *, decode: bool = True) -> ImageRejectedError:
    with pytest.raises(ImageRejectedError) as caught:
        image_check(data=data, limits=limits, decode=decode)
    return caught.value


def test_a_photo_within_the_limits_is_described() -> None:
    checked = image_check(data=_png(120, 150), limits=ImageLimits())
    assert (checked.format, checked.width, checked.height) == ("png", 120, 150)


@pytest.mark.parametrize(
    ("limits", "reason", "code", "figure"),
    [
        (ImageLimits(min_side=121), ImageRejection.TOO_SMALL, MatchingErrorCode.IMAGE_DIMENSIONS, "min_side"),
        (ImageLimits(max_aspect=1.2), ImageRejection.ABSURD_ASPECT_RATIO, MatchingErrorCode.IMAGE_DIMENSIONS, "max_aspect"),
        (ImageLimits(max_pixels=120 * 150 - 1), ImageRejection.TOO_MANY_PIXELS, MatchingErrorCode.IMAGE_PIXEL_LIMIT, "limit"),
        (ImageLimits(max_bytes=100), ImageRejection.TOO_LARGE, MatchingErrorCode.IMAGE_TOO_LARGE, "limit"),
    ],
)  # fmt: skip
def test_each_limit_is_the_callers(
    limits: ImageLimits, reason: ImageRejection, code: MatchingErrorCode, figure: str
) -> None:
    data = _png(120, 150)
    assert image_check(data=data, limits=ImageLimits()).width == 120  # fine with the defaults
    refusal = _refusal(data, limits)
    assert (refusal.reason, refusal.code) == (reason, code)
    assert figure in refusal.extra


def test_without_the_full_decode_a_cut_file_is_still_refused_by_its_end_marker() -> None:
    data = _png(120, 150)
    refusal = _refusal(data[:-6], ImageLimits(), decode=False)
    assert (refusal.reason, refusal.code) == (
        ImageRejection.TRUNCATED,
        MatchingErrorCode.IMAGE_TRUNCATED,
    )


def test_damaged_pixels_are_found_only_by_the_full_decode() -> None:
    data = bytearray(_png(120, 150))
    data[60:70] = b"\x00" * 10  # inside the pixel data: the header and the end marker are intact
    assert image_check(data=bytes(data), limits=ImageLimits(), decode=False).format == "png"
    refusal = _refusal(bytes(data), ImageLimits())
    assert refusal.reason in {ImageRejection.CORRUPT, ImageRejection.TRUNCATED}


@pytest.mark.parametrize(
    ("data", "reason", "code"),
    [
        (b"GIF89a" + b"\x00" * 200, ImageRejection.UNSUPPORTED_FORMAT, MatchingErrorCode.IMAGE_UNSUPPORTED_FORMAT),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ImageRejection.UNSUPPORTED_FORMAT, MatchingErrorCode.IMAGE_UNSUPPORTED_FORMAT),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, ImageRejection.CORRUPT, MatchingErrorCode.IMAGE_CORRUPT),
    ],
    ids=["gif", "webp", "damaged-png-header"],
)  # fmt: skip
def test_other_formats_and_damaged_headers_say_so(
    data: bytes, reason: ImageRejection, code: MatchingErrorCode
) -> None:
    refusal = _refusal(data, ImageLimits())
    assert (refusal.reason, refusal.code) == (reason, code)


# A file cut short and given an end marker afterwards (some "repair" tools and resumable uploads do this)
# reads as whole to Pillow and OpenCV alike: libjpeg fills the missing blocks with grey and only warns.


def _shipped(name: str) -> bytes:
    """An image file scikit-image ships in its package (public sample pictures, never a mugshot)."""
    spec = importlib.util.find_spec("skimage")
    assert spec is not None
    assert spec.origin is not None
    return (Path(spec.origin).parent / "data" / name).read_bytes()


def _astronaut_jpeg(**options: Any) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(_shipped("astronaut.png"))).convert("RGB").save(out, "JPEG", **options)
    return out.getvalue()


def _cut_and_closed(data: bytes, keep: float | int) -> bytes:
    """The first part of a JPEG with an end-of-image marker appended."""
    end = int(len(data) * keep) if isinstance(keep, float) else len(data) - 2 - keep
    return data[:end] + b"\xff\xd9"


def test_a_shipped_jpeg_passes_whole_and_is_refused_cut_in_half_with_an_end_marker() -> None:
    rocket = _shipped("rocket.jpg")
    assert image_check(data=rocket, limits=ImageLimits()).format == "jpeg"
    refusal = _refusal(_cut_and_closed(rocket, 0.5), ImageLimits())
    assert (refusal.reason, refusal.code) == (
        ImageRejection.TRUNCATED,
        MatchingErrorCode.IMAGE_TRUNCATED,
    )


@pytest.mark.parametrize("missing", [1, 5, 40, 500])
def test_a_few_bytes_missing_before_the_end_marker_are_noticed(missing: int) -> None:
    refusal = _refusal(_cut_and_closed(_shipped("rocket.jpg"), missing), ImageLimits())
    assert refusal.reason == ImageRejection.TRUNCATED


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 90},
        {"quality": 95, "progressive": True},
        {"quality": 75, "optimize": True},
        {"quality": 90, "restart_marker_blocks": 4},
        {"quality": 90, "subsampling": 0, "exif": b"Exif\x00\x00" + b"\x00" * 64},
    ],
    ids=["baseline", "progressive", "optimized", "restart-markers", "444-with-exif"],
)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_every_kind_of_jpeg_cut_short_and_closed_is_refused(
    options: dict[str, Any], keep: float
) -> None:
    data = _astronaut_jpeg(**options)
    assert image_check(data=data, limits=ImageLimits()).width == 512
    assert _refusal(_cut_and_closed(data, keep), ImageLimits()).reason == ImageRejection.TRUNCATED


@pytest.mark.parametrize("decode", [True, False])
def test_a_trailer_that_looks_like_a_scan_does_not_make_a_whole_jpeg_look_cut(decode: bool) -> None:
    """Cameras and vendors append data, even another JPEG, after the image's end marker."""
    data = _astronaut_jpeg(quality=90)
    trailer = b"vendor trailer \xff\xd8\xff\xda after the end-of-image marker" * 20
    checked = image_check(data=data + trailer, limits=ImageLimits(), decode=decode)
    assert checked.format == "jpeg"


@pytest.mark.parametrize("decode", [True, False])
def test_a_bogus_marker_inside_a_jpeg_is_damage_not_a_cut(decode: bool) -> None:
    data = bytearray(_astronaut_jpeg(quality=90))
    middle = len(data) // 2
    data[middle : middle + 8] = b"\xff" * 7 + b"\xfb"  # 0xFFFB: a marker number no JPEG may use
    refusal = _refusal(bytes(data), ImageLimits(), decode=decode)
    assert (refusal.reason, refusal.code) == (
        ImageRejection.CORRUPT,
        MatchingErrorCode.IMAGE_CORRUPT,
    )


def test_the_cut_jpeg_is_refused_whatever_pillows_truncation_switch_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    refusal = _refusal(_cut_and_closed(_shipped("rocket.jpg"), 0.5), ImageLimits())
    assert refusal.reason == ImageRejection.TRUNCATED


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, total length) of each chunk."""
    chunks, position = [], 8
    while position < len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        chunks.append((data[position + 4 : position + 8], position, 12 + size))
        position += 12 + size
    return chunks


_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _png_without_its_last_idat_chunks(data: bytes) -> bytes:
    """A PNG cut between two IDAT chunks and closed with IEND: every chunk left is whole, CRCs and all."""
    idats = [offset for kind, offset, _ in _png_chunks(data) if kind == b"IDAT"]
    assert len(idats) > 2
    return data[: idats[len(idats) // 2]] + _IEND


@pytest.mark.parametrize("load_truncated", [False, True])
def test_a_shipped_png_cut_between_chunks_and_closed_is_refused(
    monkeypatch: pytest.MonkeyPatch, load_truncated: bool
) -> None:
    """Pillow notices the short image data only while LOAD_TRUNCATED_IMAGES is off; any library in the
    process may switch it on."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    astronaut = _shipped("astronaut.png")
    assert image_check(data=astronaut, limits=ImageLimits()).format == "png"
    refusal = _refusal(_png_without_its_last_idat_chunks(astronaut), ImageLimits())
    assert (refusal.reason, refusal.code) == (
        ImageRejection.TRUNCATED,
        MatchingErrorCode.IMAGE_TRUNCATED,
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _interlaced_png(rgb: np.ndarray) -> bytes:
    """An Adam7-interlaced PNG (neither OpenCV nor Pillow writes one): seven sub-images, filter 0 rows."""
    rows = b"".join(
        b"".join(b"\x00" + line.tobytes() for line in rgb[y0::dy, x0::dx])
        for x0, y0, dx, dy in _ADAM7
    )
    height, width = rgb.shape[:2]
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 1])
    stream = zlib.compress(rows)
    idat = b"".join(_chunk(b"IDAT", stream[i : i + 4096]) for i in range(0, len(stream), 4096))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + idat + _chunk(b"IEND", b"")


def test_an_interlaced_png_passes_whole_and_is_refused_cut_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    rgb = np.random.default_rng(2).integers(0, 256, (101, 77, 3), dtype=np.uint8)
    data = _interlaced_png(rgb)
    with Image.open(io.BytesIO(data)) as image:  # the helper writes what Pillow reads back
        assert np.array_equal(np.asarray(image.convert("RGB")), rgb)
    assert image_check(data=data, limits=ImageLimits()).height == 101
    assert _refusal(_png_without_its_last_idat_chunks(data), ImageLimits()).reason == (
        ImageRejection.TRUNCATED
    )
