"""The checks every photo passes before anything else reads it: a mugshot being imported and a probe being
searched alike.

Why so strict: photos arrive from vendors, livescan exports, inline base64 in NIEM messages and investigators'
uploads, and a file name or a declared format is only a claim. An image that cannot be fully decoded is
useless to face matching and may be hostile (a decompression bomb declares a huge canvas in a few hundred
bytes), so the checks run cheapest first and the pixel limit is enforced from the header, before any pixel is
decoded. A cut-short file is refused even though viewers would show its top half (OpenCV fills the missing
rows with grey): a half face matches the wrong person. That includes a JPEG cut short and then closed with an
end-of-image marker (as some "repair" tools and resumed uploads leave it), which Pillow and OpenCV both decode
without an error: libjpeg only warns, and neither lets the warning through.

One set of rules, one function (`image_check`), with the limits as plain values (`ImageLimits`), so the gateway
sets them once from its settings for both paths.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import zlib

from PIL import Image, UnidentifiedImageError

from matching.exceptions import ImageRejectedError
from matching.types import CheckedImage, ImageLimits, ImageRejection

__all__ = ["image_check"]

# The formats booking systems actually produce for mugshots (ANSI/NIST Type-10 CGA JPEGB/JPEGL/PNG/JP2).
_ACCEPTED_FORMATS = ("JPEG", "PNG", "JPEG2000")
_FORMAT_NAMES = {"JPEG": "jpeg", "PNG": "png", "JPEG2000": "jp2"}

# Magic numbers of other image formats, so a GIF or TIFF is reported as "unsupported" rather than "not an
# image": the sender should convert it, not wonder what the file was.
_OTHER_IMAGE_MAGIC = {
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"RIFF": "WEBP",
}
_ACCEPTED_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000 file (JP2)
    b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
)
_PNG_IEND = b"IEND\xaeB`\x82"  # the IEND chunk type followed by its fixed CRC
_JPEG_EOI = b"\xff\xd9"
# In a JPEG scan's entropy-coded data, 0xFF is followed only by a stuffed 0x00 or a restart marker; any other
# byte after it starts the marker that ends the scan.
_JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# The markers with a length that libjpeg reads: frame headers, tables, scans, restart interval, DNL,
# application segments and comments. Any other (reserved, hierarchical, JPEG-LS) stops it with an error.
_JPEG_SEGMENTS = frozenset(
    {*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD, *range(0xE0, 0xF0), 0xFE} - {0xC8}
)
# Arbitrary bytes put where the last scan ends (see _jpeg_self_contained). No 0xFF, so they cannot end the
# scan; the first bit is 1, where libjpeg's stand-in for missing data is all 0 bits, so a scan that reads
# them decodes differently from one that hit the marker.
_SCAN_PADDING = bytes(
    min(b, 0xFE) for b in b"\x80" + hashlib.shake_256(b"custodian: not image data").digest(4095)
)


def image_check(*, data: bytes, limits: ImageLimits, decode: bool = True) -> CheckedImage:
    """Check `data` against `limits` and return its real format and size, or raise ImageRejectedError.

    Order: byte size (cheap), then the header (format, width, height) and the pixel limit, then the
    dimensions, the end marker, and only then, with `decode`, a full decode with Pillow (twice for a JPEG, to
    tell a whole one from one cut short and closed: `_jpeg_self_contained`). `decode=False` skips the
    decode, and with it the checks only a decode can make: a JPEG cut short and closed, a PNG missing whole
    IDAT chunks, damaged pixels. Another decoder does not make up for them all (OpenCV decodes the cut and
    closed JPEG without an error), so the face pipeline decodes here too before OpenCV does.
    """
    if not data:
        raise ImageRejectedError("The image is empty.", reason=ImageRejection.EMPTY)
    if len(data) > limits.max_bytes:
        raise ImageRejectedError(
            f"The image is {len(data)} bytes; the limit is {limits.max_bytes}.",
            reason=ImageRejection.TOO_LARGE,
            extra={"size": len(data), "limit": limits.max_bytes},
        )
    image_format, width, height = _header_read(data=data, limits=limits)
    _dimensions_check(width=width, height=height, limits=limits)
    # Only JPEG and PNG must end on their end marker: a JP2 file may carry metadata boxes after its codestream.
    if image_format == "JPEG":
        _jpeg_scan_end(data)  # raises unless the segments lead to an end-of-image marker
    elif image_format == "PNG" and not _ends_properly(data=data):
        raise ImageRejectedError(
            f"The {image_format} image ends before its end marker (the file was cut short).",
            reason=ImageRejection.TRUNCATED,
        )
    if decode:
        _decode_fully(data=data, image_format=image_format)
    return CheckedImage(format=_FORMAT_NAMES[image_format], width=width, height=height)


def _header_read(*, data: bytes, limits: ImageLimits) -> tuple[str, int, int]:
    """Identify the format from the bytes and read the declared size without decoding pixels."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its own limit, raises) on huge canvases; both mean a bomb here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS) as image:
                # Pillow opens a multi-picture JPEG (MPO, from some cameras) as "MPO"; it is a JPEG.
                image_format = "JPEG" if image.format == "MPO" else str(image.format)
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejectedError(
            "The image declares more pixels than allowed (a decompression bomb).",
            reason=ImageRejection.TOO_MANY_PIXELS,
            extra={"limit": limits.max_pixels},
        ) from error
    except UnidentifiedImageError as error:
        raise _unidentified(data) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejectedError(
            f"The image header is damaged: {error}.", reason=ImageRejection.CORRUPT
        ) from error
    if width * height > limits.max_pixels:
        raise ImageRejectedError(
            f"The image declares {width} x {height} pixels; the limit is {limits.max_pixels} pixels.",
            reason=ImageRejection.TOO_MANY_PIXELS,
            extra={"width": width, "height": height, "limit": limits.max_pixels},
        )
    return image_format, width, height


def _unidentified(data: bytes) -> ImageRejectedError:
    for magic, name in _OTHER_IMAGE_MAGIC.items():
        if data.startswith(magic):
            return ImageRejectedError(
                f"{name} images are not accepted; send JPEG, PNG or JPEG 2000.",
                reason=ImageRejection.UNSUPPORTED_FORMAT,
                extra={"format": name},
            )
    if data.startswith(_ACCEPTED_MAGIC):
        return ImageRejectedError(
            "The data starts like a JPEG, PNG or JPEG 2000 image but its header is damaged.",
            reason=ImageRejection.CORRUPT,
        )
    return ImageRejectedError(
        "The data is not a JPEG, PNG or JPEG 2000 image.", reason=ImageRejection.NOT_AN_IMAGE
    )


def _dimensions_check(*, width: int, height: int, limits: ImageLimits) -> None:
    figures = {"width": width, "height": height}
    if min(width, height) < limits.min_side:
        raise ImageRejectedError(
            f"The image is {width} x {height} pixels, too small for a face photo "
            f"(at least {limits.min_side} on each side).",
            reason=ImageRejection.TOO_SMALL,
            extra={**figures, "min_side": limits.min_side},
        )
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise ImageRejectedError(
            f"The image is {width} x {height} pixels, an aspect ratio no booking photo has.",
            reason=ImageRejection.ABSURD_ASPECT_RATIO,
            extra={**figures, "max_aspect": limits.max_aspect},
        )


def _ends_properly(*, data: bytes) -> bool:
    """Whether a PNG's IEND chunk is within its last 64 bytes (a little padding is tolerated).

    A JPEG's end is found by walking its segments from the start instead (`_jpeg_scan_end`), so neither an
    EXIF thumbnail inside a segment nor whatever follows the image (vendor trailers, a second picture) can
    stand in for its end marker or hide it.
    """
    return _PNG_IEND in data[-64:]


def _decode_fully(*, data: bytes, image_format: str) -> None:
    """Decode every pixel (and, for PNG, check the chunk CRCs, which decoding does not).

    Pillow refuses a short read unless ImageFile.LOAD_TRUNCATED_IMAGES is set, but that is a process-wide
    switch another library may flip, hence the end-marker check before this.
    """
    try:
        with Image.open(io.BytesIO(data), formats=(image_format,)) as image:
            if image_format == "PNG":
                image.verify()
        if image_format == "PNG" and not _png_rows_complete(data):
            raise ImageRejectedError(
                "The PNG image data stops before its last row (the file was cut short and closed).",
                reason=ImageRejection.TRUNCATED,
            )
        if image_format != "JPEG":
            with Image.open(io.BytesIO(data), formats=(image_format,)) as image:
                image.load()
            return
        pixels = _jpeg_pixels_digest(data)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # JPEG 2000's end-of-codestream marker is JPEG's EOI; a JP2 file may carry boxes after it, so it is
        # looked for near the end. Without it, a failed decode is a cut-short file rather than a damaged one.
        cut = image_format == "JPEG2000" and _JPEG_EOI not in data[2:][-1024:]
        truncated = cut or "truncated" in str(error).lower() or isinstance(error, EOFError)
        raise ImageRejectedError(
            f"The image could not be decoded completely: {error}.",
            reason=ImageRejection.TRUNCATED if truncated else ImageRejection.CORRUPT,
        ) from error
    _jpeg_self_contained(data=data, pixels=pixels)


# Channels per PNG colour type (grey, RGB, palette, grey + alpha, RGBA) and the Adam7 passes (x0, y0, dx, dy).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _png_rows_complete(data: bytes) -> bool:
    """Whether the IDAT chunks inflate to every row the header declares.

    A PNG cut between two IDAT chunks and closed with an IEND chunk has whole chunks and good CRCs. Pillow
    notices the missing rows only while ImageFile.LOAD_TRUNCATED_IMAGES is off, a process-wide switch any
    library may turn on; this count does not depend on it. Inflating stops at the declared size, so a
    stream that would expand further costs nothing more.
    """
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, colour, interlaced = data[24], data[25], data[28] == 1
    if colour not in _PNG_CHANNELS:
        return True  # not a PNG Pillow could open; it has refused it already
    bits = depth * _PNG_CHANNELS[colour]
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    expected = 0
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            expected += rows * (
                1 + -(-(columns * bits) // 8)
            )  # a filter byte, then the packed pixels
    inflater, produced, position = zlib.decompressobj(), 0, 8
    while produced < expected and position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IEND":
            break
        if kind == b"IDAT":
            pending = data[position + 8 : position + 8 + size]
            while pending and produced < expected:
                try:
                    produced += len(inflater.decompress(pending, min(expected - produced, 1 << 20)))
                except zlib.error as error:
                    raise ImageRejectedError(
                        f"The PNG image data is damaged: {error}.", reason=ImageRejection.CORRUPT
                    ) from error
                pending = inflater.unconsumed_tail
        position += 12 + size
    return produced >= expected


def _jpeg_pixels_digest(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
        image.load()
        digest = hashlib.blake2b(f"{image.mode} {image.size}".encode(), digest_size=32)
        digest.update(image.tobytes())
        return digest.digest()


def _jpeg_self_contained(*, data: bytes, pixels: bytes) -> None:
    """Refuse a JPEG whose last scan ends before its last block, even though an end marker follows.

    libjpeg decodes such a file without an error: at the marker it pretends the rest of the scan is zeros
    (grey blocks) and only warns, and neither Pillow nor OpenCV lets the warning through. A whole scan never
    reads past its last block, so junk put where the scan ends is skipped and the pixels come out the same;
    a cut scan decodes the junk as its missing blocks and they change. The cost is a second decode.
    """
    end = _jpeg_scan_end(data)
    padded = data[:end] + _SCAN_PADDING + data[end:]
    try:
        if _jpeg_pixels_digest(padded) == pixels:
            return
    except (OSError, SyntaxError, ValueError, EOFError):
        pass  # the junk was read as image data, and libjpeg gave up on it
    raise ImageRejectedError(
        "The JPEG image's data stops before its last pixels, though an end marker follows "
        "(the file was cut short and closed).",
        reason=ImageRejection.TRUNCATED,
    )


def _jpeg_scan_end(data: bytes) -> int:
    """Offset of the marker that ends the last scan of the (first) image, found by walking its segments.

    Bytes between segments are skipped as libjpeg skips them; a marker number libjpeg does not know is
    damage, as it is to libjpeg. Raises ImageRejectedError when the data ends before an end-of-image
    marker after a scan (truncated) or the segments make no sense (corrupt).
    """
    position, scan_end = 2, None
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            raise _jpeg_cut()
        marker = data[position + 1]
        if marker == 0xD9:
            if scan_end is None:
                raise ImageRejectedError(
                    "The JPEG image ends without any image data.", reason=ImageRejection.CORRUPT
                )
            return scan_end
        if marker in (0xFF, 0x00, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 1  # a fill byte, a stray byte, or a marker without a length
            continue
        if marker not in _JPEG_SEGMENTS:
            raise ImageRejectedError(
                f"The JPEG image has a bogus marker (0xFF{marker:02X}) at byte {position}.",
                reason=ImageRejection.CORRUPT,
            )
        if position + 4 > len(data):
            raise _jpeg_cut()
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: its entropy-coded data follows the header
            found = _JPEG_SCAN_END.search(data, position)
            if found is None:
                raise _jpeg_cut()
            position = scan_end = found.start()


def _jpeg_cut() -> ImageRejectedError:
    return ImageRejectedError(
        "The JPEG image ends before its end marker (the file was cut short).",
        reason=ImageRejection.TRUNCATED,
    )
