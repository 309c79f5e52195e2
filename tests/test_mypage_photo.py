"""My page's profile photo: uploaded, made by the worker, replaced, removed, refused, followed
while it is made, and the object store stopped."""

import io
import urllib.error
import urllib.request

import pytest
from PIL import Image
from sqlalchemy import text

from app.extensions import db
from devenv import pictures
from devenv.services import stored_keys
from tests.mypages import account, fetch, photo_status, profile_image_src, upload
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


# Uploading, replacing and removing the photo


def test_uploaded_photo_is_served_by_the_object_store(app, user, object_store):
    response = user.upload_photo(pictures.jpeg((4000, 3000)))
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"
    waiting = user.get("/mypage")
    assert photo_status(waiting)[0] == "queued"
    assert '<meta http-equiv="refresh" content="3">' in waiting.get_data(as_text=True)
    (upload_key,) = stored_keys(object_store)  # kept as sent, under a private key
    assert upload_key.startswith("uploads/1/")
    with pytest.raises(urllib.error.HTTPError, match="403"):
        fetch(f"{object_store.public_url}/{upload_key}")
    run_queued_jobs(app)
    assert photo_status(user.get("/mypage")) is None
    assert stored_keys(object_store, "uploads/") == set()
    url = account(app).image_url
    assert url.startswith(f"{object_store.public_url}/avatars/1/") and url.endswith(".webp")
    assert profile_image_src(user.get("/mypage")) == url
    served, body = fetch(url)
    assert served.headers["Content-Type"] == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    image = Image.open(io.BytesIO(body))
    assert image.format == "WEBP" and image.size == (512, 384)


def test_the_clients_file_name_and_type_are_ignored(app, user, object_store):
    response = upload(app, user, pictures.png(), "../../index.html", "text/html")
    assert response.status_code == 302
    (key,) = stored_keys(object_store)
    assert key.startswith("avatars/1/") and key.endswith(".webp") and "index" not in key


def test_replacing_the_photo_deletes_the_old_object(app, with_photo, object_store):
    old_url = account(app).image_url
    (old_key,) = stored_keys(object_store)
    assert upload(app, with_photo, pictures.webp()).status_code == 302
    new_url = account(app).image_url
    assert new_url != old_url
    assert stored_keys(object_store) == {new_url.removeprefix(f"{object_store.public_url}/")}
    assert old_key not in stored_keys(object_store)


def test_removing_the_photo_deletes_the_object_and_shows_the_placeholder(
    app, with_photo, object_store
):
    response = with_photo.post("/mypage/photo/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"
    assert account(app).image_url is None
    run_queued_jobs(app)  # the object goes in the deletion job, deferred with the change
    assert stored_keys(object_store) == set()
    assert profile_image_src(with_photo.get("/mypage")) == "/static/avatar-placeholder.svg"


def test_gps_position_camera_and_comment_never_reach_the_store(app, user):
    assert upload(app, user, pictures.phone_jpeg()).status_code == 302
    _, stored = fetch(account(app).image_url)
    assert pictures.webp_chunks(stored) in (["VP8 "], ["VP8L"])  # pixels and nothing else
    assert pictures.SECRET_COMMENT not in stored
    assert pictures.SECRET_MODEL.encode() not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        ((b"", ""), "Choose a photo to upload."),
        ((b"", "empty.jpg"), "The file is empty."),
        ((b"Quarterly report\n", "report.jpg"), "not a photo we can use"),
        (
            (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
            "not a photo we can use",
        ),
    ],
    ids=["no-file-chosen", "empty-file", "text", "svg"],
)
def test_a_file_that_is_no_photo_is_a_field_error_and_nothing_is_queued(
    app, with_photo, object_store, photo, message
):
    before, keys = account(app).image_url, stored_keys(object_store)
    data, filename = photo
    response = with_photo.upload_photo(data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert account(app).image_url == before
    assert stored_keys(object_store) == keys


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a photo we can use"),
        (pictures.jpeg()[:700], "damaged or incomplete"),
        (pictures.bomb_png(), "too large: at most 40 megapixels"),
        (pictures.bomb_png(6_000), "too long or too much memory"),
        (pictures.many_scans_jpeg(), "too long or too much memory"),
    ],
    ids=["garbage-png", "truncated", "bomb", "tiny-file-huge-picture", "many-scans"],
)
def test_an_unusable_photo_fails_on_my_page_and_the_old_photo_stays(
    app, with_photo, object_store, data, message
):
    before, keys = account(app).image_url, stored_keys(object_store)
    response = upload(app, with_photo, data)
    assert response.status_code == 302  # the web process only read its first bytes
    status, shown = photo_status(with_photo.get("/mypage"))
    assert status == "failed" and message in shown
    assert account(app).image_url == before
    assert stored_keys(object_store) == keys  # the upload itself is gone
    assert fetch(before)[0].status == 200


def test_a_few_photos_in_processing_at_most_then_429(app, user, object_store):
    limit = app.config["PHOTOS_UNFINISHED_PER_USER"]
    for _ in range(limit):
        assert user.upload_photo(pictures.png()).status_code == 302
    response = user.upload_photo(pictures.png())
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert "still being processed" in response.get_data(as_text=True)
    assert len(stored_keys(object_store, "uploads/")) == limit


def test_uploads_processed_out_of_order_leave_the_newest_photo_only(app, user, object_store):
    assert user.upload_photo(pictures.png()).status_code == 302
    assert user.upload_photo(pictures.webp((300, 300))).status_code == 302
    with app.app_context():
        db.session.execute(
            text("UPDATE procrastinate_jobs SET priority = id")  # the newer upload runs first
        )
        db.session.commit()
    run_queued_jobs(app)
    url = account(app).image_url
    assert Image.open(io.BytesIO(fetch(url)[1])).size == (300, 300)
    assert stored_keys(object_store) == {url.removeprefix(f"{object_store.public_url}/")}


def test_a_photo_waits_for_its_workers_other_decode_then_is_made(
    app, user, object_store, monkeypatch
):
    """One photo decodes at a time in a worker process: another goes back to the queue."""
    from app.features.mypage import photos

    monkeypatch.setattr(photos, "DECODE_TURN_SECONDS", 0.1)
    assert user.upload_photo(pictures.png()).status_code == 302
    photos.DECODES.acquire()  # another job thread of this worker is decoding
    try:
        run_queued_jobs(app)  # the job is told to wait, and queued again
    finally:
        photos.DECODES.release()
    with app.app_context():
        status, attempts = db.session.execute(
            text(
                "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = 'process_photo'"
            )
        ).one()
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    assert (status, attempts) == ("todo", 1) and account(app).image_url is None
    run_queued_jobs(app)
    assert account(app).image_url.endswith(".webp")


def test_an_upload_over_the_limit_is_413(app, user, object_store):
    response = user.upload_photo(b"\xff\xd8" + b"0" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert account(app).image_url is None
    assert stored_keys(object_store) == set()


# The object store stopped


def test_upload_with_the_store_stopped_is_a_clear_503_and_the_old_photo_stays(
    app, stoppable_user, stoppable_store
):
    before = account(app).image_url
    stoppable_store.stop()
    response = stoppable_user.upload_photo(pictures.png())
    assert response.status_code == 503
    assert "file store is not answering" in response.get_data(as_text=True)
    assert account(app).image_url == before
    stoppable_store.restart()
    assert fetch(before)[0].status == 200


def test_removing_with_the_store_stopped_still_removes_and_the_job_retries_the_object(
    app, stoppable_app, stoppable_user, stoppable_store
):
    key = account(app).image_url.removeprefix(f"{stoppable_store.public_url}/")
    stoppable_store.stop()
    response = stoppable_user.post("/mypage/photo/delete")
    assert response.status_code == 302
    assert account(app).image_url is None
    run_queued_jobs(stoppable_app)  # the store does not answer: the job waits to retry
    with app.app_context():
        attempts = db.session.scalar(
            text("SELECT attempts FROM procrastinate_jobs WHERE task_name = 'delete_objects'")
        )
        assert attempts == 1
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    stoppable_store.restart()
    assert key in stored_keys(stoppable_store)
    run_queued_jobs(stoppable_app)
    assert key not in stored_keys(stoppable_store)


# Following a photo while it is made, and forms that fail where the person looks


def test_a_photo_being_made_is_followed_as_json_until_it_is_in_place(app, user):
    assert user.upload_photo(pictures.jpeg()).status_code == 302
    page = user.get("/mypage").get_data(as_text=True)
    assert 'data-progress-url="/mypage/photo/status"' in page
    assert '<noscript><meta http-equiv="refresh"' in page, "without scripts, it reloads"
    waiting = user.get("/mypage/photo/status").get_json()
    assert waiting["status"] == "queued" and waiting["finished"] is False
    run_queued_jobs(app)
    done = user.get("/mypage/photo/status").get_json()
    assert done["finished"] is True and done["status"] == "done"
    assert done["show"]["photo"] == profile_image_src(user.get("/mypage"))
