"""Sharing into Memo from another app, over HTTP: the share sheet's POST without the service
worker (nothing kept, on to the new-note form), and the share's page saving a note whose files
go straight to the store, every file checked before anything is written."""

import base64
import io
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, IdempotencyKey, Note
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import send_to_store
from tests.attaching import PDF
from tests.noting import page

SHARE = str(uuid.uuid4())
JSON = {"Accept": "application/json"}
MIB = 1024 * 1024
PNG = pictures.png((40, 30))


def sheet(browser, fields, files=(), path="/notes/shared"):
    """POST the share sheet as another app sends it: multipart, no CSRF token."""
    data = dict(fields)
    data["files"] = [(io.BytesIO(body), name, "application/octet-stream") for name, body in files]
    return browser.client.post(path, data=data, content_type="multipart/form-data")


def announced(*files):
    """The fields the share's page sends for files: (name, size, first bytes) each."""
    return {
        "file_name": [name for name, _, _ in files],
        "file_size": [str(size) for _, size, _ in files],
        "file_head": [base64.b64encode(head[:262]).decode() for _, _, head in files],
    }


def save(browser, title="Shared", content="", *files, share=SHARE):
    """Save a share as its page's script does; return the JSON answer's response."""
    browser.get(f"/notes/shared/{share}")  # the page, and its CSRF token
    fields = {"title": title, "content": content, **announced(*files)}
    return browser.post(f"/notes/shared/{share}", fields, headers=JSON)


def counts(app):
    """Return how many notes, attachment rows and form keys there are."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Note, Attachment, IdempotencyKey)
        )


def test_the_share_sheet_without_the_worker_keeps_nothing_and_opens_the_form(
    app, user, object_store
):
    answer = sheet(
        user,
        {"title": "Holiday", "text": "Look at this", "url": "https://example.com/a"},
        [("beach.png", PNG)],
    )
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {
        "title": ["Holiday"],
        "text": ["Look at this\n\nhttps://example.com/a"],
        "left": ["files"],
    }
    form = page(user.get(location))
    assert 'value="Holiday"' in form and "Look at this\n\nhttps://example.com/a</textarea>" in form
    assert "The shared files did not come" in form and "share them again" in form
    assert counts(app) == (0, 0, 0) and stored_keys(object_store) == set()


def test_a_stranger_sharing_without_the_worker_is_sent_to_sign_in_with_the_text(browser):
    answer = sheet(browser, {"text": "for later"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/notes/new?text=for+later"
    assert (
        browser.get(answer.headers["Location"]).headers["Location"].startswith("/auth/login?next=")
    )


def test_a_long_text_without_the_worker_is_cut_to_fit_a_link_and_the_form_says_so(user):
    text = "회의록 " * 5_000  # 20,000 characters, about 170 KB in a link
    answer = sheet(user, {"title": "제목" * 150, "text": text})
    location = answer.headers["Location"]
    assert answer.status_code == 303 and len(location) <= 4096
    query = parse_qs(urlsplit(location).query)
    assert query["title"] == ["제목" * 100] and text.startswith(query["text"][0].strip())
    assert query["left"] == ["text"]
    assert "The shared text was too long to come here whole" in page(user.get(location))


def test_the_share_sheet_with_too_many_parts_is_413_not_a_500(app, user):
    answer = sheet(user, {"text": "x"}, [(f"{n}.png", b"x") for n in range(70)])
    assert answer.status_code == 413
    assert counts(app) == (0, 0, 0)


def test_a_share_is_saved_and_its_files_go_straight_to_the_store(app, user, object_store):
    page_answer = user.get(f"/notes/shared/{SHARE}")
    assert page_answer.status_code == 200 and 'id="share-form"' in page(page_answer)
    files = [("beach.png", len(PNG), PNG), ("보고서.pdf", len(PDF), PDF)]
    answer = save(user, "Holiday", "the beach", *files)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["again"] is False and len(body["uploads"]) == 2
    for start, data in zip(body["uploads"], (PNG, PDF), strict=True):
        assert send_to_store(start["url"], start["fields"], data).status_code == 201
        confirmed = user.get(start["confirm"], headers=JSON)
        assert confirmed.status_code == 200 and confirmed.get_json()["attached"] is True
    note = page(user.get(body["note"]))
    assert "Note saved." in note and "beach.png" in note and "보고서.pdf" in note
    assert len(stored_keys(object_store, "attachments/")) == 2
    again = save(user, "Holiday", "the beach", *files)  # its answer was lost, say
    assert again.get_json() == {"note": body["note"], "uploads": [], "again": True}
    assert counts(app) == (1, 2, 1)


FULL = 25 * MIB


@pytest.mark.parametrize(
    ("files", "status", "words"),
    [
        ([(f"{n}.png", 10, PNG) for n in range(11)], 400, "at most 10 attachments"),
        ([("big.pdf", FULL + 1, PDF)], 413, "big.pdf: The file is 25 MB; a file may be at most 25"),
        ([("ok.pdf", FULL, PDF)] * 9 + [("over.pdf", FULL, PDF)], 413, "over.pdf: The file is"),
        ([("cat.png", 10, b"<html><script>alert(1)</script>")], 400, "cat.png: its name says"),
        ([("empty.txt", 0, b"")], 400, "empty.txt: The file is empty"),
    ],
    ids=["eleven-files", "one-byte-too-large", "past-the-quota", "html-named-png", "empty"],
)
def test_a_share_past_a_limit_is_refused_whole_and_writes_nothing(
    app, user, object_store, monkeypatch, files, status, words
):
    monkeypatch.setitem(app.config, "ATTACHMENT_QUOTA_BYTES", 9 * FULL + FULL // 2)
    answer = save(user, "Shared", "text too", *files)
    assert answer.status_code == status
    assert words in answer.get_json()["error"]
    assert counts(app) == (0, 0, 0) and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    "fields",
    [
        {"file_name": ["a.txt"], "file_size": ["-1"], "file_head": [""]},
        {"file_name": ["a.txt"], "file_size": ["9" * 30], "file_head": [""]},
        {"file_name": ["a.txt"], "file_size": ["1"], "file_head": ["not base64!"]},
        {"file_name": ["a.txt"], "file_size": ["1"], "file_head": [base64.b64encode(PDF).decode()]},
        {"file_name": ["a.txt", "b.txt"], "file_size": ["1"], "file_head": [""]},
    ],
    ids=["negative", "huge", "not-base64", "head-too-long", "lists-differ"],
)
def test_malformed_file_fields_are_a_clear_400_and_write_nothing(app, user, fields):
    user.get(f"/notes/shared/{SHARE}")
    answer = user.post(f"/notes/shared/{SHARE}", {"title": "T", **fields}, headers=JSON)
    assert answer.status_code == 400
    assert "Share them again" in answer.get_json()["error"]
    assert counts(app) == (0, 0, 0)


def test_a_files_name_of_100000_characters_is_cut_to_a_label(app, user):
    answer = save(user, "T", "", ("x" * 100_000 + ".txt", 1, b"x"))
    assert answer.status_code == 200
    with app.app_context():
        assert [len(name) for name in db.session.scalars(select(Attachment.name))] == [255]


def test_uploads_in_flight_past_the_limit_refuse_the_whole_share(app, user):
    first = save(user, "One", "", *[(f"{n}.png", len(PNG), PNG) for n in range(10)])
    assert first.status_code == 200  # ten uploads in flight, none sent yet
    second = save(
        user, "Two", "", *[(f"{n}.png", len(PNG), PNG) for n in range(10)], share=str(uuid.uuid4())
    )
    assert second.status_code == 200
    third = save(user, "Three", "", ("one.png", len(PNG), PNG), share=str(uuid.uuid4()))
    assert third.status_code == 429 and third.headers["Retry-After"] == "600"
    assert counts(app) == (2, 20, 2)


def test_leaving_out_files_that_never_came_deletes_only_a_note_with_nothing_in_it(
    app, user, other_user
):
    empty, with_text = str(uuid.uuid4()), str(uuid.uuid4())
    save(user, "beach.png", "", ("beach.png", len(PNG), PNG), share=empty)
    save(user, "Holiday", "the beach", ("beach.png", len(PNG), PNG), share=with_text)
    bobs = other_user.post(f"/notes/shared/{empty}/discard", headers=JSON)
    assert bobs.get_json() == {"deleted": False, "next": "/"}  # bob's key made nothing
    kept = user.post(f"/notes/shared/{with_text}/discard", headers=JSON).get_json()
    assert kept["deleted"] is False and kept["next"].startswith("/notes/")
    gone = user.post(f"/notes/shared/{empty}/discard", headers=JSON).get_json()
    assert gone == {"deleted": True, "next": "/"}
    listed = page(user.get("/"))
    assert "no note was kept" in listed and "Holiday" in listed and "beach.png" not in listed
    assert counts(app)[0] == 1
