"""Importing into an account: an export comes back whole, once; bad uploads change nothing.

Against the suite's real PostgreSQL and object store; the import is a job, run here with
run_queued_jobs.
"""

import re
import urllib.request
from html import unescape

import feedparser
import pytest

from devenv.uploads import Attacher
from devenv.visitors import PASSWORD, Browser
from tests.attaching import PDF
from tests.importing import FILES, NOTES, exported, rows, send, zip_of
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


def test_an_export_comes_back_whole_into_a_new_account_and_only_once(app, user):
    user.create_note("장보기", "우유, 달걀 — 한국어 메모")
    user.create_note("Done thing", "finished")
    user.post("/notes/2/toggle")
    Attacher(user).attach(1, PDF, "report.pdf")
    run_queued_jobs(app)
    archive = exported(app, user)
    notes, files = rows(app, NOTES), rows(app, FILES)
    assert user.post("/mypage/delete", {"password": PASSWORD}).status_code == 302
    run_queued_jobs(app)
    assert rows(app, NOTES) == []

    again = Browser(app.test_client())
    assert again.signup().status_code == 302
    page = send(app, again, archive)
    assert "memo-export.zip imported: 2 notes and 1 attachments added." in page
    assert rows(app, NOTES) == notes  # titles, contents, completion and both times
    assert rows(app, FILES) == files
    [(attachment_id,)] = rows(app, "SELECT id FROM attachment")
    link = again.get(f"/attachments/{attachment_id}").headers["Location"]
    with urllib.request.urlopen(link, timeout=10) as answer:
        assert answer.read() == PDF  # byte for byte

    page = send(app, again, archive)
    assert (
        "memo-export.zip is imported already: its notes and attachments are all here, "
        "so nothing was added."
    ) in page
    assert rows(app, NOTES) == notes


def test_a_markdown_file_becomes_one_note_titled_by_its_heading(app, user):
    page = send(app, user, "# 회의록\n\n다음 주 일정".encode(), "meeting.md")
    assert "1 notes and 0 attachments added" in page
    assert [(t, c) for t, c, *_ in rows(app, NOTES)] == [("회의록", "다음 주 일정")]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.zip", zip_of({"a.txt": b"a" * 40_000_000}), "unpacks to far more than it takes"),
        ("climb.zip", zip_of({"../../etc/passwd.txt": b"x"}), "points outside it"),
        ("binary.txt", bytes(range(256)) * 4, "is not UTF-8 text"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "neither a Memo export"),
        ("fake.zip", zip_of({"account.json": b'{"notes": [{"title": 1}]}'}), "not a Memo export"),
    ],
    ids=["zip-bomb", "path-traversal", "not-utf8", "not-an-archive", "broken-export"],
)
def test_a_bad_upload_gets_a_clear_message_and_changes_nothing(app, user, name, data, message):
    user.create_note("Kept", "as it was")
    before = rows(app, NOTES)
    page = send(app, user, data, name)
    assert f"{name} was not imported:" in page and message in page
    assert rows(app, NOTES) == before


def test_an_import_past_the_accounts_limits_adds_nothing(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTES_PER_USER", 2)
    user.create_note("One")
    page = send(app, user, zip_of({"a.txt": b"a", "b.txt": b"b"}), "two.zip")
    assert "past its limits" in page
    assert len(rows(app, NOTES)) == 1


def test_an_import_needs_a_file_and_a_signed_in_owner(app, user):
    user.get("/mypage")
    response = user.post("/mypage/import", {})
    assert response.status_code == 400
    assert "Choose a Memo export" in unescape(response.get_data(as_text=True))


STATES = (
    "SELECT title, pinned, archived_at IS NOT NULL, deleted_at IS NOT NULL, completed "
    "FROM note ORDER BY title"
)


def test_pins_the_archive_and_the_trash_come_back_from_an_export(app, user):
    for title in ("Pinned", "Archived", "Trashed", "Plain"):
        user.create_note(title, f"{title} text")
    user.post("/notes/1/pin", {"next": "/"})
    user.post("/notes/2/archive", {"next": "/"})
    user.post("/notes/3/delete")
    archive = exported(app, user)
    states = rows(app, STATES)
    assert user.post("/mypage/delete", {"password": PASSWORD}).status_code == 302
    run_queued_jobs(app)

    again = Browser(app.test_client())
    assert again.signup().status_code == 302
    assert "4 notes and 0 attachments added" in send(app, again, archive)
    assert rows(app, STATES) == states
    assert "Trashed" in unescape(again.get("/trash").get_data(as_text=True))
    assert "Trashed" not in unescape(again.get("/").get_data(as_text=True))


def test_what_is_never_text_is_left_out_of_imported_notes_and_the_feed_reads(app, user):
    # A form or the API refuses control characters; an import's files are somebody else's:
    # they are left out (an Atom feed holding one was unreadable XML, every entry lost).
    export = zip_of(
        {
            "account.json": (
                '{"profile": {}, "notes": [{"id": 1, "title": "Ex\\u0001port",'
                ' "content": "nul\\u0000 \\ufffe kept 🫨"}]}'
            )
        }
    )
    assert "1 notes and 0 attachments added" in send(app, user, export)
    page = send(app, user, "# Ti\x01tle\x0b\n\nbody \x02 🫨".encode(), "a.md")
    assert "1 notes and 0 attachments added" in page
    notes = sorted((title, content) for title, content, *_ in rows(app, NOTES))
    assert notes == [("Export", "nul  kept 🫨"), ("Title", "body  🫨")]
    made = user.post("/mypage/webhooks/feeds", {"tag": ""}).get_data(as_text=True)
    path = re.search(r'value="http://localhost(/feeds/memo_feed_[\w-]+)"', made)[1]
    parsed = feedparser.parse(app.test_client(use_cookies=False).get(path).get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert sorted(entry.title for entry in parsed.entries) == ["Export", "Title"]
