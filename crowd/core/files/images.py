"""Images from clients: recognised by their content, re-encoded clean, and made small.

Re-encoding decodes the pixels and writes a new file: EXIF (GPS position, camera serial),
XMP, ICC and text chunks are left behind, after the EXIF orientation has been applied to the
pixels (a photo taken upright stays upright without its EXIF).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format → our content type and extension. JPEG, PNG and WebP: what phones send.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
IMAGE_TYPES = tuple(content_type for content_type, _ in FORMATS.values())
# A decompression bomb: a small file of huge dimensions. 40 megapixels is more than any phone.
MAX_PIXELS = 40_000_000
THUMBNAIL_PX = 256


class NotAnImage(Exception):
    """The bytes are no JPEG, PNG or WebP image we can decode."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise NotAnImage(str(error)) from None
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88)
    return out.getvalue()


def _pixels_only(image: Image.Image) -> Image.Image:
    """The image upright, in a mode its format can write, with no metadata attached."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if "transparency" in image.info else "RGB")
    # A fresh image from the pixels: nothing of the original's info dict travels along.
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    return clean


def clean_image(data: bytes) -> CleanImage:
    """The image re-encoded in its own format without metadata; NotAnImage for anything else."""
    image = _open(data)
    fmt = image.format
    content_type, extension = FORMATS[fmt]
    try:
        clean = _pixels_only(image)
        encoded = _encode(clean, fmt)
    except (OSError, ValueError) as error:
        raise NotAnImage(str(error)) from None
    return CleanImage(encoded, content_type, extension, clean.width, clean.height)


def thumbnail(data: bytes) -> bytes:
    """A JPEG at most THUMBNAIL_PX on its longer side, of an image we cleaned before."""
    image = _open(data)
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    flat = image.convert("RGBA")
    background = Image.new("RGB", flat.size, (255, 255, 255))
    background.paste(flat, mask=flat.getchannel("A"))
    out = io.BytesIO()
    background.save(out, "JPEG", quality=85)
    return out.getvalue()
