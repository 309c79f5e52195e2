"""Attachments and the export through the API, on the same code and limits as the pages."""

import requests

from tests.apiclients import attached, is_problem
from tests.attaching import PDF
from tests.workers import run_queued_jobs


def test_an_attachment_is_listed_downloaded_and_deleted(ann_api):
    note = ann_api.new_note()
    attachment = attached(ann_api, note["id"])
    assert (attachment["name"], attachment["size"], attachment["state"]) == (
        "plan.pdf",
        len(PDF),
        "confirmed",
    )
    listed = ann_api.get(f"/notes/{note['id']}/attachments").get_json()["items"]
    assert [item["id"] for item in listed] == [attachment["id"]]
    read = ann_api.get(f"/attachments/{attachment['id']}").get_json()
    assert requests.get(read["download_url"], timeout=10).content == PDF
    again = ann_api.post(f"/notes/{note['id']}/attachments/{attachment['id']}/confirm")
    assert again.status_code == 200 and again.get_json()["id"] == attachment["id"]
    assert ann_api.delete(f"/attachments/{attachment['id']}").status_code == 204
    assert ann_api.get(f"/notes/{note['id']}/attachments").get_json()["items"] == []
    assert is_problem(ann_api.get(f"/attachments/{attachment['id']}"), 404, "not-found")


def test_an_upload_breaking_the_limits_is_refused_with_the_pages_words(app, ann_api):
    note = ann_api.new_note()
    too_big = app.config["ATTACHMENT_MAX_BYTES"] + 1
    response = ann_api.post(
        f"/notes/{note['id']}/attachments", {"name": "big.bin", "size": too_big}
    )
    assert is_problem(response, 413, "upload-refused")
    empty = ann_api.post(f"/notes/{note['id']}/attachments", {"name": "e.txt", "size": 0})
    assert is_problem(empty, 400, "upload-refused")


def test_a_confirm_with_nothing_uploaded_is_refused(ann_api):
    note = ann_api.new_note()
    started = ann_api.post(f"/notes/{note['id']}/attachments", {"name": "a.pdf", "size": 100})
    upload_id = started.get_json()["id"]
    response = ann_api.post(f"/notes/{note['id']}/attachments/{upload_id}/confirm")
    assert is_problem(response, 400, "upload-refused")


def test_an_export_is_started_then_downloaded(app, ann_api):
    ann_api.new_note(title="Exported")
    assert ann_api.get("/export").get_json() == {
        "id": None,
        "state": "none",
        "created_at": None,
        "download_url": None,
    }
    started = ann_api.post("/export")
    assert started.status_code == 202 and started.get_json()["state"] == "queued"
    run_queued_jobs(app)
    done = ann_api.get("/export").get_json()
    assert done["state"] == "done"
    archive = requests.get(done["download_url"], timeout=10)
    assert archive.status_code == 200 and archive.content[:2] == b"PK"
