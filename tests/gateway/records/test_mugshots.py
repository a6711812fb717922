"""Mugshot validation and storage: every refusal has its stable reason, and storing is idempotent.

The images are made here from random pixels (never a real photo); the bomb is a hand-built PNG header.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageFile

from gateway.exceptions import GatewayErrorCode
from gateway.records.models import Booking, Mugshot, Person, Pose
from gateway.records.mugshots import (
    ImageRejectedError,
    mugshot_pose_from_label,
    mugshot_store,
    mugshot_validate,
)
from matching.types import ImageRejection


def _pixels(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _encode(extension: str, pixels: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(extension, pixels)
    assert ok
    return encoded.tobytes()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes that declares a width x height canvas."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _reason(data: bytes) -> ImageRejection:
    with pytest.raises(ImageRejectedError) as caught:
        mugshot_validate(data=data)
    assert caught.value.code == GatewayErrorCode.IMAGE_REJECTED
    assert caught.value.extra["reason"] == caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize(("extension", "expected_format"), [(".jpg", "jpeg"), (".png", "png")])
def test_a_real_image_is_decoded_and_described(extension: str, expected_format: str) -> None:
    data = _encode(extension, _pixels(120, 150))

    image = mugshot_validate(data=data)

    assert (image.format, image.width, image.height) == (expected_format, 120, 150)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.size == len(data)


def _jpeg2000(pixels: np.ndarray, *, codestream: bool = False) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG2000", no_jp2=codestream)
    return buffer.getvalue()


@pytest.mark.parametrize("codestream", [False, True], ids=["jp2-file", "j2k-codestream"])
def test_jpeg_2000_is_accepted_and_a_cut_one_is_truncated(codestream: bool) -> None:
    data = _jpeg2000(_pixels(120, 150), codestream=codestream)

    assert mugshot_validate(data=data).format == "jp2"
    assert _reason(data[: len(data) * 9 // 10]) == ImageRejection.TRUNCATED


def test_a_multi_picture_jpeg_from_a_camera_is_a_jpeg() -> None:
    frame = Image.fromarray(_pixels(120, 150))
    buffer = io.BytesIO()
    frame.save(buffer, format="MPO", save_all=True, append_images=[frame])

    assert mugshot_validate(data=buffer.getvalue()).format == "jpeg"


def test_the_format_comes_from_the_bytes_not_a_name() -> None:
    # PNG bytes are a PNG whatever they were called; there is no name to trust.
    assert mugshot_validate(data=_encode(".png", _pixels(80, 100))).format == "png"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", ImageRejection.EMPTY),
        (b"Booking photo to follow.\n" * 40, ImageRejection.NOT_AN_IMAGE),
        (b"GIF89a" + b"\x00" * 200, ImageRejection.UNSUPPORTED_FORMAT),
    ],
    ids=["empty", "text", "gif"],
)
def test_non_images_are_refused_with_their_reason(data: bytes, reason: ImageRejection) -> None:
    assert _reason(data) == reason


@pytest.mark.parametrize("extension", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_image_is_refused(extension: str, keep: float) -> None:
    data = _encode(extension, _pixels(120, 150))

    assert _reason(data[: int(len(data) * keep)]) == ImageRejection.TRUNCATED


@pytest.mark.parametrize("cut", [2, 6])
def test_a_png_cut_inside_its_end_chunk_is_refused(cut: int) -> None:
    # The pixels decode cleanly here, so only the end-marker check can tell the file was cut.
    data = _encode(".png", _pixels(120, 150))

    assert _reason(data[:-cut]) == ImageRejection.TRUNCATED


@pytest.mark.parametrize("where", [0.01, 0.5], ids=["header", "pixel-data"])
def test_a_damaged_jpeg_is_refused_as_corrupt(where: float) -> None:
    data = bytearray(_encode(".jpg", _pixels(120, 150)))
    start = max(20, int(len(data) * where))
    data[start : start + 40] = b"\xff" * 40  # a run of bogus markers

    assert _reason(bytes(data)) == ImageRejection.CORRUPT


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (
            7_000,
            7_000,
        ),  # over our 40 MP limit, under anything Pillow checks: only our header check stops it
        (10_000, 10_000),  # where Pillow merely warns
        (100_000, 100_000),  # where Pillow itself refuses
    ],
)
def test_a_decompression_bomb_is_refused_from_its_header(width: int, height: int) -> None:
    bomb = _png_bomb(width, height)
    assert len(bomb) < 200

    # Decoding first would have allocated the canvas and then failed as "truncated", not this.
    assert _reason(bomb) == ImageRejection.TOO_MANY_PIXELS


@pytest.mark.parametrize("extension", [".jpg", ".png"])
def test_truncation_is_caught_even_if_pillow_is_told_to_tolerate_it(
    monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    # LOAD_TRUNCATED_IMAGES is process-wide; another library may switch it on behind our back.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = _encode(extension, _pixels(120, 150))

    assert _reason(data[: len(data) * 3 // 4]) == ImageRejection.TRUNCATED


def test_the_pixel_limit_comes_from_settings(settings) -> None:
    settings.MUGSHOT_MAX_PIXELS = 100 * 100
    data = _encode(".png", _pixels(101, 100))

    assert _reason(data) == ImageRejection.TOO_MANY_PIXELS
    settings.MUGSHOT_MAX_PIXELS = 101 * 100
    assert mugshot_validate(data=data).width == 101


def test_an_oversize_file_is_refused_before_it_is_read(settings) -> None:
    data = _encode(".png", _pixels(120, 150))
    settings.MUGSHOT_MAX_BYTES = len(data) - 1

    with pytest.raises(ImageRejectedError) as caught:
        mugshot_validate(data=data)

    assert caught.value.reason == ImageRejection.TOO_LARGE
    assert caught.value.extra["size"] == len(data)


@pytest.mark.parametrize(
    ("width", "height", "reason"),
    [
        (1, 1, ImageRejection.TOO_SMALL),
        (200, 20, ImageRejection.TOO_SMALL),
        (400, 100, ImageRejection.ABSURD_ASPECT_RATIO),
        (60, 300, ImageRejection.ABSURD_ASPECT_RATIO),
    ],
)
def test_absurd_sizes_are_refused(width: int, height: int, reason: ImageRejection) -> None:
    assert _reason(_encode(".png", _pixels(width, height))) == reason


def test_a_side_by_side_frontal_and_profile_is_accepted() -> None:
    # Two 4:5 photos side by side make an 8:5 image; such composites are real booking photos.
    assert mugshot_validate(data=_encode(".jpg", _pixels(320, 200))).width == 320


@pytest.mark.parametrize("extension", [".jpg", ".png"])
def test_damaged_bytes_only_ever_give_a_reason_or_an_image(extension: str) -> None:
    # Seeded random damage: whatever Pillow raises inside must come out as ImageRejectedError.
    rng = np.random.default_rng(7)
    original = _encode(extension, _pixels(120, 150))
    outcomes: set[str] = set()
    for _ in range(60):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, 400))] = int(rng.integers(0, 256))
        data = data[: int(rng.integers(len(data) // 2, len(data) + 1))]
        try:
            outcomes.add(mugshot_validate(data=bytes(data)).format)
        except ImageRejectedError as error:
            outcomes.add(error.reason)

    assert outcomes <= {*ImageRejection, "jpeg", "png"}
    assert ImageRejection.TRUNCATED in outcomes


@pytest.mark.parametrize(
    ("label", "pose"),
    [
        ("F", Pose.FRONTAL),
        ("l", Pose.LEFT_PROFILE),
        (" R ", Pose.RIGHT_PROFILE),
        ("A", Pose.UNKNOWN),
        ("Left Profile", Pose.LEFT_PROFILE),
        ("", Pose.UNKNOWN),
        (None, Pose.UNKNOWN),
        ("sideways", Pose.UNKNOWN),
    ],
)
def test_pose_labels_map_to_poses(label: str | None, pose: Pose) -> None:
    assert mugshot_pose_from_label(label=label) == pose


@pytest.fixture
def booking(db) -> Booking:
    person = Person.objects.create(source="test", source_key="p1", last_name="Doe")
    return Booking.objects.create(
        person=person, source="test", source_key="b1", booking_number="B-1"
    )


@pytest.mark.django_db
def test_store_keeps_the_original_bytes_under_their_hash(booking: Booking) -> None:
    data = _encode(".jpg", _pixels(120, 150, seed=1))
    digest = hashlib.sha256(data).hexdigest()
    captured = datetime(2024, 5, 1, 13, 45, tzinfo=UTC)

    mugshot = mugshot_store(booking=booking, data=data, pose="F", captured_at=captured)

    mugshot.refresh_from_db()
    assert mugshot.image.name == f"mugshots/{digest[:2]}/{digest}"
    with default_storage.open(mugshot.image.name, "rb") as stored:
        assert stored.read() == data
    assert (mugshot.sha256, mugshot.size_bytes) == (digest, len(data))
    assert (mugshot.width, mugshot.height, mugshot.image_format) == (120, 150, "jpeg")
    assert (mugshot.pose, mugshot.captured_at, mugshot.synthetic) == (
        Pose.FRONTAL,
        captured,
        False,
    )


@pytest.mark.django_db
def test_store_is_idempotent_per_booking_and_shares_bytes_across_bookings(
    booking: Booking,
) -> None:
    data = _encode(".png", _pixels(100, 125, seed=2))
    other = Booking.objects.create(
        person=booking.person, source="test", source_key="b2", booking_number="B-2"
    )

    first = mugshot_store(booking=booking, data=data)
    again = mugshot_store(booking=booking, data=data, pose="left_profile")
    elsewhere = mugshot_store(booking=other, data=data, synthetic=True)

    assert again.pk == first.pk
    assert again.pose == Pose.UNKNOWN  # the first store wins; a re-import changes nothing
    assert Mugshot.objects.filter(booking=booking).count() == 1
    assert elsewhere.pk != first.pk
    assert elsewhere.synthetic
    assert elsewhere.image.name == first.image.name
    directory = f"mugshots/{first.sha256[:2]}"
    assert default_storage.listdir(directory)[1].count(first.sha256) == 1


@pytest.mark.django_db
def test_store_refuses_a_bad_image_and_keeps_nothing(booking: Booking) -> None:
    data = _encode(".jpg", _pixels(120, 150, seed=3))[:-400]

    with pytest.raises(ImageRejectedError) as caught:
        mugshot_store(booking=booking, data=data)

    assert caught.value.reason == ImageRejection.TRUNCATED
    assert not Mugshot.objects.exists()
    digest = hashlib.sha256(data).hexdigest()
    assert not default_storage.exists(f"mugshots/{digest[:2]}/{digest}")
