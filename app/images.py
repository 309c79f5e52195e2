"""The profile photo pipeline: the only module that imports Pillow, and only when it decodes.

The web process only looks at an upload's first bytes (`check_signature`): JPEG, PNG or
WebP, whatever its name or Content-Type says. Decoding happens in a worker job, in a child
process under hard limits on CPU time, memory and wall-clock time (`profile_photo_limited`).
There an image is refused from its headers before a pixel is decoded when it has too many
pixels, too many pixels for its file size, or (a JPEG) too many progressive scans: files
that are cheap to send and expensive to decode. Then it is fitted into 512x512, turned
upright, converted to sRGB and re-encoded as WebP from its pixels alone, so no metadata of
the upload survives. Pillow is imported by the functions that decode, never at the top: the
web, which checks signatures, does not load it (tests/test_layout.py).
"""

import math
import resource
import struct
import subprocess
import sys
from functools import cache
from io import BytesIO
from typing import NamedTuple

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
MAX_PIXELS = 40_000_000
# A photo of millions of pixels takes at least a few hundredths of a byte per pixel;
# far fewer is a flat picture blown up to cost decoding time and memory.
MIN_PIXELS_CHECKED_FOR_SIZE = 4_000_000
MAX_PIXELS_PER_BYTE = 1_000
# libjpeg writes 10 scans for a progressive photo; each scan decodes the whole picture again.
MAX_JPEG_SCANS = 32
# The child that decodes one upload: CPU seconds, address space, and wall-clock seconds.
DECODE_CPU_SECONDS = 10
DECODE_MEMORY_BYTES = 768 * 1024 * 1024
DECODE_WALL_SECONDS = 20
MAX_SIDE = 512
# A big picture is first shrunk by a whole factor (a box filter), to within this much of its
# final size, then resized with Lanczos: Pillow's `reducing_gap`.
REDUCING_GAP = 1.5
STRIP_ROWS = 256  # a transparent picture is reduced this many rows at a time
# WebP over JPEG: about a third smaller at the same quality, and PNG transparency survives.
OUTPUT_FORMAT, OUTPUT_TYPE, OUTPUT_EXTENSION = "WEBP", "image/webp", "webp"
OUTPUT_QUALITY = 80

# Pillow has no single error for a damaged file: these are what its decoders raise.
DAMAGED_FILE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@cache
def srgb():
    """Return the sRGB profile photos are converted to (made once per process)."""
    from PIL import ImageCms  # decoding only: the web never loads Pillow

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def N_(message):  # noqa: N802  (the usual name of gettext's no-op marker)
    """Mark `message` for translation (pybabel -k N_): this file also runs alone, as a child."""
    return message


# Why a photo was refused, in English as a job stores it; pages translate it (mypage/photos.py).
EMPTY = N_("The file is empty. Choose a photo to upload.")
NOT_AN_IMAGE = N_("This file is not a photo we can use. Upload a JPEG, PNG or WebP image.")
TOO_MANY_PIXELS_TEMPLATE = N_("This image is too large: at most %(megapixels)s megapixels.")
TOO_MANY_PIXELS = TOO_MANY_PIXELS_TEMPLATE % {"megapixels": MAX_PIXELS // 1_000_000}
DAMAGED = N_("This image is damaged or incomplete. Please choose another file.")
TOO_EXPENSIVE = N_(
    "This image would take too long or too much memory to process. "
    "Please upload a smaller or simpler photo."
)
REFUSALS = (EMPTY, NOT_AN_IMAGE, TOO_MANY_PIXELS_TEMPLATE, DAMAGED, TOO_EXPENSIVE)
EXIT_REFUSED = 3  # the child refused the image; the message is on its stderr


class ImageError(Exception):
    """The upload is not a usable photo; the message tells the user why."""


class ProcessedImage(NamedTuple):
    """A photo ready to store: its bytes, their content type and a file extension."""

    data: bytes
    content_type: str
    extension: str


def profile_photo(data):
    """Return the upload `data` as a clean profile photo, or raise ImageError."""
    from PIL import Image, ImageOps  # decoding only: the web never loads Pillow

    image = open_checked(data)
    try:
        image = fitted_by_strips(image)
        # Resizing first lets a JPEG be decoded at 1/2 to 1/8 scale (draft), and leaves
        # only the small picture to turn upright. The square box fits either way up.
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
        ImageOps.exif_transpose(image, in_place=True)
    except DAMAGED_FILE_ERRORS:
        raise ImageError(DAMAGED) from None
    return encode_pixels_only(to_srgb(image))


def fitted_size(width, height):
    """Return the size `thumbnail` fits a picture into MAX_SIDE square (Pillow 13's rounding),
    or None for a picture that fits already."""
    if width <= MAX_SIDE and height <= MAX_SIDE:
        return None
    aspect = width / height
    if aspect <= 1:
        fitted = height and (width * MAX_SIDE / height)
        x = max(
            min(math.floor(fitted), math.ceil(fitted), key=lambda n: abs(aspect - n / MAX_SIDE)), 1
        )
        return x, MAX_SIDE
    fitted = MAX_SIDE / aspect
    key = lambda n: 0 if n == 0 else abs(aspect - MAX_SIDE / n)  # noqa: E731
    return MAX_SIDE, max(min(math.floor(fitted), math.ceil(fitted), key=key), 1)


def fitted_by_strips(image):
    """Return a big picture with transparency fitted as `thumbnail` fits it, reduced a strip of
    rows at a time; any other picture as it is (`thumbnail` then fits it).

    Pillow premultiplies an RGBA or LA picture before reducing it, in a copy of the whole
    picture: 160 MB more for 40 megapixels, and a worker with its decoding child peaked at
    424 MB on such a PNG (bench/photo_peak.py; 290 MB by strips). The strips start at
    multiples of the factor, so the reduced pixels are those of one reduce, and the resize
    after it takes the same box as Pillow's `resize(..., reducing_gap=...)`.
    """
    from PIL import Image  # decoding only: the web never loads Pillow

    width, height = image.size
    size = fitted_size(width, height)
    if image.mode not in ("RGBA", "LA") or size is None:
        return image
    factor_x = int(width / size[0] / REDUCING_GAP) or 1
    factor_y = int(height / size[1] / REDUCING_GAP) or 1
    if factor_x == factor_y == 1:
        return image
    premultiplied = {"RGBA": "RGBa", "LA": "La"}[image.mode]  # as Pillow reduces and resizes
    small = Image.new(premultiplied, (-(-width // factor_x), -(-height // factor_y)))
    rows = factor_y * max(1, STRIP_ROWS // factor_y)
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows))).convert(premultiplied)
        small.paste(strip.reduce((factor_x, factor_y)), (0, top // factor_y))
    box = (0, 0, width / factor_x, height / factor_y)
    fitted = small.resize(size, Image.Resampling.LANCZOS, box=box).convert(image.mode)
    fitted.info = image.info  # the ICC profile and the EXIF orientation still apply
    return fitted


def check_signature(data):
    """Return the format an upload's first bytes announce, or raise ImageError; decode nothing."""
    if not data:
        raise ImageError(EMPTY)
    for signature, format_ in SIGNATURES.items():
        if data.startswith(signature):
            return format_
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ImageError(NOT_AN_IMAGE)


def jpeg_scans(data, limit=MAX_JPEG_SCANS):
    """Count a JPEG's scans (SOS markers) by walking its segments, stopping past `limit`."""
    position, scans = 2, 0
    while position + 4 <= len(data) and scans <= limit:
        if data[position] != 0xFF:
            break  # not a marker: damaged, which the decoder will say
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:
            scans += 1
            position = end_of_entropy_data(data, position)
    return scans


def end_of_entropy_data(data, position):
    """Return where the marker after a scan's coded data starts (0xFF00 and RSTn are data)."""
    while (position := data.find(b"\xff", position)) != -1 and position + 1 < len(data):
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1
            continue
        return position
    return len(data)


def check_cost(probe, data):
    """Refuse, from the headers alone, an image too costly to decode for what it is."""
    pixels = probe.width * probe.height
    if pixels > MAX_PIXELS:
        raise ImageError(TOO_MANY_PIXELS)
    if pixels >= MIN_PIXELS_CHECKED_FOR_SIZE and pixels > MAX_PIXELS_PER_BYTE * len(data):
        raise ImageError(TOO_EXPENSIVE)
    if probe.format == "JPEG" and jpeg_scans(data) > MAX_JPEG_SCANS:
        raise ImageError(TOO_EXPENSIVE)


def open_checked(data):
    """Open `data` if it is an undamaged JPEG, PNG or WebP of bounded cost; decode nothing."""
    from PIL import Image, UnidentifiedImageError  # decoding only: the web never loads Pillow

    # Pillow checks its own limit as it opens a file but below twice the limit only warns;
    # ours is checked first, and set as Pillow's so its check backs ours up.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    check_signature(data)
    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            check_cost(probe, data)
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
    from PIL import ImageCms  # decoding only: the web never loads Pillow

    mode = "RGBA" if image.has_transparency_data else "RGB"
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(profile))
            return ImageCms.profileToProfile(image, source, srgb(), outputMode=mode)
        except (ImageCms.PyCMSError, ValueError, OSError):
            pass  # an unusable profile: the pixels are most likely sRGB already
    return image.convert(mode)


def encode_pixels_only(image):
    """Encode `image` from its pixels alone, so no EXIF, XMP, comment or profile comes along."""
    from PIL import Image  # decoding only: the web never loads Pillow

    pixels_only = Image.frombytes(image.mode, image.size, image.tobytes())
    output = BytesIO()
    pixels_only.save(output, OUTPUT_FORMAT, quality=OUTPUT_QUALITY)
    return ProcessedImage(output.getvalue(), OUTPUT_TYPE, OUTPUT_EXTENSION)


def profile_photo_limited(data):
    """Return profile_photo(data) made in a child process under CPU, memory and time limits.

    A decoder stuck in libjpeg or zlib cannot be interrupted from Python, and the memory a
    big decode takes is not given back to the system: the child takes both with it.
    """
    try:
        child = subprocess.run(  # noqa: S603  (our own interpreter and file; data on stdin)
            [sys.executable, "-I", "-W", "ignore", __file__, *map(str, decode_limits())],
            input=data,
            capture_output=True,
            timeout=DECODE_WALL_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise ImageError(TOO_EXPENSIVE) from None
    if child.returncode == 0:
        return ProcessedImage(child.stdout, OUTPUT_TYPE, OUTPUT_EXTENSION)
    if child.returncode == EXIT_REFUSED:
        raise ImageError(child.stderr.decode())
    # Killed for its CPU time (SIGXCPU) or out of memory: the image costs too much.
    raise ImageError(TOO_EXPENSIVE)


def decode_limits():
    """Return the child's CPU seconds and address-space bytes (read at call time)."""
    return DECODE_CPU_SECONDS, DECODE_MEMORY_BYTES


def limit_this_process(cpu_seconds, memory_bytes):
    """Cap this process's CPU seconds and address space before it decodes anything."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def child_main(arguments):
    """Read an upload on stdin, write the WebP on stdout; a refusal's message on stderr."""
    limit_this_process(*map(int, arguments))
    try:
        photo = profile_photo(sys.stdin.buffer.read())
    except ImageError as error:
        sys.stderr.write(str(error))
        return EXIT_REFUSED
    except MemoryError:
        return 1
    sys.stdout.buffer.write(photo.data)
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:3]))
