"""The photo pipeline: accepted by content, bounded, upright, small, and stripped of metadata."""

import io

import pytest
from PIL import Image

from app import images
from app.images import ImageError, check_signature, profile_photo, profile_photo_limited
from devenv import pictures


def decoded(photo):
    """Open a processed photo as a browser would."""
    return Image.open(io.BytesIO(photo.data))


@pytest.mark.parametrize(
    "data", [pictures.jpeg(), pictures.png(), pictures.webp()], ids=["jpeg", "png", "webp"]
)
def test_jpeg_png_and_webp_become_a_webp_of_the_same_picture(data):
    photo = profile_photo(data)
    assert (photo.content_type, photo.extension) == ("image/webp", "webp")
    image = decoded(photo)
    assert image.format == "WEBP"
    assert image.size == (512, 256)
    top, bottom = image.getpixel((256, 10)), image.getpixel((256, 245))
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue


@pytest.mark.parametrize(
    ("size", "fitted"),
    [((4000, 3000), (512, 384)), ((1000, 3000), (171, 512)), ((2048, 2048), (512, 512))],
)
def test_large_photos_fit_in_512_square_keeping_their_aspect(size, fitted):
    assert decoded(profile_photo(pictures.jpeg(size))).size == fitted


def test_exif_orientation_is_applied_to_the_pixels():
    # Orientation 6: the camera was turned, the picture must be rotated 90 degrees clockwise.
    image = decoded(profile_photo(pictures.phone_jpeg(orientation=6)))
    assert image.size == (256, 512)
    left, right = image.getpixel((10, 256)), image.getpixel((245, 256))
    assert left[2] > 200 and right[0] > 200  # the blue bottom is now on the left


def test_gps_camera_model_comment_and_xmp_are_all_removed():
    data = pictures.phone_jpeg()
    assert pictures.SECRET_COMMENT in data and pictures.SECRET_MODEL.encode() in data
    photo = profile_photo(data)
    assert pictures.webp_chunks(photo.data) in (["VP8 "], ["VP8L"])  # pixels and nothing else
    assert pictures.SECRET_COMMENT not in photo.data
    assert pictures.SECRET_MODEL.encode() not in photo.data
    image = decoded(photo)
    assert not image.getexif() and not {"exif", "xmp", "comment", "icc_profile"} & image.info.keys()


def test_small_photos_keep_their_size():
    assert decoded(profile_photo(pictures.png((200, 100)))).size == (200, 100)


def test_transparency_of_a_png_survives():
    picture = Image.new("RGBA", (100, 100), "red")
    picture.paste((0, 0, 0, 0), (0, 0, 50, 100))
    image = decoded(profile_photo(pictures.saved_as(picture, "PNG")))
    assert image.mode == "RGBA"
    assert image.getpixel((10, 50))[3] == 0 and image.getpixel((90, 50))[3] == 255


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
@pytest.mark.parametrize("size", [(3001, 2003), (700, 3000)])
def test_a_big_transparent_picture_is_fitted_by_strips_as_pillow_fits_it(mode, size):
    """Reduced a strip at a time (so no second copy of the whole picture), pixel for pixel."""
    noise = Image.effect_noise((size[0] // 10, size[1] // 10), 60)
    bands = [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, noise]
    picture = Image.merge("RGBA", bands).resize(size, Image.Resampling.BICUBIC).convert(mode)
    expected = picture.copy()
    expected.thumbnail((images.MAX_SIDE,) * 2, Image.Resampling.LANCZOS, images.REDUCING_GAP)
    fitted = images.fitted_by_strips(picture)
    assert fitted.mode == mode and fitted.size == expected.size
    assert fitted.tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"just some text, not a picture\n", "not a photo we can use"),
        (b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>", "not a photo"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>",
            "not a photo we can use",
        ),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a photo we can use"),
        (pictures.saved_as(Image.new("RGB", (10, 10)), "GIF"), "not a photo we can use"),
        (pictures.jpeg()[:600], "damaged or incomplete"),
        (pictures.png((900, 600))[:900], "damaged or incomplete"),
        (pictures.bomb_png(), "too large: at most 40 megapixels"),
        (pictures.bomb_png(7_000), "too large: at most 40 megapixels"),
    ],
    ids=[
        "empty",
        "text",
        "html",
        "svg",
        "garbage-after-png-header",
        "gif",
        "truncated-jpeg",
        "truncated-png",
        "400-megapixel-png",
        "49-megapixel-png",
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_anything_but_a_usable_photo_is_refused_with_a_reason(data, message):
    with pytest.raises(ImageError, match=message):
        profile_photo(data)


# --- What the web process checks, and the limits of the job that decodes --------------------


@pytest.mark.parametrize(
    ("data", "format_"),
    [(pictures.jpeg(), "JPEG"), (pictures.png(), "PNG"), (pictures.webp(), "WEBP")],
    ids=["jpeg", "png", "webp"],
)
def test_the_signature_names_the_format_without_decoding(data, format_):
    assert check_signature(data) == format_
    assert check_signature(data[:16]) == format_  # the first bytes are all it reads


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"GIF89a" + bytes(100), "not a photo we can use"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a photo we can use"),
        (b"RIFF\0\0\0\0WAVEfmt ", "not a photo we can use"),
    ],
    ids=["empty", "gif", "svg", "wav"],
)
def test_a_file_without_a_photo_signature_is_refused_at_once(data, message):
    with pytest.raises(ImageError, match=message):
        check_signature(data)


def test_the_limited_pipeline_makes_the_same_photo_in_a_child_process():
    data = pictures.phone_jpeg()
    photo = profile_photo_limited(data)
    assert photo.content_type == "image/webp"
    assert decoded(photo).size == decoded(profile_photo(data)).size


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pictures.many_scans_jpeg(), images.TOO_EXPENSIVE),
        (pictures.bomb_png(6_000), images.TOO_EXPENSIVE),
        (pictures.bomb_png(), "too large: at most 40 megapixels"),
        (pictures.jpeg()[:600], "damaged or incomplete"),
    ],
    ids=["200-progressive-scans", "36-megapixels-in-a-few-kb", "bomb", "truncated"],
)
def test_costly_or_broken_images_are_refused_by_the_child_with_a_reason(data, message):
    with pytest.raises(ImageError, match=message):
        profile_photo_limited(data)


def test_a_jpeg_with_many_scans_is_refused_from_its_markers():
    assert images.jpeg_scans(pictures.jpeg(progressive=True)) == 10  # what libjpeg writes
    assert images.jpeg_scans(pictures.jpeg()) == 1
    assert images.jpeg_scans(pictures.many_scans_jpeg()) > images.MAX_JPEG_SCANS


def test_a_decode_past_the_memory_limit_is_refused(monkeypatch):
    big = pictures.png((6_000, 6_000))  # 36 megapixels: about 110 MB once decoded
    monkeypatch.setattr(images, "DECODE_MEMORY_BYTES", 120 * 1024 * 1024)
    with pytest.raises(ImageError, match="too long or too much memory"):
        profile_photo_limited(big)


def test_a_decode_past_the_time_limit_is_refused(monkeypatch):
    monkeypatch.setattr(images, "DECODE_WALL_SECONDS", 0.001)
    with pytest.raises(ImageError, match="too long or too much memory"):
        profile_photo_limited(pictures.jpeg())
