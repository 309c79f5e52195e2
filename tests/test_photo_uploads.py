"""A profile photo goes from my page straight to the store; the worker makes it as before, and
an outsider's tries at the flow change nothing.

Against the suite's real PostgreSQL and S3-compatible server (moto over HTTP). moto does not
enforce a POST policy's conditions: these tests prove the policy Memo signs and the checks
Memo makes once the photo is there (the confirm's, then the worker's).
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app import objects
from app.features.mypage import photo_uploads
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import PhotoSender, policy, send_to_store
from tests.importing import rows
from tests.mypages import account, photo_status, profile_image_src
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")

UPLOADS = "SELECT status, error FROM photo_upload ORDER BY id"


def text_of(response):
    return response.get_data(as_text=True)


def at(monkeypatch, moment):
    """Set the clock the photo form reads to `moment`."""
    monkeypatch.setattr(photo_uploads, "utcnow", lambda: moment)


def test_the_form_is_signed_for_one_private_key_of_the_users_up_to_10_mb(app, user):
    url, fields = PhotoSender(user).form()
    assert url.startswith(app.config["S3_ENDPOINT_URL"])  # the store, not the web
    conditions = policy(fields)["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    [(user_id,)] = rows(app, 'SELECT id FROM "user"')
    assert fields["key"].startswith(f"uploads/{user_id}/")
    assert "/mypage/photo/arrived?upload=" in fields["success_action_redirect"]
    assert rows(app, "SELECT count(*) FROM photo_upload") == [(0,)]  # the page wrote nothing
    assert PhotoSender(user).form()[1]["key"] == fields["key"]  # the same key again


def test_a_photo_sent_to_the_store_becomes_the_profile_photo(app, user, object_store):
    sender = PhotoSender(user)
    response = sender.send(pictures.jpeg((4000, 3000)), "holiday.jpg")
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    assert photo_status(user.get("/mypage"))[0] == "queued"
    run_queued_jobs(app)
    url = account(app).image_url
    assert url.startswith(f"{object_store.public_url}/avatars/") and url.endswith(".webp")
    assert profile_image_src(user.get("/mypage")) == url
    assert stored_keys(object_store, "uploads/") == set()  # the photo as sent is deleted
    assert sender.form()[1]["key"] != policy_key_of_first(app)  # a new key for the next one


def policy_key_of_first(app):
    [(key,)] = rows(app, "SELECT upload_key FROM photo_upload ORDER BY id LIMIT 1")
    return key


def test_a_file_that_is_not_a_photo_fails_with_the_reason_on_my_page(app, user, object_store):
    assert PhotoSender(user).send(b"<html>not a photo</html>", "a.jpg").status_code == 302
    run_queued_jobs(app)
    assert rows(app, UPLOADS)[0][0] == "failed"
    assert "This file is not a photo we can use." in text_of(user.get("/mypage"))
    assert account(app).image_url is None
    assert stored_keys(object_store, "uploads/") == set()


def test_a_photo_over_the_limit_is_refused_at_the_confirm_and_deleted(
    app, user, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 1000)
    response = PhotoSender(user).send(b"\xff\xd8\xff" + b"0" * 1000, "big.jpg")
    assert response.status_code == 413
    assert "a photo may be at most 1,000 bytes" in text_of(response)
    assert rows(app, UPLOADS) == []
    run_queued_jobs(app)  # the deletion
    assert stored_keys(object_store, "uploads/") == set()


def test_a_photo_replaced_by_a_larger_one_after_its_confirm_is_refused_by_the_worker(
    app, user, object_store, monkeypatch
):
    sender = PhotoSender(user)
    url, fields = sender.form()
    answer = send_to_store(url, fields, pictures.jpeg(), "small.jpg")
    page, signed = sender.arrived(answer)
    assert sender.confirm(signed).status_code == 302
    send_to_store(url, fields, pictures.jpeg((3000, 3000)), "large.jpg")  # the same form again
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", len(pictures.jpeg()) + 1)
    run_queued_jobs(app)
    assert rows(app, UPLOADS) == [
        ("failed", "This photo is too large to use. Please choose a smaller one.")
    ]
    assert account(app).image_url is None


def test_another_users_or_a_forged_ticket_starts_nothing_and_twice_queues_once(
    app, user, other_user
):
    sender = PhotoSender(user)
    page, signed = sender.arrived(sender.upload(pictures.png(), "mine.png"))
    assert page.status_code == 200 and "Your photo has arrived." in text_of(page)
    assert rows(app, UPLOADS) == []  # the page the store sends back to writes nothing
    assert PhotoSender(other_user).confirm(signed).status_code == 404
    assert sender.confirm(signed + "x").status_code == 404
    assert sender.confirm("").status_code == 404
    assert rows(app, UPLOADS) == []
    assert sender.confirm(signed).status_code == 302
    assert sender.confirm(signed).status_code == 302  # pressed twice: queued once
    assert len(rows(app, UPLOADS)) == 1


def test_a_confirm_before_the_photo_arrived_says_so(app, user):
    sender = PhotoSender(user)
    _, fields = sender.form()
    [signed] = parse_qs(urlsplit(fields["success_action_redirect"]).query)["upload"]
    response = sender.confirm(signed)
    assert response.status_code == 400
    assert "No photo arrived. Please choose it again." in text_of(response)
    assert rows(app, UPLOADS) == []


def test_an_account_holds_one_unconfirmed_photo_whatever_its_views_and_uploads(
    app, user, object_store, monkeypatch
):
    sender = PhotoSender(user)
    window = timedelta(minutes=app.config["PHOTO_UPLOAD_MINUTES"])
    now = datetime.now(UTC)
    for hours in range(4):  # forms from views hours apart, each used
        at(monkeypatch, now + hours * 6 * window)
        sender.upload(pictures.png(), f"photo-{hours}.png")
    assert len(stored_keys(object_store, "uploads/")) == 1  # each upload replaced the last


def test_views_a_second_apart_sign_the_same_ticket(app, user, monkeypatch):
    window = timedelta(minutes=app.config["PHOTO_UPLOAD_MINUTES"])
    start = datetime.fromtimestamp(3_000 * window.total_seconds(), UTC)
    at(monkeypatch, start)
    _, first = PhotoSender(user).form()
    at(monkeypatch, start + window - timedelta(seconds=1))
    _, last = PhotoSender(user).form()
    assert last["success_action_redirect"] == first["success_action_redirect"]


def test_a_photo_never_confirmed_is_swept(app, user, object_store):
    PhotoSender(user).upload(pictures.png(), "left.png")
    with app.app_context():
        assert objects.sweep(min_age=timedelta(hours=1), dry_run=True).orphans == []
        objects.sweep(min_age=timedelta(0))
    assert stored_keys(object_store, "uploads/") == set()


def test_the_arrived_page_without_scripts_says_what_to_do_in_both_languages(app, user):
    sender = PhotoSender(user)
    page, signed = sender.arrived(sender.upload(pictures.png(), "p.png"))
    assert "Press Use this photo to make it your profile photo." in text_of(page)
    user.post("/language", {"language": "ko", "next": "/"})
    page, _ = sender.arrived(sender.upload(pictures.png(), "p.png"))
    assert 'lang="ko"' in text_of(page)
