"""Attachments and the store: the store down during a confirm or a delete, uploads in flight,
the sweep of abandoned uploads, names the store records, a file swapped or sent again.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app import jobs, objects, storage
from app.extensions import db
from app.features.attachments import naming
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import (
    FILENAME_FIELD,
    Attacher,
    back_from_store,
    policy,
    reported_key,
    send_to_store,
)
from devenv.visitors import Browser
from tests.accounts import sign_up_by_code
from tests.attaching import PDF, attachments, confirmed, flashed, page_text, queued_jobs, retry_now
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


@pytest.fixture
def stoppable_ann(stoppable_app):
    """ann with one note, on an app whose store a test may stop, as an Attacher."""
    browser = sign_up_by_code(Browser(stoppable_app.test_client()))
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
    # A name with no ASCII letter before its extension keeps the extension, not it alone.
    assert naming.content_disposition("보고서.pdf") == (
        "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf"
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
