"""Pictures for the photo tests, made on the spot with Pillow."""

import io
import struct
import zlib
from functools import cache

from PIL import ExifTags, Image

SECRET_COMMENT = b"taken at home, 12 Secret Lane"
SECRET_MODEL = "Pixel Secret 9"


def saved_as(image, format_, **options):
    """Return `image` encoded in `format_`."""
    output = io.BytesIO()
    image.save(output, format_, **options)
    return output.getvalue()


def two_tone(size=(600, 300)):
    """Return an image whose top half is red and bottom half blue."""
    image = Image.new("RGB", size, "red")
    image.paste("blue", (0, size[1] // 2, size[0], size[1]))
    return image


def jpeg(size=(600, 300), **options):
    return saved_as(two_tone(size), "JPEG", **options)


def png(size=(600, 300), mode="RGB"):
    return saved_as(two_tone(size).convert(mode), "PNG")


def webp(size=(600, 300)):
    return saved_as(two_tone(size), "WEBP")


def phone_jpeg(orientation=1):
    """Return a JPEG as a phone writes one: GPS position, camera model, comment, XMP."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = SECRET_MODEL
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 30.0),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET_COMMENT + b"</x:xmpmeta>"
    return jpeg(exif=exif, comment=SECRET_COMMENT, xmp=xmp)


@cache  # the test modules' parameters make the same few at collection, in every process
def bomb_png(side=20_000):
    """Return a black PNG of side x side pixels: some 50 KB that would decode to gigabytes.

    Written 500 rows at a time, so making it never holds the pixels in memory.
    """
    row = b"\0" * (1 + (side + 7) // 8)  # filter byte, then 1-bit pixels
    compressor = zlib.compressobj(9)
    rows = (row * min(500, side - start) for start in range(0, side, 500))
    pixels = b"".join(compressor.compress(part) for part in rows) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def webp_chunks(data):
    """Return the chunk ids of a WebP (RIFF) file, e.g. ["VP8 "] or ["VP8X", "EXIF", ...]."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        chunk_id, length = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        chunks.append(chunk_id.decode("ascii"))
        offset += 8 + length + (length & 1)
    return chunks


def many_scans_jpeg(scans=200):
    """Return a small progressive JPEG whose last scan is repeated `scans` times.

    Each scan makes libjpeg decode the whole picture again: a few kilobytes that would
    cost a decoder seconds, which is why such a file is refused from its markers.
    """
    data = jpeg((800, 600), progressive=True)
    last_scan = data[data.rfind(b"\xff\xda") : -2]
    return data[:-2] + last_scan * scans + b"\xff\xd9"
