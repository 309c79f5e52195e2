"""An import within a budget: memory, nesting, dates, names and types, errors, the user's lane.

Each test here failed on 36974c7 (issue #47). The import runs in this process
(run_queued_jobs), so the peak RSS measured is that of the process that parses.
"""

import io
import json
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from app.extensions import db
from app.features.mypage import importing
from app.features.notes import service
from devenv.archives import empty_notes_archive
from devenv.uploads import Importer
from tests.importing import NOTES, my_page, rows, send, zip_of
from tests.note_writers import set_up_directly
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")

MB = 1024 * 1024


def peak_rss_after(action):
    """Run `action`; return (its result, this process's peak RSS in bytes meanwhile)."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    result = action()
    status = Path("/proc/self/status").read_text()
    return result, int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


def current_rss():
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def test_a_small_archive_of_empty_notes_keeps_the_parsers_memory_flat(app, user):
    archive = empty_notes_archive()  # 1.4 MB, 49 MiB unpacked
    assert len(archive) < 1.5 * MB
    before = current_rss()
    page, peak = peak_rss_after(lambda: send(app, user, archive))
    assert peak - before < 60 * MB, f"peak grew by {(peak - before) / MB:.0f} MB"
    assert "memo-export.zip was not imported:" in page
    assert "past its limits" in page


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"notes": [{"id": 1, "title": "a", "content": ' + DEEP + "}]}", "not a Memo export"),
        ('{"results": ' + DEEP + ', "notes": []}', "nested too deeply"),
    ],
    ids=["in-a-note", "beside-the-notes"],
)
def test_a_hundred_thousand_nested_brackets_fail_the_import_cleanly(app, user, document, message):
    buffer = io.BytesIO()  # stored, not deflated: far under the ratio check
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("account.json", document)
    page = send(app, user, buffer.getvalue())
    assert "memo-export.zip was not imported:" in page and message in page
    assert rows(app, NOTES) == []


def test_any_error_fails_the_import_with_a_message(app, user, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug no rule foresaw")

    monkeypatch.setattr("app.features.mypage.importing.read_export", broken)
    page = send(app, user, zip_of({"account.json": b'{"notes": []}'}))
    assert "Memo could not read this file, so nothing was imported." in page
    assert "Importing" not in page
    assert rows(app, "SELECT status FROM account_import") == [("failed",)]


def note_item(number, title, **fields):
    return {
        "id": number,
        "title": title,
        "content": "text",
        "created_at": "2024-01-01T00:00:00+00:00",
        "updated_at": "2024-01-01T00:00:00+00:00",
        **fields,
    }


def export_zip(notes, attachments=(), files=None):
    document = {"profile": {}, "notes": notes, "attachments": list(attachments)}
    return zip_of({"account.json": json.dumps(document).encode(), **(files or {})})


def test_dates_outside_a_sane_range_are_clamped_and_pages_still_answer(app, user):
    archive = export_zip(
        [
            note_item(1, "Ancient", created_at="0001-01-01T00:00:00", updated_at="0001-01-01"),
            note_item(2, "Future #later", created_at="9999-12-31T23:59:59+00:00"),
        ]
    )
    page = send(app, user, archive)
    assert "2 notes and 0 attachments added" in page
    years = rows(app, "SELECT EXTRACT(YEAR FROM created_at)::int FROM note ORDER BY title")
    assert [year for (year,) in years][0] == 1970 and years[1][0] < 9999
    for path in ("/", "/search?q=Ancient", "/?tag=later"):
        assert user.get(path).status_code == 200


@pytest.mark.parametrize(("year", "zone"), [(9999, "Asia/Seoul"), (1, "America/New_York")])
def test_notes_dated_at_the_ends_of_time_do_not_break_the_pages(app, user, year, zone):
    user.post("/mypage/settings", {"language": "en", "timezone": zone})
    user.create_note("Edge #edge", "at the end of time")
    moment = f"{year:04d}-{'12-31 23:59:59' if year == 9999 else '01-01 00:00:00'}+00"
    with app.app_context(), set_up_directly():  # a clock at the ends of time
        db.session.execute(
            text("UPDATE note SET created_at = :moment, updated_at = :moment"), {"moment": moment}
        )
        db.session.commit()
    user.post("/notes/1/share", {"expires_days": ""})
    for path in ("/", "/search?q=edge", "/?tag=edge", "/notes/1", "/archive"):
        assert user.get(path).status_code == 200, path
    shared = re.search(r"/s/[\w-]+", user.get("/notes/1").get_data(as_text=True))
    if shared:
        assert user.get(shared.group(0)).status_code == 200


# A note of the largest tables (tests/test_stored_markdown.py's worst): about 0.5 s to read and
# render, bounded as a save's is; an account's text quota of them took half an hour.
TABLE_HEADER = "|" + "|h" * 100 + "|\n|" + "-|" * 100 + "\n"
LARGEST_TABLES = TABLE_HEADER + "a\n" * ((20_000 - len(TABLE_HEADER)) // 2)


def test_an_archive_of_the_largest_tables_stops_at_its_render_budget_writing_nothing(
    app, user, monkeypatch
):
    monkeypatch.setitem(app.config, "IMPORT_RENDER_SECONDS", 1.0)  # 300 s in production
    read = []
    facts = service.text_facts
    monkeypatch.setattr(service, "text_facts", lambda *text: read.append(1) or facts(*text))
    notes = [note_item(n, f"Tables {n}", content=LARGEST_TABLES) for n in range(1, 61)]
    buffer = io.BytesIO()  # stored: the tables deflate past the ratio check
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("account.json", json.dumps({"profile": {}, "notes": notes}))
    page = send(app, user, buffer.getvalue())
    assert "Preparing these notes took longer than one import may, so nothing was imported." in page
    assert rows(app, NOTES) == []
    assert rows(app, "SELECT status FROM account_import") == [("failed",)]
    # Stopped at its budget of CPU (about 0.3 s a note), not after the 60 notes: a count of
    # the notes read, which the machine's load does not move as it moves the wall clock.
    assert 1 <= len(read) <= 20, len(read)


def test_imported_attachments_are_named_and_typed_as_uploads_are(app, user):
    html = b"<html><script>alert(1)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    archive = export_zip(
        [note_item(1, "Files")],
        [
            {"id": 7, "note_id": 1, "name": "evil\u202egnp.html", "content_type": "text/html",
             "size": len(html), "created_at": "2024-01-01T00:00:00+00:00"},
            {"id": 8, "note_id": 1, "name": "../x.svg", "content_type": "image/svg+xml",
             "size": len(svg), "created_at": "2024-01-01T00:00:00+00:00"},
        ],
        {"attachments/7-page.html": html, "attachments/8-x.svg": svg},
    )  # fmt: skip
    page = send(app, user, archive)
    assert "1 notes and 2 attachments added" in page
    files = rows(app, "SELECT name, content_type FROM attachment ORDER BY id")
    assert files == [
        ("evilgnp.html", "application/octet-stream"),
        ("x.svg", "application/octet-stream"),
    ]


def test_an_import_waits_in_its_owners_lane_of_the_queue(app, user):
    user.get("/mypage")
    user.post_file("/mypage/import", "archive", ("a.md", b"# A\n\nb", "text/markdown"))
    locks = rows(app, "SELECT lock FROM procrastinate_jobs WHERE task_name = 'import_archive'")
    [(user_id,)] = rows(app, 'SELECT id FROM "user"')
    assert locks == [(f"user:{user_id}",)]


def test_a_korean_windows_text_file_is_read_in_its_encoding(app, user):
    text = "다음 주 월요일 오전 열 시에 회의실에서 예산 검토를 합니다. 자료를 준비해 주세요."
    page = send(app, user, text.encode("cp949"), "회의.txt")
    assert "1 notes and 0 attachments added" in page
    assert [(t, c) for t, c, *_ in rows(app, NOTES)] == [("회의", text)]


def test_an_export_with_word_counts_is_read_past_their_nested_results(app, user):
    document = {
        "profile": {"nickname": "ann"},
        "notes": [note_item(1, "Kept")],
        "results": [{"id": 1, "result_all": [["memo", 3], ["note", 2]]}],
        "attachments": [],
    }
    page = send(app, user, zip_of({"account.json": json.dumps(document).encode()}))
    assert "1 notes and 0 attachments added" in page


def test_the_owner_saves_a_note_at_once_while_an_import_renders(app, user, monkeypatch):
    # An import that rendered under the account's lock held every save behind it (one that
    # ran to its budget: 10 minutes of 503s after 15 s each). The owner saves while it renders.
    answers = []

    def save():
        started = time.monotonic()
        response = user.post("/notes/new", {"title": "Meanwhile", "content": "saved"})
        answers.append((response.status_code, time.monotonic() - started))

    def budget():
        def spent():
            if not answers:
                saving = threading.Thread(target=save)
                saving.start()
                saving.join(30)

        return spent

    monkeypatch.setattr(importing, "render_budget", budget)
    archive = zip_of({"a.md": "# Imported\n\nbody", "b.md": "# Also\n\nbody"})
    assert Importer(user).send(archive, "notes.zip").status_code == 302
    run_queued_jobs(app)
    [(status, took)] = answers
    assert status == 302 and took < 5, (status, took)
    assert "2 notes and 0 attachments added" in my_page(user)
    titles = sorted(title for title, *_ in rows(app, NOTES))
    assert titles == ["Also", "Imported", "Meanwhile"]
