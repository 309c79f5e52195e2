"""An archive to import goes to the store, and an outsider's tries at the flow change nothing.

Against the suite's real PostgreSQL and S3-compatible server (moto over HTTP). moto does not
enforce a POST policy's conditions: what these tests prove is the policy Memo signs and the
checks Memo makes once the file is there (the confirm's, then the worker's).
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from app import objects
from app.features.mypage import import_uploads
from app.i18n.formats import file_size
from devenv.uploads import Importer, policy, send_to_store
from devenv.visitors import Browser
from tests.importing import my_page, rows, zip_of
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")

IMPORTS = "SELECT status, name FROM account_import ORDER BY id"
RUSSIAN = "Привет, это заметка о встрече в понедельник. Подготовьте материалы к обсуждению."


def keys(object_store, prefix="imports/"):
    listing = object_store.client().list_objects_v2(Bucket=object_store.bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


def text_of(response):
    return response.get_data(as_text=True)


def test_the_form_is_signed_for_one_private_key_of_the_users_up_to_the_export_limit(app, user):
    url, fields = Importer(user).form()
    conditions = policy(fields)["conditions"]
    largest = app.config["IMPORT_MAX_BYTES"]
    assert ["content-length-range", 1, largest] in conditions
    assert largest >= app.config["ATTACHMENT_QUOTA_BYTES"] + app.config["NOTE_BYTES_PER_USER"]
    [(user_id,)] = rows(app, 'SELECT id FROM "user"')
    assert fields["key"].startswith(f"imports/{user_id}/")
    assert "/mypage/import/arrived?upload=" in fields["success_action_redirect"]
    with app.test_request_context():
        said = file_size(largest)
    assert f"Archive or text file (up to {said})" in my_page(user)  # beside the field
    assert rows(app, "SELECT count(*) FROM account_import") == [(0,)]  # the page wrote nothing
    assert Importer(user).form()[1]["key"] == fields["key"]  # and offers the same key again


def at(monkeypatch, moment):
    """Set the clock the import form reads to `moment`."""
    monkeypatch.setattr(import_uploads, "utcnow", lambda: moment)


def test_views_a_second_apart_sign_the_same_ticket_and_the_next_window_a_later_one(
    app, user, monkeypatch
):
    window = timedelta(minutes=app.config["IMPORT_UPLOAD_MINUTES"])
    start = datetime.fromtimestamp(3_000 * window.total_seconds(), UTC)  # a window's first second
    at(monkeypatch, start)
    _, first = Importer(user).form()
    at(monkeypatch, start + window - timedelta(seconds=1))  # its last second
    _, last = Importer(user).form()
    assert last["key"] == first["key"]
    assert last["success_action_redirect"] == first["success_action_redirect"]  # one ticket
    at(monkeypatch, start + window)  # the next window: the same key, good for longer
    _, later = Importer(user).form()
    assert later["key"] == first["key"]
    assert later["success_action_redirect"] != first["success_action_redirect"]


def test_an_account_holds_one_unconfirmed_upload_whatever_its_views_and_uploads(
    app, user, object_store, monkeypatch
):
    importer = Importer(user)
    window = timedelta(minutes=app.config["IMPORT_UPLOAD_MINUTES"])
    now = datetime.now(UTC)
    for hours in range(4):  # forms from views hours apart, each used
        at(monkeypatch, now + hours * 6 * window)
        importer.upload(b"x" * 1000, f"big-{hours}.zip")
    assert len(keys(object_store)) == 1  # each upload replaced the one before
    monkeypatch.undo()
    assert importer.send(b"# Kept\n", "kept.md").status_code == 302  # it starts an import
    importer.upload(b"# Next\n", "next.md")  # and the form offers a new key
    assert len(keys(object_store)) == 2  # the one its import reads, and one pending
    run_queued_jobs(app)
    assert len(keys(object_store)) == 1  # the import's is deleted once read


def test_a_text_file_in_an_encoding_memo_does_not_read_is_refused_by_name(app, user, object_store):
    importer = Importer(user)
    assert importer.send(RUSSIAN.encode("cp1251"), "встреча.txt").status_code == 302
    run_queued_jobs(app)
    page = my_page(user)
    assert "встреча.txt was not imported:" in page
    assert "встреча.txt looks like cp1251 text, which Memo does not read" in page
    [(status, error)] = rows(app, "SELECT status, error FROM account_import")
    assert status == "failed" and "cp1251" in error
    assert rows(app, "SELECT count(*) FROM note") == [(0,)]  # nothing half-written
    assert keys(object_store, "") - keys(object_store, "exports/") == set()

    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    page = my_page(user)
    assert "가져오지 못했어요(встреча.txt):" in page
    assert "인코딩이 Memo가 읽지 못하는 cp1251 같아요" in page


def test_the_file_is_deleted_once_imported_or_refused(app, user, object_store):
    importer = Importer(user)
    importer.send(b"# Kept\n\nfine", "kept.md")
    assert len(keys(object_store)) == 1  # waiting for its job
    run_queued_jobs(app)
    importer.send(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "photo.png")  # the wrong type of file
    run_queued_jobs(app)
    assert "neither a Memo export" in my_page(user)
    assert keys(object_store) == set()
    assert rows(app, IMPORTS) == [("done", "kept.md"), ("failed", "photo.png")]


def test_an_archive_that_is_not_a_zip_fails_with_a_message(app, user):
    Importer(user).send(b"PK\x03\x04 but no zip at all" * 100, "export.zip")
    run_queued_jobs(app)
    assert "export.zip was not imported:" in my_page(user)
    assert "export.zip is a damaged zip file" in my_page(user)
    assert rows(app, "SELECT count(*) FROM note") == [(0,)]


def test_a_zip_bomb_by_ratio_is_refused_before_it_unpacks(app, user):
    bomb = zip_of({"account.json": b'{"notes": [' + b" " * 30_000_000 + b"]}"})
    assert len(bomb) < 100_000
    Importer(user).send(bomb, "bomb.zip")
    run_queued_jobs(app)
    assert "account.json unpacks to far more than it takes" in my_page(user)


def test_a_file_larger_than_the_limit_is_refused_at_the_confirm_and_deleted(
    app, user, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    response = Importer(user).send(b"x" * 1001, "big.txt")  # moto takes what S3 would refuse
    assert response.status_code == 413
    with app.test_request_context():
        said = f"The file is {file_size(1001)}; an import may be at most {file_size(1000)}."
    assert said in text_of(response) and "It was not imported." in text_of(response)
    run_queued_jobs(app)  # the deletion
    assert keys(object_store) == set()
    assert rows(app, IMPORTS) == []


def test_a_file_replaced_after_the_confirm_by_a_larger_one_is_refused_by_the_worker(
    app, user, object_store, monkeypatch
):
    importer = Importer(user)
    url, fields = importer.form()
    assert importer.send(b"# Small\n", "small.md").status_code == 302
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    send_to_store(url, fields, b"x" * 5000, "small.md")  # the same policy, sent again
    run_queued_jobs(app)
    assert "the most an import can take; nothing was imported." in my_page(user)
    assert rows(app, "SELECT count(*) FROM note") == [(0,)]
    assert keys(object_store) == set()


def test_a_confirm_with_nothing_uploaded_starts_nothing(app, user):
    importer = Importer(user)
    _, fields = importer.form()
    signed = fields["success_action_redirect"].split("upload=", 1)[1]
    response = importer.confirm(signed)
    assert response.status_code == 400
    assert "No file arrived for this import." in text_of(response)
    assert rows(app, IMPORTS) == []


def test_a_confirm_of_another_users_upload_or_a_forged_one_is_404(app, user, other_user):
    importer = Importer(user)
    _, signed = importer.arrived(importer.upload(b"# Ann's\n", "ann.md"))
    other_user.get("/mypage")
    for forged in (signed, signed[:-2] + "xx", "W10.bad", "x" * 1000):
        response = Importer(other_user).confirm(forged)
        assert response.status_code == 404
        assert "not started from your page" in text_of(response)
    assert rows(app, IMPORTS) == []
    assert importer.confirm(signed).status_code == 302  # Ann's own still works


def test_a_confirm_repeated_many_times_starts_one_import(app, user):
    importer = Importer(user)
    _, signed = importer.arrived(importer.upload(b"# Once\n", "once.md"))
    answers = [importer.confirm(signed) for _ in range(25)]
    assert {answer.status_code for answer in answers} == {302}
    assert rows(app, IMPORTS) == [("queued", "once.md")]
    jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'import_archive'"
    assert rows(app, jobs) == [(1,)]
    run_queued_jobs(app)
    assert importer.confirm(signed).status_code == 302  # and again once it ran: nothing
    assert "This file's import has started already" in my_page(user)
    assert rows(app, "SELECT count(*) FROM note") == [(1,)]


def test_a_confirm_racing_a_second_import_starts_only_one(app, user):
    importer = Importer(user)
    _, signed = importer.arrived(importer.upload(b"# Stored\n", "stored.md"))
    second = Browser(app.test_client())
    assert second.login().status_code == 302
    second.get("/mypage")
    barrier, answers = threading.Barrier(2), {}

    def confirm():
        barrier.wait()
        answers["confirm"] = importer.confirm(signed)

    def through_the_web():
        barrier.wait()
        answers["web"] = second.post_file(
            "/mypage/import", "archive", ("web.md", b"# Web\n", "text/markdown")
        )

    threads = [threading.Thread(target=confirm), threading.Thread(target=through_the_web)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rows(app, IMPORTS)) == 1
    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses in ([302, 302], [302, 409])  # the loser: "already under way"
    run_queued_jobs(app)
    assert rows(app, "SELECT count(*) FROM note") == [(1,)]


def test_a_second_confirm_while_one_runs_is_409_and_says_what_to_do(app, user):
    importer = Importer(user)
    assert importer.send(b"# First\n", "first.md").status_code == 302
    response = importer.send(b"# Second\n", "second.md")  # my page offers a new key now
    assert response.status_code == 409
    assert "An import is already under way. Once it has finished, press Import again" in (
        text_of(response)
    )
    assert rows(app, IMPORTS) == [("queued", "first.md")]


def test_imports_an_hour_are_counted_in_postgresql(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_PER_HOUR", 1)
    importer = Importer(user)
    importer.send(b"# One\n", "one.md")
    run_queued_jobs(app)
    response = importer.send(b"# Two\n", "two.md")
    assert response.status_code == 429
    assert "You have started 1 import in the last hour." in text_of(response)
    assert response.headers["Retry-After"] == "3600"
    assert rows(app, IMPORTS) == [("done", "one.md")]


def test_a_file_never_confirmed_is_swept_after_its_window(app, user, object_store, monkeypatch):
    importer = Importer(user)
    importer.upload(b"# Abandoned\n", "abandoned.md")
    with app.app_context():
        assert objects.sweep(min_age=timedelta(0), dry_run=True).orphans == []  # in its window
        monkeypatch.setitem(app.config, "IMPORT_UPLOAD_MINUTES", -1)
        monkeypatch.setitem(app.config, "IMPORT_TRANSFER_MINUTES", 0)
        objects.sweep(min_age=timedelta(0))
    assert keys(object_store) == set()


def test_without_scripts_the_arrived_page_says_what_to_do_and_writes_nothing(app, user):
    importer = Importer(user)
    page, signed = importer.arrived(importer.upload(b"# Later\n", "later.md"))
    assert page.status_code == 200 and signed
    assert "Your file has arrived. Press Import to read it into your notes" in text_of(page)
    assert rows(app, IMPORTS) == []
    user.post("/language", {"language": "ko", "next": "/"})
    page, _ = importer.arrived(importer.upload(b"# Later\n", "later.md"))
    assert "파일이 도착했어요" in text_of(page)


def test_an_export_cut_short_is_called_damaged_in_the_users_words(app, user):
    whole = zip_of({"account.json": b'{"notes": []}', "notes/a.md": b"# A\n\n" + b"a" * 4000})
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    Importer(user).send(whole[: len(whole) // 2], "memo-export.zip")  # a download cut short
    run_queued_jobs(app)
    page = my_page(user)
    assert "memo-export.zip 파일이 손상된 zip 파일이에요" in page
    assert "Memo 내보내기(.zip)도 텍스트 파일(.txt, .md)도 아니에요" not in page
    assert rows(app, "SELECT count(*) FROM note") == [(0,)]


def test_an_imports_outcome_is_at_the_top_styled_and_followed_without_reloading(app, user):
    assert user.get("/mypage/import/status").status_code == 404  # no import yet
    Importer(user).send(b"# Kept\n\nfine", "kept.md")
    page = my_page(user)
    # Right under the message that it started, not at the foot of the page.
    assert page.index('id="import-status"') < page.index('class="card profile"')
    assert 'data-progress-url="/mypage/import/status"' in page
    assert user.get("/mypage/import/status").get_json() == {
        "status": "queued",
        "finished": False,
        "message": "Importing kept.md…",
        "class": "flash flash-info",
        "role": "status",
    }
    run_queued_jobs(app)
    answer = user.get("/mypage/import/status").get_json()
    assert answer["finished"] and answer["class"] == "flash flash-success"
    assert answer["message"] == "kept.md imported: 1 notes and 0 attachments added."
    Importer(user).send(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "photo.png")
    run_queued_jobs(app)
    answer = user.get("/mypage/import/status").get_json()
    assert (answer["class"], answer["role"]) == ("flash flash-error", "alert")
    assert 'class="flash flash-error" role="alert"' in my_page(user)
