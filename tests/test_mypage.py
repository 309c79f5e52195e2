"""My page: the profile photo in object storage, nickname, password, export, account deletion."""

import io
import re
import urllib.error
import urllib.request

import pytest
from PIL import Image
from sqlalchemy import select, text

from app.extensions import db
from app.models import User
from devenv import pictures
from devenv.services import stored_keys
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import link_in, path_of, verify_email
from tests.workers import run_queued_jobs

NEW_PASSWORD = "a brand new passphrase"


def account(app, email="ann@example.com"):
    """Return the user row with this email as it is in the database now, or None."""
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def fetch(url):
    """GET a URL over HTTP as a browser would, anonymously; return (response, body)."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return response, response.read()


def profile_image_src(response):
    """Return the src of the profile image on a rendered my page."""
    page = response.get_data(as_text=True)
    start = page.index('<img id="profile-image" src="') + len('<img id="profile-image" src="')
    return page[start : page.index('"', start)]


pytestmark = pytest.mark.usefixtures("no_jobs")


def upload(app, user, data, *args):
    """Upload `data` as a photo, let a worker (in this process) make it; return the response."""
    response = user.upload_photo(data, *args)
    run_queued_jobs(app)
    return response


def photo_status(response):
    """Return the photo processing state my page shows, and its message, or None."""
    page = response.get_data(as_text=True)
    start = page.find('<p id="photo-status"')
    if start == -1:
        return None
    status = page[page.index('data-status="', start) + 13 : page.index('">', start)]
    return status, page[page.index('">', start) + 2 : page.index("</p>", start)]


@pytest.fixture
def with_photo(app, user):
    """`user` (ann) with a profile photo stored."""
    assert upload(app, user, pictures.jpeg()).status_code == 302
    return user


# Viewing the page


def test_my_page_needs_a_signed_in_user(browser):
    response = browser.get("/mypage")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/mypage"


def test_my_page_shows_email_nickname_and_a_placeholder_photo(user):
    response = user.get("/mypage")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ann@example.com" in page and "ann" in page
    placeholder = profile_image_src(response)
    assert placeholder == "/static/avatar-placeholder.svg"
    assert user.get(placeholder).status_code == 200
    assert 'href="/mypage"' in user.get("/").get_data(as_text=True)  # in the nav


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
    from app.mypage import photos

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


@pytest.fixture
def stoppable_user(stoppable_app):
    """A signed-in user of `stoppable_app`, with a photo in `stoppable_store`."""
    browser = Browser(stoppable_app.test_client())
    assert browser.signup().status_code == 302
    assert upload(stoppable_app, browser, pictures.jpeg()).status_code == 302
    return browser


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


# Nickname


def test_nickname_change_is_shown_and_stored(app, user):
    response = user.post("/mypage/nickname", {"nickname": "annie"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"
    assert account(app).nickname == "annie"
    assert "annie" in user.get("/mypage").get_data(as_text=True)


def test_own_nickname_in_another_case_is_allowed(app, user):
    assert user.post("/mypage/nickname", {"nickname": "ANN"}).status_code == 302
    assert account(app).nickname == "ANN"


@pytest.mark.parametrize(
    ("nickname", "message"),
    [
        ("BOB", "This nickname is taken."),
        ("", "Choose a nickname."),
        ("a", "Nickname must be 2 to 30 characters."),
        ("n" * 31, "Nickname must be 2 to 30 characters."),
        ("bad name!", "Nickname may use letters"),
    ],
    ids=["taken-other-case", "empty", "short", "long", "characters"],
)
def test_invalid_nickname_is_a_400_field_error(app, user, other_user, nickname, message):
    response = user.post("/mypage/nickname", {"nickname": nickname})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert account(app).nickname == "ann"


# Password


def test_password_change_signs_out_other_sessions_but_not_this_one(app, user):
    elsewhere = Browser(app.test_client())
    assert elsewhere.login().status_code == 302
    response = user.change_password(PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"
    assert user.get("/mypage").status_code == 200
    assert elsewhere.get("/mypage").status_code == 302
    assert Browser(app.test_client()).login(password=PASSWORD).status_code == 400
    assert Browser(app.test_client()).login(password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not my password", NEW_PASSWORD, NEW_PASSWORD, "That is not your current password."),
        ("", NEW_PASSWORD, NEW_PASSWORD, "Enter your current password."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "Passwords differ."),
        (PASSWORD, "short", "short", "Password must be 8 to 256 characters."),
    ],
    ids=["wrong-current", "no-current", "confirmation-differs", "too-short"],
)
def test_invalid_password_change_is_a_400_and_changes_nothing(
    app, user, current, new, confirm, message
):
    elsewhere = Browser(app.test_client())
    assert elsewhere.login().status_code == 302
    before = account(app).password_hash
    response = user.change_password(current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert account(app).password_hash == before
    assert elsewhere.get("/mypage").status_code == 200


# Deleting the account


def test_account_deletion_removes_user_notes_sessions_and_photos(
    app, with_photo, other_user, object_store, count_rows
):
    with_photo.create_note()
    other_user.create_note()
    assert upload(app, other_user, pictures.png()).status_code == 302
    bobs_url = account(app, "bob@example.com").image_url
    response = with_photo.post("/mypage/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/signup"
    assert account(app) is None
    assert count_rows("user") == count_rows("note") == count_rows("login_session") == 1
    run_queued_jobs(app)  # the objects go in a job deferred with the deletion
    assert stored_keys(object_store, "avatars/1/") == set()
    assert stored_keys(object_store) == {bobs_url.removeprefix(f"{object_store.public_url}/")}
    assert with_photo.get("/mypage").status_code == 302
    assert with_photo.login().status_code == 400


def test_account_deletion_with_a_wrong_password_is_a_400_and_deletes_nothing(
    app, with_photo, object_store, count_rows
):
    with_photo.create_note()
    keys = stored_keys(object_store)
    response = with_photo.post("/mypage/delete", {"password": "not my password"})
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    assert count_rows("user") == count_rows("note") == 1
    assert stored_keys(object_store) == keys
    assert with_photo.get("/mypage").status_code == 200


def test_account_deletion_with_the_store_stopped_deletes_the_account_and_retries_the_objects(
    app, stoppable_app, stoppable_user, stoppable_store
):
    key = account(app).image_url.removeprefix(f"{stoppable_store.public_url}/")
    stoppable_store.stop()
    response = stoppable_user.post("/mypage/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/signup"
    assert account(app) is None
    run_queued_jobs(stoppable_app)  # the store does not answer: the job waits to retry
    with app.app_context():
        retry = db.session.execute(
            text("SELECT id, attempts FROM procrastinate_jobs WHERE task_name = :name"),
            {"name": "delete_objects"},
        ).one()
        assert retry.attempts == 1
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    stoppable_store.restart()
    assert key in stored_keys(stoppable_store)
    run_queued_jobs(stoppable_app)
    assert stored_keys(stoppable_store) == set()


# Forged requests and other users


POSTS = [
    ("/mypage/photo", lambda: {"photo": (io.BytesIO(pictures.png()), "a.png")}),
    ("/mypage/photo/delete", dict),
    ("/mypage/nickname", lambda: {"nickname": "mallory"}),
    (
        "/mypage/password",
        lambda: {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    ),
    ("/mypage/delete", lambda: {"password": PASSWORD}),
]


def snapshot(app, store):
    """Return what a user could change: their row and the stored objects."""
    ann = account(app)
    return (ann.nickname, ann.password_hash, ann.image_url, stored_keys(store))


@pytest.mark.parametrize(("path", "data"), POSTS, ids=[path for path, _ in POSTS])
def test_post_without_csrf_token_is_400_and_changes_nothing(
    app, with_photo, object_store, path, data
):
    before = snapshot(app, object_store)
    response = with_photo.post(path, data(), csrf=False)
    assert response.status_code == 400
    assert "CSRF token is missing" in response.get_data(as_text=True)
    assert snapshot(app, object_store) == before
    assert with_photo.get("/mypage").status_code == 200


def test_another_users_session_can_never_change_this_account(
    app, with_photo, other_user, object_store
):
    before = snapshot(app, object_store)
    ann_key = before[2].removeprefix(f"{object_store.public_url}/")
    # Bob uses Ann's password wherever one is asked for: it is not his.
    for path, data in POSTS:
        assert other_user.post(path, data()).status_code in (302, 400)
    assert account(app, "bob@example.com") is not None  # Ann's password deleted nothing
    nickname, password_hash, image_url, keys = snapshot(app, object_store)
    assert (nickname, password_hash, image_url) == before[:3]
    assert ann_key in keys
    assert with_photo.get("/mypage").status_code == 200


@pytest.mark.parametrize(("path", "data"), POSTS, ids=[path for path, _ in POSTS])
def test_anonymous_posts_are_sent_to_sign_in(browser, path, data):
    response = browser.post(path, data())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


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


def test_a_failed_form_is_summed_up_at_the_top_and_its_field_has_the_focus(user):
    response = user.submit("/mypage/email", {"email": "ann.new@example.com", "password": "wrong"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[page.index('<div class="error-summary" role="alert"') :]
    assert summary.index('href="#email-password"') < summary.index('<section class="card profile">')
    assert re.search(r'<input[^>]*autofocus[^>]*id="email-password"', page) or re.search(
        r'<input[^>]*id="email-password"[^>]*autofocus', page
    )
    assert page.count("autofocus") == 1


def test_a_pending_change_of_address_is_shown_and_can_be_cancelled(app, user, mail_server):
    verify_email(app, "ann@example.com")
    user.submit("/mypage/email", {"email": "ann.new@example.com", "password": PASSWORD})
    run_queued_jobs(app)
    page = user.get("/mypage").get_data(as_text=True)
    assert "Waiting for confirmation: a link was mailed to ann.new@example.com" in page
    (message,) = mail_server.to("ann.new@example.com")
    assert user.post("/mypage/email/cancel").headers["Location"] == "/mypage"
    assert "Waiting for confirmation" not in user.get("/mypage").get_data(as_text=True)
    answer = Browser(app.test_client()).post(path_of(link_in(message)))
    assert answer.status_code == 400
