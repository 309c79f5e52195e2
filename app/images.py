"""The profile photo pipeline: the only module that imports Pillow.

An upload is accepted by its content (JPEG, PNG or WebP, whatever its name or
Content-Type says), refused when it has too many pixels before a single one is
decoded, then fitted into 512x512, turned upright, converted to sRGB and
re-encoded as WebP from its pixels alone, so no metadata of the upload survives.
"""

import struct
from io import BytesIO
from typing import NamedTuple

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 40_000_000
MAX_SIDE = 512
# WebP over JPEG: about a third smaller at the same quality, and PNG transparency survives.
OUTPUT_FORMAT, OUTPUT_TYPE, OUTPUT_EXTENSION = "WEBP", "image/webp", "webp"
OUTPUT_QUALITY = 80

# Pillow checks its own limit as it opens a file but below twice the limit only warns;
# ours is checked first, and set as Pillow's so its check backs ours up.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Pillow has no single error for a damaged file: these are what its decoders raise.
DAMAGED_FILE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

EMPTY = "The file is empty. Choose a photo to upload."
NOT_AN_IMAGE = "This file is not a photo we can use. Upload a JPEG, PNG or WebP image."
TOO_MANY_PIXELS = f"This image is too large: at most {MAX_PIXELS // 1_000_000} megapixels."
DAMAGED = "This image is damaged or incomplete. Please choose another file."


class ImageError(Exception):
    """The upload is not a usable photo; the message tells the user why."""


class ProcessedImage(NamedTuple):
    """A photo ready to store: its bytes, their content type and a file extension."""

    data: bytes
    content_type: str
    extension: str


def profile_photo(data):
    """Return the upload `data` as a clean profile photo, or raise ImageError."""
    image = open_checked(data)
    try:
        # Resizing first lets a JPEG be decoded at 1/2 to 1/8 scale (draft), and leaves
        # only the small picture to turn upright. The square box fits either way up.
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=1.5)
        ImageOps.exif_transpose(image, in_place=True)
    except DAMAGED_FILE_ERRORS:
        raise ImageError(DAMAGED) from None
    return encode_pixels_only(to_srgb(image))


def open_checked(data):
    """Open `data` if it is an undamaged JPEG, PNG or WebP of bounded size; decode nothing."""
    if not data:
        raise ImageError(EMPTY)
    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageError(TOO_MANY_PIXELS)
            probe.verify()
        return Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise ImageError(TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise ImageError(NOT_AN_IMAGE) from None
    except DAMAGED_FILE_ERRORS:
        raise ImageError(DAMAGED) from None


def to_srgb(image):
    """Return `image` as sRGB pixels (RGBA if it has transparency), through its ICC profile."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(profile))
            return ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, ValueError, OSError):
            pass  # an unusable profile: the pixels are most likely sRGB already
    return image.convert(mode)


def encode_pixels_only(image):
    """Encode `image` from its pixels alone, so no EXIF, XMP, comment or profile comes along."""
    pixels_only = Image.frombytes(image.mode, image.size, image.tobytes())
    output = BytesIO()
    pixels_only.save(output, OUTPUT_FORMAT, quality=OUTPUT_QUALITY)
    return ProcessedImage(output.getvalue(), OUTPUT_TYPE, OUTPUT_EXTENSION)
