"""A user imports their own export back, whole, through my page's real flow.

Against the suite's real PostgreSQL and S3-compatible server (moto over HTTP): the export is
the real export job, the files go to the store as a browser's form sends them, and the import
is the real job (run here with run_queued_jobs). Issue #47's walk failed on main 36974c7 and
after it: a 19 MB export met the web's 10 MiB upload limit, so a user could not import it.
"""

import os
import urllib.request

import pytest

from devenv.uploads import Attacher, Importer
from tests.importing import exported, my_page, rows
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")

MB = 1024 * 1024
NOTES = (
    "SELECT title, content, tags, pinned, archived_at IS NOT NULL, deleted_at IS NOT NULL, "
    "completed, created_at FROM note ORDER BY title"
)
FILES = (
    "SELECT n.title, a.name, a.size, a.content_type FROM attachment a "
    "JOIN note n ON n.id = a.note_id ORDER BY a.name"
)


def downloaded(app, user):
    """Return {name: bytes} of every attachment of the account, as its owner downloads them."""
    files = {}
    for attachment_id, name in rows(app, "SELECT id, name FROM attachment"):
        link = user.get(f"/attachments/{attachment_id}").headers["Location"]
        with urllib.request.urlopen(link, timeout=30) as answer:
            files[name] = answer.read()
    return files


def test_an_export_with_a_file_at_the_size_limit_imports_back_whole(app, user):
    """Pins, the archive, the trash, tags and attachments, one of them at the attachment
    limit (ATTACHMENT_MAX_BYTES, 25 MiB, less one byte): the export (about 25 MB, since
    random bytes do not compress) is larger than the web's 10 MiB upload limit. The whole
    test takes about 5 s (15 s with its set-up) on a shared 2-core machine."""
    largest = app.config["ATTACHMENT_MAX_BYTES"] - 1
    titles = ("Pinned #work", "Archived #old", "Trashed #gone", "장보기 #집", "Done")
    for number, title in enumerate(titles, 1):
        response = user.create_note(title, f"{title} text\n\n- [ ] a task\n우유, 달걀 {number}")
        assert response.status_code == 302
    big, small = os.urandom(largest), b"%PDF-1.7\n" + os.urandom(4000)
    attacher = Attacher(user)
    assert attacher.attach(1, big, "scan.bin").status_code == 302
    assert attacher.attach(4, small, "영수증.pdf").status_code == 302
    assert attacher.attach(3, b"in the trash\n", "trashed.txt").status_code == 302
    user.post("/notes/1/pin", {"next": "/"})
    user.post("/notes/2/archive", {"next": "/"})
    user.post("/notes/5/toggle")
    assert user.post("/notes/3/delete").status_code == 302
    run_queued_jobs(app)
    notes, files, contents = rows(app, NOTES), rows(app, FILES), downloaded(app, user)
    assert len(notes) == 5 and len(files) == 3 and len(contents["scan.bin"]) == largest

    archive = exported(app, user)
    assert len(archive) > app.config["MAX_CONTENT_LENGTH"]  # past what the web takes

    # Everything goes: the notes with their files, the trash emptied.
    for note_id in (1, 2, 4, 5):
        assert user.post(f"/notes/{note_id}/delete").status_code == 302
    assert user.post("/trash/empty").status_code == 302
    run_queued_jobs(app)
    assert rows(app, "SELECT count(*) FROM note") == [(0,)]
    assert rows(app, "SELECT count(*) FROM attachment") == [(0,)]

    response = Importer(user).send(archive, "memo-export.zip")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    run_queued_jobs(app)
    assert "memo-export.zip imported: 5 notes and 3 attachments added." in my_page(user)
    assert rows(app, NOTES) == notes  # titles, texts, tags, pins, archive, trash, times
    assert rows(app, FILES) == files  # each file on its note, named and typed as before
    assert downloaded(app, user) == contents  # byte for byte
    assert rows(app, "SELECT count(*) FROM account_import WHERE status = 'done'") == [(1,)]
