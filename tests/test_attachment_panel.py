"""After an upload or a delete the note page opens at its attachments, with the message there;
each file is listed by what it is and its size, in the reader's language, not by its type."""

import re

import pytest

from app.i18n.formats import file_kind
from devenv import pictures
from tests.attaching import PDF, page_text

pytestmark = pytest.mark.usefixtures("no_jobs")


PANEL = re.compile(r'<section class="card attachments" id="attachments".*?</section>', re.S)


def panel_and_rest(response):
    """Return the attachments panel's HTML and the page's HTML without it."""
    page = page_text(response)
    panel = PANEL.search(page)[0]
    return panel, page.replace(panel, "")


def test_an_upload_comes_back_to_the_panel_with_its_message_there(app, ann):
    response = ann.attach(1, PDF, "report.pdf")
    assert response.headers["Location"] == "/notes/1#attachments"
    panel, rest = panel_and_rest(ann.browser.get("/notes/1"))
    assert 'class="flash flash-success" role="status">report.pdf is attached.</p>' in panel
    assert "is attached." not in rest  # not at the top of the page, out of sight
    # Once shown, the message is gone.
    assert "is attached." not in page_text(ann.browser.get("/notes/1"))


def test_a_delete_comes_back_to_the_panel_with_its_message_there(app, ann):
    ann.attach(1, PDF, "report.pdf")
    ann.browser.get("/notes/1")
    [(attachment_id, _)] = ann.listing(1)
    response = ann.browser.post(f"/attachments/{attachment_id}/delete")
    assert response.headers["Location"] == "/notes/1#attachments"
    panel, rest = panel_and_rest(ann.browser.get("/notes/1"))
    assert "report.pdf is deleted." in panel and "is deleted." not in rest


def test_files_are_listed_by_kind_and_size_in_the_readers_language(app, ann):
    ann.attach(1, PDF, "report.pdf")
    ann.attach(1, pictures.png(), "photo.png")
    panel, _ = panel_and_rest(ann.browser.get("/notes/1"))
    assert f"PDF document · {len(PDF):,} bytes" in panel
    assert re.search(r"Image · [\d.,]+ KB", panel)
    assert "application/pdf" not in panel and "image/png" not in panel
    ann.browser.post("/language", {"language": "ko", "next": "/"})
    panel, _ = panel_and_rest(ann.browser.get("/notes/1"))
    assert "PDF 문서 · " in panel and "이미지 · " in panel


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("application/pdf", "PDF document"),
        ("image/jpeg", "Image"),
        ("text/plain; charset=utf-8", "Text file"),
        ("text/csv", "Spreadsheet"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Document"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Spreadsheet"),
        ("application/zip", "Compressed archive"),
        ("audio/mpeg", "Audio"),
        ("video/mp4", "Video"),
        ("application/octet-stream", "File"),
        ("", "File"),
    ],
)
def test_a_type_is_told_as_a_kind(app, content_type, kind):
    with app.test_request_context():
        assert file_kind(content_type) == kind
