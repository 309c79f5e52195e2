"""An attachment's name and type: cleaned for display, checked against its bytes, encoded.

A name comes from the browser and is only ever a label: keys are Memo's own. The type an
attachment is served as must agree with its first bytes whenever a browser would show that
type itself (pictures, sound, video, PDF), so nothing is passed off as something else.
"""

import mimetypes
import unicodedata
from email.header import decode_header, make_header
from urllib.parse import quote, unquote

import filetype
from flask_babel import gettext
from werkzeug.utils import secure_filename

from app.i18n.formats import file_kind
from app.models import ATTACHMENT_NAME_MAX_LENGTH as NAME_MAX_LENGTH

EXTENSION_MAX_LENGTH = 16
FALLBACK_NAME = "attachment"
OCTET_STREAM = "application/octet-stream"
# filetype reads at most this many bytes from the start of a file.
SNIFF_BYTES = 262
# Types a browser renders or runs itself; they are never served as such (scripts, markup).
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}
# What the script writes before a name it sends as metadata (RFC 8187's ext-value).
ENCODED_NAME_PREFIX = "utf-8''"


class TypeMismatch(ValueError):
    """A file's first bytes contradict the type its name claims; the message says so."""


def is_hidden_character(char):
    """Return whether a character is a control, format (bidi override, zero-width) or unassigned."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn")


def clean_name(raw):
    """Return a file name safe to store and show: last path segment, no hidden characters.

    Path separators, control characters and bidirectional overrides (which make
    `cod.exe` read as `exe.doc`) are removed, and the name is cut to 255 characters,
    keeping its extension.
    """
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not is_hidden_character(char)).strip(" .")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= EXTENSION_MAX_LENGTH:
            name = f"{stem[: NAME_MAX_LENGTH - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            name = name[:NAME_MAX_LENGTH].rstrip(" .")
    return name


def name_from_metadata(value):
    """Return the file name a browser sent as object metadata, or "" when there is none.

    The script sends `utf-8''<percent-encoded name>`; S3 fills `${filename}` in itself for
    a plain form and answers non-ASCII metadata RFC 2047-encoded. A store that does not
    fill the variable in leaves it as it is: no name then.
    """
    if not value or value == "${filename}":
        return ""
    if value.lower().startswith(ENCODED_NAME_PREFIX):
        return unquote(value[len(ENCODED_NAME_PREFIX) :], errors="replace")
    if value.startswith("=?"):
        try:
            return str(make_header(decode_header(value)))
        except (ValueError, LookupError):
            return ""
    return value


def fallback_name(content_type):
    """Return a name for a file whose own name is unknown, with its type's extension."""
    extension = mimetypes.guess_extension(content_type) or ""
    return f"{FALLBACK_NAME}{extension}"


def is_rendered_inline(content_type):
    """Return whether browsers display this type themselves (a picture, sound, video, PDF)."""
    family = content_type.split("/", 1)[0]
    return content_type == "application/pdf" or family in ("image", "audio", "video")


def same_type(claimed, sniffed_extension):
    """Return whether the type found in the bytes (by its extension) is the claimed one."""
    return mimetypes.guess_type(f"file.{sniffed_extension}")[0] == claimed


def served_type(name, head):
    """Return the type to serve a file as, from its name and first bytes.

    Raise TypeMismatch when the name claims a type browsers render and the bytes are
    something else.
    """
    claimed = mimetypes.guess_type(name)[0] if name else None
    sniffed = filetype.guess(head)
    if claimed is None:
        return sniffed.mime if sniffed else OCTET_STREAM
    if claimed in ACTIVE_TYPES:
        return OCTET_STREAM
    if is_rendered_inline(claimed) and not (sniffed and same_type(claimed, sniffed.extension)):
        if sniffed:
            raise TypeMismatch(
                gettext(
                    "%(name)s: its name says “%(claimed)s”, but its content is “%(found)s”.",
                    name=name,
                    claimed=file_kind(claimed),
                    found=file_kind(sniffed.mime),
                )
            )
        raise TypeMismatch(
            gettext(
                "%(name)s: its name says “%(claimed)s”, but its content is not in that format.",
                name=name,
                claimed=file_kind(claimed),
            )
        )
    return claimed


def content_disposition(name):
    """Return `attachment` with the name as RFC 6266 asks: an ASCII fallback and `filename*`."""
    stem, dot, extension = name.rpartition(".")
    if dot and not secure_filename(stem):  # no ASCII letter in the stem: keep the extension
        fallback = f"{FALLBACK_NAME}.{secure_filename(extension)}".rstrip(".")
    else:
        fallback = secure_filename(name) or FALLBACK_NAME
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
