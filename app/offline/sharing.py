"""The share sheet: another app shares a page, some text or files into Memo.

The manifest's share_target POSTs them to /notes/shared. The service worker takes that POST
in the browser (templates/offline/sw.js): a text fits in a link to the new-note form
(GET /notes/new?title=…&text=…&url=…), anything else waits in the browser for the share's
page. Without the worker (before Memo was opened in this browser, or after a sign-out
emptied it) the POST reaches Memo, which keeps nothing of it: file parts are read and
dropped, and the text goes on to the new-note form, cut to fit a link. Nothing is saved
until the person presses Save (a POST with its CSRF token).
"""

import io
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from werkzeug.formparser import parse_form_data

from app.models import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH

# The share sheet's POST without the worker: its three text fields and the files' parts
# (one each); past this many parts, 413.
SHEET_PARTS = 64
# The longest link to the new-note form a share becomes (the worker's too): sent to sign in
# first, the link grows about three times inside `next`, and the front takes heads of 32 KiB.
SHARED_LINK_BYTES = 4096
# At most this many shares wait in one browser for their page (templates/offline/sw.js).
SHARES_KEPT = 20
# What the new-note form says was left behind (`left=` in its link).
LEFT_FILES, LEFT_TEXT, LEFT_ALL = "files", "text", "all"
LEFT_KINDS = (LEFT_FILES, LEFT_TEXT, LEFT_ALL)


def shared_content(text, url):
    """Return a new note's text from what was shared: the text, then the link unless the text
    already holds it (apps put the link in either)."""
    if url and url in text:
        return text
    return "\n\n".join(part for part in (text, url) if part)


def prefill_shared(form, args):
    """Fill the new-note form from a share, each field cut to what a note holds."""
    title = args.get("title", "").strip()
    content = shared_content(args.get("text", "").strip(), args.get("url", "").strip())
    if title:
        form.title.data = title[:TITLE_MAX_LENGTH]
    if content:
        form.content.data = content[:CONTENT_MAX_LENGTH]


def left_behind(args):
    """Return what a share could not bring to the new-note form (`left=`), in a fixed order."""
    asked = set(args.getlist("left"))
    return [kind for kind in LEFT_KINDS if kind in asked]


class Dropped(io.RawIOBase):
    """Where a file part of the share sheet goes: nowhere. Its bytes are read and dropped."""

    def writable(self):
        return True

    def write(self, data):
        return len(data)

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        return 0


def dropped(*args, **kwargs):
    """Return a stream that keeps nothing (werkzeug's stream factory)."""
    return Dropped()


@dataclass(frozen=True)
class Sheet:
    """What the share sheet sent: its text fields, and how many files (never their bytes)."""

    title: str
    text: str
    url: str
    files: int


def read_sheet(request):
    """Read the share sheet's POST: its text fields, and the number of files, whose bytes are
    dropped as they arrive (more than SHEET_PARTS parts: 413)."""
    _, form, files = parse_form_data(
        request.environ,
        stream_factory=dropped,
        max_content_length=request.max_content_length,
        max_form_parts=SHEET_PARTS,
    )
    count = sum(1 for file in files.values() if file.filename)
    text = {name: form.get(name, "").strip() for name in ("title", "text", "url")}
    return Sheet(files=count, **text)


def cut_to(value, room):
    """Return the start of `value` whose URL encoding takes at most `room` bytes."""
    used = 0
    for index, char in enumerate(value):
        used += len(quote_plus(char))
        if used > room:
            return value[:index]
    return value


def prefill_link(path, sheet):
    """Return the new-note form's link (`path`) for a share, within SHARED_LINK_BYTES: the
    title whole (200 characters encode to 1,800 bytes at most), the text (with the link) in
    the room left; `left=` says what did not come."""
    title = sheet.title[:TITLE_MAX_LENGTH]
    text = shared_content(sheet.text, sheet.url)[:CONTENT_MAX_LENGTH]
    longest = f"{path}?{urlencode({'title': title})}&text=&left={LEFT_FILES}&left={LEFT_TEXT}"
    fitted = cut_to(text, SHARED_LINK_BYTES - len(longest))
    left = [LEFT_FILES] * bool(sheet.files) + [LEFT_TEXT] * (fitted != text)
    fields = [("title", title), ("text", fitted)] + [("left", kind) for kind in left]
    query = urlencode([(name, value) for name, value in fields if value])
    return f"{path}?{query}" if query else path
