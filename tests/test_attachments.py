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

from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import (
    back_from_store,
    policy,
    reported_key,
)
from devenv.visitors import PASSWORD
from tests.attaching import (
    MIB,
    PDF,
    attachments,
    confirmed,
    flashed,
    page_text,
)
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


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
