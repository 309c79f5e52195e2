"""My page: the profile photo in object storage, nickname, password, export, account deletion."""

import io
import re

import pytest
from sqlalchemy import text

from app.extensions import db
from devenv import pictures
from devenv.services import stored_keys
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import link_in, path_of, verify_email
from tests.mypages import NEW_PASSWORD, account, profile_image_src, upload
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


# Viewing the page


def test_my_page_shows_email_nickname_and_a_placeholder_photo(user):
    response = user.get("/mypage")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ann@example.com" in page and "ann" in page
    placeholder = profile_image_src(response)
    assert placeholder == "/static/avatar-placeholder.svg"
    assert user.get(placeholder).status_code == 200
    assert 'href="/mypage"' in user.get("/").get_data(as_text=True)  # in the nav


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
