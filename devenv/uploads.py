"""A browser's side of an attachment upload: the form on a note's page, sent to the store.

The store is the real S3 server the suite runs (moto over HTTP); a test sends the form to
it exactly as a browser would, then follows the store's redirect back into the app.
"""

import base64
import json
import re
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import requests

UPLOAD_FORM = re.compile(r'<form class="upload"[^>]*action="([^"]+)".*?</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
FILENAME_FIELD = "x-amz-meta-filename"
DOWNLOAD_LINK = re.compile(r'<a href="/attachments/(\d+)" download>([^<]*)</a>')


def upload_form(page_html):
    """Return the URL and hidden fields of the upload form on a note's page, or None."""
    match = UPLOAD_FORM.search(page_html)
    if match is None:
        return None
    fields = {unescape(name): unescape(value) for name, value in HIDDEN.findall(match.group(0))}
    return unescape(match.group(1)), fields


def policy(fields):
    """Return the decoded policy document a form's fields carry."""
    return json.loads(base64.b64decode(fields["policy"]))


def send_to_store(url, fields, data, filename="file.bin", **extra_fields):
    """POST a file to the store as a browser sends the form; return the store's answer."""
    form = {**fields, **extra_fields}
    files = {"file": (filename, data, "application/octet-stream")}
    return requests.post(url, data=form, files=files, allow_redirects=False, timeout=30)


def back_from_store(answer):
    """Return the app path (with query) the store's redirect sends the browser to."""
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def confirm_query(answer):
    """Return the query of the store's redirect back to confirm (the signed upload in it)."""
    return urlsplit(answer.headers["Location"]).query


def reported_key(answer):
    """Return the key the store's redirect reports."""
    return parse_qs(urlsplit(answer.headers["Location"]).query)["key"][0]


def listed(page_html):
    """Return (id, name) of every attachment a note's page lists."""
    return [(int(number), unescape(name)) for number, name in DOWNLOAD_LINK.findall(page_html)]


class Attacher:
    """A signed-in Browser that attaches files to notes through the store."""

    def __init__(self, browser):
        self.browser = browser

    def form(self, note_id):
        """Open the note's page and return its upload form (URL, fields)."""
        page = self.browser.get(f"/notes/{note_id}")
        assert page.status_code == 200
        return upload_form(page.get_data(as_text=True))

    def upload(self, note_id, data, filename="file.bin", **extra_fields):
        """Send a file with the note page's form; return the store's answer (a redirect).

        S3 puts the file's name in place of `${filename}` in the form's fields; moto does
        not, so the name goes in the field as S3 would have put it, unless a test says
        otherwise.
        """
        url, fields = self.form(note_id)
        extra_fields.setdefault(FILENAME_FIELD, metadata_name(filename))
        answer = send_to_store(url, fields, data, filename, **extra_fields)
        assert answer.status_code == 303, answer.text
        return answer

    def attach(self, note_id, data, filename="file.bin", **extra_fields):
        """Upload a file as a plain form does and come back; return the confirm response."""
        answer = self.upload(note_id, data, filename, **extra_fields)
        return self.browser.get(back_from_store(answer))

    def start(self, note_id, name, size):
        """Ask, as the page's script does, to upload a file of this name and size."""
        self.browser.get(f"/notes/{note_id}")
        return self.browser.post(
            f"/notes/{note_id}/attachments/upload",
            {"name": name, "size": str(size)},
            headers={"Accept": "application/json"},
        )

    def send_by_script(self, note_id, data, name):
        """Start an upload and send the file as the page's script does; return its key."""
        started = self.start(note_id, name, len(data))
        assert started.status_code == 200, started.get_data(as_text=True)
        body = started.get_json()
        answer = send_to_store(body["url"], body["fields"], data, name)
        assert answer.status_code == 201, answer.text
        return body["fields"]["key"]

    def attach_by_script(self, note_id, data, name):
        """Attach a file the way the page's script does; return the confirm response."""
        started = self.start(note_id, name, len(data))
        assert started.status_code == 200, started.get_data(as_text=True)
        body = started.get_json()
        answer = send_to_store(body["url"], body["fields"], data, name)
        assert answer.status_code == 201, answer.text
        return self.browser.get(body["confirm"])

    def listing(self, note_id):
        """Return (id, name) of every attachment the note's page lists."""
        return listed(self.browser.get(f"/notes/{note_id}").get_data(as_text=True))


# --- An archive to import, or a photo, sent from my page straight to the store ----------

MY_PAGE_FORM = r'<form class="{}"[^>]*action="([^"]+)".*?</form>'
CONFIRM_FIELD = re.compile(r'name="upload"[^>]*value="([^"]*)"')


def my_page_form(page_html, form_class="import-upload"):
    """Return the URL and hidden fields of my page's form of `form_class`, or None."""
    match = re.search(MY_PAGE_FORM.format(form_class), page_html, re.DOTALL)
    if match is None:
        return None
    fields = {unescape(name): unescape(value) for name, value in HIDDEN.findall(match.group(0))}
    return unescape(match.group(1)), fields


def import_form(page_html):
    """Return the URL and hidden fields of my page's import form, or None."""
    return my_page_form(page_html, "import-upload")


def metadata_name(filename):
    """Return a file's name as object metadata: as it is if ASCII, else as the page's scripts
    send it (`utf-8''` and percent-encoded), since a header carries Latin-1 at most."""
    return filename if filename.isascii() else f"utf-8''{quote(filename)}"


class Importer:
    """A signed-in Browser that imports files as my page's form does, through the store."""

    FORM_CLASS = "import-upload"
    CONFIRM_PATH = "/mypage/import/confirm"

    def __init__(self, browser):
        self.browser = browser

    def form(self):
        """Open my page and return its form (URL, fields)."""
        page = self.browser.get("/mypage")
        assert page.status_code == 200
        found = my_page_form(page.get_data(as_text=True), self.FORM_CLASS)
        assert found is not None, f"my page has no {self.FORM_CLASS} form sent to the store"
        return found

    def upload(self, data, filename="memo-export.zip", **extra_fields):
        """Send a file to the store with my page's form; return the store's answer (303).

        S3 fills `${filename}` in itself; moto does not, so the name goes in the field as
        S3 would have put it.
        """
        url, fields = self.form()
        extra_fields.setdefault(FILENAME_FIELD, metadata_name(filename))
        answer = send_to_store(url, fields, data, filename, **extra_fields)
        assert answer.status_code == 303, answer.text
        return answer

    def arrived(self, answer):
        """Follow the store's redirect back to Memo; return the page and its signed upload."""
        page = self.browser.get(back_from_store(answer))
        match = CONFIRM_FIELD.search(page.get_data(as_text=True))
        return page, unescape(match.group(1)) if match else None

    def confirm(self, signed):
        """Press the arrived page's button: POST the signed upload."""
        return self.browser.post(self.CONFIRM_PATH, {"upload": signed})

    def send(self, data, filename="memo-export.zip", **extra_fields):
        """Upload, come back and confirm as a browser does; return the confirm's response."""
        page, signed = self.arrived(self.upload(data, filename, **extra_fields))
        assert page.status_code == 200 and signed, page.get_data(as_text=True)
        return self.confirm(signed)


class PhotoSender(Importer):
    """A signed-in Browser that sends a profile photo as my page's form does, to the store."""

    FORM_CLASS = "photo-upload"
    CONFIRM_PATH = "/mypage/photo/confirm"
