"""Attachments: files go from the browser straight to the object store, Memo confirms them.

Every upload here is a real multipart POST to the suite's S3 server (moto over HTTP),
which, unlike S3, does not enforce the policy's conditions: tests assert the policy Memo
signs, and prove the checks Memo makes itself when the upload comes back.
"""

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select, text

from app import jobs, objects, storage
from app.attachments import naming
from app.extensions import db
from app.models import Attachment
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import (
    FILENAME_FIELD,
    Attacher,
    back_from_store,
    confirm_query,
    policy,
    reported_key,
    send_to_store,
)
from devenv.visitors import PASSWORD, Browser
from tests.workers import run_queued_jobs

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 20
MIB = 1024 * 1024


pytestmark = pytest.mark.usefixtures("no_jobs")


@pytest.fixture
def ann(user):
    """ann, signed in, with one note, as an Attacher."""
    user.create_note()
    return Attacher(user)


@pytest.fixture
def bob(other_user):
    """bob, signed in, with one note (id 2), as an Attacher."""
    other_user.create_note("Bob's note")
    return Attacher(other_user)


def attachments(app):
    """Return every attachment row, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        db.session.expunge_all()
        return rows


def confirmed(app):
    """Return the confirmed attachments' (name, type, size)."""
    return [(a.name, a.content_type, a.size) for a in attachments(app) if a.state == "confirmed"]


def queued_jobs(app):
    """Return the jobs in the queue as dicts."""
    query = "SELECT task_name, status, attempts, scheduled_at FROM procrastinate_jobs ORDER BY id"
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(text(query))]


def retry_now(app):
    """Make every job waiting for a retry due now, as time passing would."""
    with app.app_context():
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()


def page_text(response):
    return response.get_data(as_text=True)


FLASH = re.compile(r'<p class="flash[^"]*" role="status">([^<]*)</p>')


def flashed(response):
    """Return the status messages on a page."""
    return " ".join(FLASH.findall(page_text(response)))


def test_a_note_page_has_a_form_that_posts_to_the_store_under_a_strict_policy(app, ann):
    url, fields = ann.form(1)
    assert url == f"{app.config['S3_ENDPOINT_URL']}/{app.config['S3_BUCKET']}"
    document = policy(fields)
    key = fields["key"]
    assert re.fullmatch(r"attachment-uploads/1/1/[\w-]{24}", key)
    back = fields["success_action_redirect"]
    assert back.startswith("http://localhost/notes/1/attachments/confirm?upload=")
    conditions = document["conditions"]
    assert {"key": key} in conditions
    assert {"success_action_redirect": back} in conditions
    assert ["content-length-range", 1, 25 * MIB] in conditions
    expires = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)


def test_viewing_the_page_again_offers_the_same_upload_and_records_nothing(app, ann):
    first = ann.form(1)[1]["key"]
    assert ann.form(1)[1]["key"] == first
    assert attachments(app) == []


def test_viewing_many_notes_does_not_use_up_the_uploads_in_flight(app, ann, monkeypatch):
    # Issue 26: 21 note views in 10 minutes used to refuse the next attachment.
    monkeypatch.setitem(app.config, "ATTACHMENT_PENDING_PER_USER", 2)
    for title in ("two", "three"):
        ann.browser.create_note(title)
    for note_id in (1, 2, 3, 1, 2, 3):
        assert ann.form(note_id) is not None
    assert ann.start(3, "x.txt", 10).status_code == 200
    assert ann.attach(1, PDF, "report.pdf").status_code == 302


def test_a_confirmed_upload_is_not_offered_again(app, ann):
    answer = ann.upload(1, PDF, "report.pdf")
    ann.browser.get(back_from_store(answer))
    assert ann.form(1)[1]["key"] != reported_key(answer)


def test_an_attached_file_is_listed_and_downloads_byte_for_byte(app, ann, object_store):
    response = ann.attach(1, PDF, "Quarterly report.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/1#attachments"  # back at the panel
    page = ann.browser.get("/notes/1")
    assert "Quarterly report.pdf is attached." in flashed(page)
    [(attachment_id, name)] = ann.listing(1)
    assert name == "Quarterly report.pdf"
    assert f"PDF document · {len(PDF):,} bytes" in page_text(page)

    link = ann.browser.get(f"/attachments/{attachment_id}")
    assert link.status_code == 302
    assert link.headers["Cache-Control"] == "no-store"
    download = requests.get(link.headers["Location"], timeout=10)
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Quarterly_report.pdf\"; filename*=UTF-8''Quarterly%20report.pdf"
    )
    query = parse_qs(urlsplit(link.headers["Location"]).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert confirmed(app) == [("Quarterly report.pdf", "application/pdf", len(PDF))]


def test_the_file_lives_under_a_private_prefix_and_its_upload_copy_is_gone(app, ann, object_store):
    ann.attach(1, PDF, "report.pdf")
    [attachment] = attachments(app)
    assert re.fullmatch(r"attachments/1/[\w-]{24}", attachment.key)
    run_queued_jobs(app)  # the upload's own copy goes once the attachment is confirmed
    assert stored_keys(object_store) == {attachment.key}
    anonymous = requests.get(f"{object_store.public_url}/{attachment.key}", timeout=10)
    assert anonymous.status_code == 403


def test_a_script_attaches_with_the_name_and_size_it_declares(app, ann):
    started = ann.start(1, "holiday.png", 1234)
    body = started.get_json()
    assert body["fields"]["success_action_status"] == "201"
    assert {"success_action_status": "201"} in policy(body["fields"])["conditions"]
    assert "success_action_redirect" not in body["fields"]
    confirm = urlsplit(body["confirm"])
    assert confirm.path == "/notes/1/attachments/confirm"
    assert list(parse_qs(confirm.query)) == ["upload"]
    assert [a.state for a in attachments(app)] == ["pending"]

    response = ann.attach_by_script(1, pictures.png(), "holiday.png")
    assert response.status_code == 302
    assert confirmed(app) == [("holiday.png", "image/png", len(pictures.png()))]


def test_a_plain_form_takes_the_name_the_store_filled_in(app, ann):
    ann.attach(1, PDF, "Minutes.pdf")
    assert confirmed(app) == [("Minutes.pdf", "application/pdf", len(PDF))]


def test_without_a_name_the_file_is_named_by_its_type(app, ann):
    # What a store that does not fill in `${filename}` (moto, MinIO) records.
    ann.attach(1, pictures.png(), "whatever", **{"x-amz-meta-filename": "${filename}"})
    assert confirmed(app) == [("attachment.png", "image/png", len(pictures.png()))]


def test_another_users_attachment_is_404_to_download_and_to_delete(app, ann, bob):
    ann.attach(1, PDF, "report.pdf")
    [attachment] = attachments(app)
    assert bob.browser.get(f"/attachments/{attachment.id}").status_code == 404
    assert bob.browser.post(f"/attachments/{attachment.id}/delete").status_code == 404
    assert bob.browser.get("/attachments/999").status_code == 404
    assert len(confirmed(app)) == 1


def test_anonymous_visitors_are_sent_to_sign_in(app, ann):
    ann.attach(1, PDF, "report.pdf")
    response = app.test_client().get("/attachments/1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_deleting_an_attachment_removes_its_object(app, ann, object_store):
    ann.attach(1, PDF, "report.pdf")
    ann.attach(1, pictures.png(), "a.png")
    first, second = attachments(app)
    response = ann.browser.post(f"/attachments/{first.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/1#attachments"
    assert "report.pdf is deleted." in flashed(ann.browser.get("/notes/1"))
    assert [name for _, name in ann.listing(1)] == ["a.png"]
    assert first.key in stored_keys(object_store)  # until the job runs
    run_queued_jobs(app)
    assert first.key not in stored_keys(object_store)
    assert second.key in stored_keys(object_store)


def test_deleting_the_note_for_good_removes_its_attachments_objects(
    app, ann, count_rows, object_store
):
    ann.attach(1, PDF, "report.pdf")
    ann.upload(1, b"never confirmed")
    assert ann.browser.post("/notes/1/delete").status_code == 302  # to the trash
    assert count_rows("attachment") == 1  # the unconfirmed upload has no row
    assert ann.browser.post("/trash/empty").status_code == 302
    assert count_rows("attachment") == 0
    run_queued_jobs(app)
    assert stored_keys(object_store) == set()


def test_deleting_the_account_removes_every_object_of_the_user(
    app, ann, bob, count_rows, object_store
):
    ann.attach(1, PDF, "report.pdf")
    ann.upload(1, b"never confirmed")
    bob.attach(2, PDF, "bobs.pdf")
    response = ann.browser.post("/mypage/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert [a.name for a in attachments(app)] == ["bobs.pdf"]
    run_queued_jobs(app)
    assert {key.split("/")[1] for key in stored_keys(object_store)} == {"2"}


def test_the_export_archive_holds_each_attachment_with_its_metadata(app, ann):
    ann.attach(1, PDF, "report.pdf")
    ann.browser.get("/mypage/export")
    assert ann.browser.post("/mypage/export").status_code == 302
    run_queued_jobs(app)
    link = ann.browser.get("/mypage/export/download").headers["Location"]
    archive = zipfile.ZipFile(io.BytesIO(requests.get(link, timeout=10).content))
    [entry] = json.loads(archive.read("account.json"))["attachments"]
    assert {key: entry[key] for key in ("note_id", "name", "content_type", "size")} == {
        "note_id": 1,
        "name": "report.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    assert archive.read(f"attachments/{entry['id']}-report.pdf") == PDF


# Bad input: each refused with a clear message and a 4xx, nothing half-kept.


def test_a_file_over_the_size_limit_is_refused_before_and_after_the_upload(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    refused = ann.start(1, "big.bin", 1001)
    assert refused.status_code == 413
    assert refused.get_json()["error"] == (
        "The file is 1,001 bytes; a file may be at most 1,000 bytes."
    )
    url, fields = ann.form(1)
    assert ["content-length-range", 1, 1000] in policy(fields)["conditions"]
    # The store used here does not enforce the policy: Memo's own check catches it.
    response = ann.browser.get(back_from_store(send_to_store(url, fields, b"x" * 1001)))
    assert response.status_code == 413
    assert "a file may be at most 1,000 bytes. It was not attached." in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


def test_the_per_note_count_is_checked_before_the_policy_and_at_confirm(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 2)
    ann.attach(1, PDF, "one.pdf")
    answer = ann.upload(1, PDF, "two.pdf")  # signed while there was room for one more
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 1)
    response = ann.browser.get(back_from_store(answer))
    assert response.status_code == 400
    assert "This note has reached its limit of 1 attachments." in page_text(response)
    run_queued_jobs(app)
    assert reported_key(answer) not in stored_keys(object_store)

    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 2)
    ann.attach(1, PDF, "two.pdf")
    assert ann.form(1) is None  # no policy is signed for a full note
    assert "reached its limit of 2 attachments" in page_text(ann.browser.get("/notes/1"))
    refused = ann.start(1, "three.pdf", 10)
    assert refused.status_code == 400
    assert [name for _, name in ann.listing(1)] == ["one.pdf", "two.pdf"]


def test_the_users_quota_is_checked_before_the_policy_and_at_confirm(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_QUOTA_BYTES", 100)
    ann.attach(1, b"a" * 60, "sixty.txt")
    url, fields = ann.form(1)
    assert ["content-length-range", 1, 40] in policy(fields)["conditions"]
    refused = ann.start(1, "fifty.txt", 50)
    assert refused.status_code == 413
    assert "only 40 bytes of your attachment space is left" in refused.get_json()["error"]
    response = ann.browser.get(back_from_store(send_to_store(url, fields, b"b" * 50)))
    assert response.status_code == 413
    assert "only 40 bytes of your attachment space is left" in page_text(response)
    ann.attach(1, b"c" * 40, "forty.txt")
    assert "use all of your" in page_text(ann.browser.get("/notes/1"))
    assert ann.form(1) is None
    assert [size for *_, size in confirmed(app)] == [60, 40]


def test_a_confirm_for_a_key_issued_to_another_user_is_404_and_leaves_it(
    app, ann, bob, object_store
):
    answer = bob.upload(2, PDF, "bobs.pdf")
    response = ann.browser.get(f"/notes/1/attachments/confirm?{confirm_query(answer)}")
    assert response.status_code == 404
    assert "was not started from your notes" in page_text(response)
    assert reported_key(answer) in stored_keys(object_store)
    assert bob.browser.get(back_from_store(answer)).status_code == 302  # still bob's to confirm


def test_a_confirm_for_a_key_issued_to_another_note_is_400_and_leaves_it(app, ann, object_store):
    ann.browser.create_note("Second note")
    answer = ann.upload(1, PDF, "report.pdf")
    response = ann.browser.get(f"/notes/2/attachments/confirm?{confirm_query(answer)}")
    assert response.status_code == 400
    assert "This upload belongs to another note." in page_text(response)
    assert reported_key(answer) in stored_keys(object_store)
    assert confirmed(app) == []


@pytest.mark.parametrize(
    "key",
    [
        "attachment-uploads/1/never-issued",
        "attachments/1/never-issued",
        "uploads/1/a-photo-upload",
        "avatars/1/x.webp",
        "attachment-uploads/1/%00",
        "attachment-uploads/1/../../avatars/1/x.webp",
        "x" * 5000,
        "",
    ],
)
def test_a_confirm_for_a_key_never_issued_is_404(app, ann, key):
    response = ann.browser.get(f"/notes/1/attachments/confirm?key={key}")
    assert response.status_code == 404
    assert confirmed(app) == []


def test_a_confirm_with_a_forged_or_altered_signature_is_404(app, ann, object_store):
    answer = ann.upload(1, PDF, "report.pdf")
    signed = parse_qs(urlsplit(answer.headers["Location"]).query)["upload"][0]
    payload, signature = signed.rsplit(".", 1)
    for forged in (payload + ".AAAA", "WzEsMSwieCIsMSwxXQ." + signature, "", "x" * 5000):
        response = ann.browser.get(f"/notes/1/attachments/confirm?upload={forged}")
        assert response.status_code == 404
        assert "was not started from your notes" in page_text(response)
    assert confirmed(app) == []
    assert reported_key(answer) in stored_keys(object_store)


def test_a_repeated_confirm_attaches_the_file_once(app, ann, object_store):
    answer = ann.upload(1, PDF, "report.pdf")
    assert ann.browser.get(back_from_store(answer)).status_code == 302
    again = ann.browser.get(back_from_store(answer))
    assert again.status_code == 302
    assert "report.pdf was already attached." in flashed(ann.browser.get("/notes/1"))
    assert len(confirmed(app)) == 1
    run_queued_jobs(app)
    assert len(stored_keys(object_store)) == 1


def test_an_upload_after_its_policy_expired_is_refused_and_deleted(
    app, ann, object_store, monkeypatch
):
    # A policy that ran out 41 minutes ago, and the 30 minutes' transfer time with it.
    monkeypatch.setitem(app.config, "ATTACHMENT_UPLOAD_MINUTES", -41)
    url, fields = ann.form(1)
    response = ann.browser.get(back_from_store(send_to_store(url, fields, PDF, "late.pdf")))
    assert response.status_code == 400
    assert "arrived after its permission had run out" in page_text(response)
    run_queued_jobs(app)
    assert attachments(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\secret plans.txt", "secret plans.txt"),
        ("bell\x07and\x1bescape\x7f.txt", "bellandescape.txt"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("ÿ" * 996 + ".txt", "ÿ" * 251 + ".txt"),
        ("a" * 1000, "a" * 255),
        ("..", "attachment.bin"),
    ],
)
def test_a_hostile_file_name_is_stored_and_shown_safely(app, ann, given, kept):
    response = ann.attach_by_script(1, b"plain text\n", given)
    assert response.status_code == 302
    [(name, _, _)] = confirmed(app)
    assert name == kept
    [(attachment_id, shown)] = ann.listing(1)
    assert shown == kept
    link = ann.browser.get(f"/attachments/{attachment_id}").headers["Location"]
    disposition = requests.get(link, timeout=10).headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith('attachment; filename="')
    assert "/" not in disposition.split("filename*=UTF-8''")[1]


def test_a_hostile_name_recorded_by_the_store_is_cleaned_too(app, ann):
    ann.attach(1, PDF, "x", **{"x-amz-meta-filename": "utf-8''..%2F..%2Fevil%E2%80%AE.pdf"})
    assert confirmed(app) == [("evil.pdf", "application/pdf", len(PDF))]


def test_an_empty_file_is_refused_before_and_after_the_upload(app, ann, object_store):
    refused = ann.start(1, "empty.txt", 0)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "The file is empty. Choose a file with something in it."
    response = ann.attach(1, b"", "empty.txt")
    assert response.status_code == 400
    assert "The file is empty." in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cat.png", b"<html><script>alert(1)</script></html>", "is not in that format"),
        ("report.pdf", pictures.png(), "but its content looks like image/png"),
        ("song.mp3", PDF, "but its content looks like application/pdf"),
    ],
)
def test_bytes_that_contradict_a_type_served_inline_are_refused(
    app, ann, object_store, name, data, message
):
    response = ann.attach(1, data, name)
    assert response.status_code == 400
    assert message in page_text(response)
    assert "It was not attached." in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("name", "data", "served_as"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "application/octet-stream"),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "application/octet-stream"),
        ("notes.txt", b"<html>not rendered</html>", "text/plain"),
        ("archive.zip", b"PK\x03\x04" + b"\0" * 100, "application/zip"),
    ],
)
def test_markup_is_never_served_as_markup(app, ann, name, data, served_as):
    ann.attach(1, data, name)
    assert confirmed(app) == [(name, served_as, len(data))]


@pytest.fixture
def stoppable_ann(stoppable_app):
    """ann with one note, on an app whose store a test may stop, as an Attacher."""
    browser = Browser(stoppable_app.test_client())
    browser.signup()
    browser.create_note()
    return Attacher(browser)


def test_the_store_down_during_confirm_is_a_503_and_a_retry_attaches(
    stoppable_ann, stoppable_store
):
    answer = stoppable_ann.upload(1, PDF, "report.pdf")
    stoppable_store.stop()
    response = stoppable_ann.browser.get(back_from_store(answer))
    assert response.status_code == 503
    assert "The file store is not answering" in page_text(response)
    stoppable_store.restart()
    assert stoppable_ann.browser.get(back_from_store(answer)).status_code == 302
    assert [name for _, name in stoppable_ann.listing(1)] == ["report.pdf"]


def test_the_store_down_during_delete_deletes_the_row_and_the_job_retries_the_object(
    stoppable_app, stoppable_ann, stoppable_store
):
    stoppable_ann.attach(1, PDF, "report.pdf")
    run_queued_jobs(stoppable_app)
    [key] = stored_keys(stoppable_store)
    stoppable_store.stop()
    response = stoppable_ann.browser.post("/attachments/1/delete")
    assert response.status_code == 302
    assert stoppable_ann.listing(1) == []
    failed_at = datetime.now(UTC)
    run_queued_jobs(stoppable_app)  # the store is down: the job fails and waits to retry
    # (The upkeep schedule may have queued its own jobs meanwhile, at a minute's turn.)
    [job] = deletions(stoppable_app)
    assert (job["status"], job["attempts"]) == ("todo", 1)
    # Rescheduled after its failure (the first wait is 2 s: a slow failure may outlast it).
    assert job["scheduled_at"] > failed_at
    stoppable_store.restart()
    assert stored_keys(stoppable_store) == {key}
    retry_now(stoppable_app)
    run_queued_jobs(stoppable_app)
    assert stored_keys(stoppable_store) == set()
    assert deletions(stoppable_app) == []


def deletions(app):
    """Return the queued jobs that delete objects."""
    return [job for job in queued_jobs(app) if job["task_name"] == "delete_objects"]


def test_too_many_uploads_in_flight_is_429_with_retry_after(app, ann, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_PENDING_PER_USER", 2)
    for title in ("two", "three"):
        ann.browser.create_note(title)
    assert ann.start(1, "x.txt", 10).status_code == 200
    assert ann.start(2, "x.txt", 10).status_code == 200
    refused = ann.start(3, "x.txt", 10)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "600"
    assert "Please try again in 10 minutes." in refused.get_json()["error"]


def sweep(app):
    """Queue the periodic sweep as its schedule would, and run it."""
    with app.test_request_context():
        jobs.defer(objects.sweep_objects, timestamp=0)
        db.session.commit()
    run_queued_jobs(app)


def test_the_sweep_forgets_uploads_never_confirmed_and_deletes_their_files(app, ann, object_store):
    ann.browser.create_note("Second note")
    stale = ann.send_by_script(1, PDF, "never confirmed.pdf")
    fresh = ann.send_by_script(2, PDF, "still arriving.pdf")
    with app.app_context():
        db.session.execute(
            text("UPDATE attachment SET expires_at = now() - interval '41 minutes' WHERE id = 1")
        )
        db.session.commit()
    ann.attach(1, pictures.png(), "kept.png")
    run_queued_jobs(app)
    sweep(app)
    assert [(a.note_id, a.state, a.name) for a in attachments(app)] == [
        (2, "pending", "still arriving.pdf"),
        (1, "confirmed", "kept.png"),
    ]
    keys = stored_keys(object_store)
    assert stale not in keys
    assert fresh in keys
    assert len(keys) == 2  # the fresh upload and the attachment


def test_the_sweep_deletes_old_uploads_no_pending_upload_refers_to(
    app, ann, object_store, monkeypatch
):
    url, fields = ann.form(1)
    assert ann.browser.get(back_from_store(send_to_store(url, fields, b""))).status_code == 400
    run_queued_jobs(app)
    # The refused file sent again with the same policy, which has not expired yet.
    again = send_to_store(url, fields, b"again")
    ann.start(1, "new.txt", 10)  # a new upload, never sent
    assert stored_keys(object_store) == {reported_key(again)}
    monkeypatch.setitem(app.config, "ATTACHMENT_UPLOAD_MINUTES", 0)
    monkeypatch.setitem(app.config, "ATTACHMENT_TRANSFER_MINUTES", 0)
    sweep(app)
    assert stored_keys(object_store) == set()
    assert [a.state for a in attachments(app)] == ["pending"]  # the new upload, not yet due


def test_a_download_name_has_an_ascii_fallback_and_the_exact_name_encoded():
    assert naming.content_disposition("Résumé 報告.pdf") == (
        'attachment; filename="Resume_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%E5%A0%B1%E5%91%8A.pdf"
    )
    assert naming.content_disposition("報告") == (
        "attachment; filename=\"attachment\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A"
    )


@pytest.mark.parametrize(
    ("recorded", "name"),
    [
        ("=?utf-8?b?UsOpc3Vtw6kg5aCx5ZGKLnBkZg==?=", "Résumé 報告.pdf"),  # how S3 answers
        ("utf-8''R%C3%A9sum%C3%A9.pdf", "Résumé.pdf"),
        ("plain.pdf", "plain.pdf"),
        ("${filename}", ""),  # a store that does not fill the variable in
        ("=?bogus?q?x?=", ""),
    ],
)
def test_a_name_recorded_as_metadata_is_decoded(recorded, name):
    assert naming.name_from_metadata(recorded) == name


def test_the_sweep_leaves_the_photo_pipelines_uploads_alone(app, ann, object_store, monkeypatch):
    object_store.client().put_object(Bucket=object_store.bucket, Key="uploads/1/photo", Body=b"x")
    monkeypatch.setitem(app.config, "ATTACHMENT_UPLOAD_MINUTES", 0)
    monkeypatch.setitem(app.config, "ATTACHMENT_TRANSFER_MINUTES", 0)
    sweep(app)
    assert stored_keys(object_store) == {"uploads/1/photo"}


# Confirm checks what it keeps (issue 23): what is charged and typed is what is stored.


@pytest.mark.parametrize(
    ("swapped_size", "status", "kept"),
    [(50, 302, [("small.txt", "text/plain", 50)]), (1000, 413, [])],
)
def test_a_file_swapped_during_confirm_is_checked_as_it_is_kept(
    app, ann, object_store, monkeypatch, swapped_size, status, kept
):
    monkeypatch.setitem(app.config, "ATTACHMENT_QUOTA_BYTES", 100)
    url, fields = ann.form(1)
    name = {FILENAME_FIELD: "small.txt"}
    small = send_to_store(url, fields, b"x" * 9, "small.txt", **name)
    first_look = storage.head

    def look_then_swap(key):
        """Confirm's first look at the upload, then the same policy sent again, bigger."""
        answer = first_look(key)
        monkeypatch.setattr(storage, "head", first_look)
        send_to_store(url, fields, b"y" * swapped_size, "small.txt", **name)
        return answer

    monkeypatch.setattr(storage, "head", look_then_swap)
    response = ann.browser.get(back_from_store(small))
    assert response.status_code == status
    if status == 413:
        assert "only 100 bytes of your attachment space is left" in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == kept
    assert len(stored_keys(object_store)) == len(kept)


def test_a_script_upload_is_signed_for_the_size_it_announced(app, ann, object_store):
    started = ann.start(1, "a.txt", 10).get_json()
    assert ["content-length-range", 10, 10] in policy(started["fields"])["conditions"]
    # The store used here does not enforce the policy: Memo's own check catches it.
    send_to_store(started["url"], started["fields"], b"z" * 1000, "a.txt")
    response = ann.browser.get(started["confirm"])
    assert response.status_code == 413
    assert (
        "The file is 1,000 bytes, larger than the 10 bytes its upload was started for. "
        "It was not attached."
    ) in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


def test_a_file_sent_again_after_its_confirm_is_deleted(app, ann, object_store):
    url, fields = ann.form(1)
    name = {FILENAME_FIELD: "report.pdf"}
    first = send_to_store(url, fields, PDF, "report.pdf", **name)
    assert ann.browser.get(back_from_store(first)).status_code == 302
    again = send_to_store(url, fields, b"a" * 2000, "report.pdf", **name)
    assert ann.browser.get(back_from_store(again)).status_code == 302
    assert "report.pdf was already attached." in flashed(ann.browser.get("/notes/1"))
    run_queued_jobs(app)
    [attachment] = attachments(app)
    assert stored_keys(object_store) == {attachment.key}
    # Sent again and never brought back to confirm: the next sweep deletes it, however young.
    send_to_store(url, fields, b"b" * 2000, "report.pdf", **name)
    sweep(app)
    assert stored_keys(object_store) == {attachment.key}
    assert confirmed(app) == [("report.pdf", "application/pdf", len(PDF))]
