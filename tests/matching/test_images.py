"""The photo checks shared by mugshot import and face matching: limits are plain values, every refusal has
its reason and code. (The reasons one by one, through the gateway, are in tests/gateway/records/
test_mugshots.py; the probe path in test_pipeline.py.)"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

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
