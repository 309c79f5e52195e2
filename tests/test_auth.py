"""Sign up, sign in and sign out, with every way a form can be wrong."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv.visitors import PASSWORD, Browser


def test_signup_sends_to_sign_in_which_lands_home(browser):
    response = browser.submit(
        "/auth/signup",
        {"email": "ann@example.com", "nickname": "ann", "password": PASSWORD}
        | {"password_confirm": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    response = browser.login()
    assert response.headers["Location"] == "/"
    page = browser.get("/").get_data(as_text=True)
    assert "ann" in page and "Your notes" in page


def test_the_sign_in_form_after_sign_up_has_the_address_filled_in_for_any_address(app, user):
    pages = []
    for email, nickname in (("ann@example.com", "ann2"), ("new@example.com", "newbie")):
        visitor = Browser(app.test_client())
        fields = {"email": email, "nickname": nickname, "password": PASSWORD}
        visitor.submit("/auth/signup", fields | {"password_confirm": PASSWORD})
        page = visitor.get("/auth/login").get_data(as_text=True)
        assert f'value="{email}"' in page  # ann's address has an account, new's not
        assert "autofocus" in re.search(r"<input[^>]*name=\"password\"[^>]*>", page)[0]
        pages.append(re.sub(r'value="[^"]{40,}"', "TOKEN", page.replace(email, "ADDRESS")))
        again = visitor.get("/auth/login").get_data(as_text=True)
        assert email not in again  # once: the next visit is a plain form
    assert pages[0] == pages[1]


def test_password_is_stored_as_argon2id_never_as_itself(app, user):
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_outside_the_suite_passwords_are_hashed_at_owasp_strength(production_app):
    with production_app.app_context():
        account = User(email="ann@example.com", nickname="ann")
        account.set_password(PASSWORD)
    assert account.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_hash_of_a_lower_cost_is_raised_to_owasp_strength_at_sign_in(user, production_app):
    with production_app.app_context():
        account = db.session.scalar(select(User))
        assert "m=19456" not in account.password_hash  # made at the suite's cost
        assert account.check_password(PASSWORD)
        db.session.commit()
        assert db.session.scalar(select(User.password_hash)).startswith(
            "$argon2id$v=19$m=19456,t=2,p=1$"
        )


def test_duplicate_nickname_in_any_case_is_a_field_error(app, user, count_rows):
    second = Browser(app.test_client())
    response = second.signup(email="other@example.com", nickname="ANN")
    assert response.status_code == 400
    assert "This nickname is taken." in response.get_data(as_text=True)
    assert count_rows("user") == 1


def test_duplicate_email_in_any_case_makes_no_second_account(app, user, count_rows):
    second = Browser(app.test_client())
    assert second.signup(email="ANN@example.com", nickname="someone").status_code == 302
    assert count_rows("user") == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address, such as name@example.com."),
        ("email", "a" * 250 + "@example.com", "Field cannot be longer than 254 characters"),
        ("nickname", "a", "Nickname must be 2 to 30 characters."),
        ("nickname", "n" * 31, "Nickname must be 2 to 30 characters."),
        ("nickname", "bad name!", "Nickname may use letters"),
        ("password", "short", "Password must be 8 to 256 characters."),
        ("password", "p" * 257, "Password must be 8 to 256 characters."),
    ],
)
def test_invalid_signup_field_is_a_400_with_its_message(browser, field, value, message, count_rows):
    data = {
        "email": "ann@example.com",
        "nickname": "ann",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data[field] = value
    if field == "password":
        data["password_confirm"] = value
    response = browser.submit("/auth/signup", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_rows("user") == 0


def test_password_confirmation_must_match(browser, count_rows):
    response = browser.submit(
        "/auth/signup",
        {
            "email": "ann@example.com",
            "nickname": "ann",
            "password": PASSWORD,
            "password_confirm": PASSWORD + "x",
        },
    )
    assert response.status_code == 400
    assert "Passwords differ." in response.get_data(as_text=True)
    assert count_rows("user") == 0


def test_email_is_stored_normalized_and_login_ignores_case(app, browser):
    browser.signup(email="  Ann@Example.COM ")
    browser.logout()
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "Ann@example.com"
    assert browser.login(email="ann@EXAMPLE.com").status_code == 302


def test_login_redirects_home(user):
    user.logout()
    response = user.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unknown_email_and_wrong_password_get_the_same_message(user):
    user.logout()
    wrong_password = user.login(password="not the password")
    unknown_email = user.login(email="nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 400
    for response in (wrong_password, unknown_email):
        assert "Email or password is incorrect." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/", "/mypage", "/wordcount", "/wordcount/1", "/notes/1/wordcount"]
)
def test_a_signed_out_visitor_is_sent_to_sign_in_with_the_page_as_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next={path}"


def test_login_follows_a_same_site_next(user):
    user.logout()
    response = user.submit(
        "/auth/login?next=/notes/new", {"email": "ann@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/notes/new"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_login_ignores_a_next_that_leaves_the_site(user, target):
    user.logout()
    response = user.submit(
        f"/auth/login?next={target}", {"email": "ann@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_remember_me_sets_a_long_lived_cookie(user):
    user.logout()
    user.login(remember="y")
    cookie = user.client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only


def test_without_remember_me_no_remember_cookie(user):
    user.logout()
    user.login()
    assert user.client.get_cookie("remember_token") is None


def test_logout_signs_out_and_goes_to_login(user):
    response = user.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert user.get("/").status_code == 302


def test_logout_by_get_is_not_allowed(user):
    assert user.get("/auth/logout").status_code == 405
    assert user.get("/").status_code == 200


@pytest.mark.parametrize("path", ["/auth/signup", "/auth/login", "/auth/logout"])
def test_post_without_csrf_token_is_400(user, path, count_rows):
    response = user.post(
        path,
        {"email": "new@example.com", "nickname": "newbie", "password": PASSWORD},
        csrf=False,
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert count_rows("user") == 1
    assert user.get("/").status_code == 200


def test_post_with_a_forged_csrf_token_is_400(browser, count_rows):
    response = browser.post(
        "/auth/signup",
        {
            "csrf_token": "forged",
            "email": "ann@example.com",
            "nickname": "ann",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert count_rows("user") == 0


def test_session_cookie_is_httponly_and_samesite_lax(user):
    cookie = user.client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_logout_revokes_the_session_server_side(app, user):
    stolen = user.client.get_cookie("session").value
    user.logout()
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_logout_leaves_other_browsers_signed_in(app, user):
    laptop = Browser(app.test_client())
    laptop.login()
    user.logout()
    assert laptop.get("/").status_code == 200


def test_remember_cookie_alone_restores_a_live_session(app, user):
    user.logout()
    user.login(remember="y")
    remember = user.client.get_cookie("remember_token").value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/").status_code == 200


def test_remember_cookie_is_refused_after_logout(app, user):
    user.logout()
    user.login(remember="y")
    remember = user.client.get_cookie("remember_token").value
    user.logout()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/").status_code == 302


def test_session_tokens_are_stored_hashed(app, user, count_rows):
    from app.models import LoginSession

    cookie_token = user.client.get_cookie("session").value
    with app.app_context():
        stored = db.session.scalar(select(LoginSession.token_hash))
    assert count_rows("login_session") == 1
    assert len(stored) == 64 and stored not in cookie_token


def test_a_login_session_older_than_its_lifetime_is_dead(app, user):
    from sqlalchemy import text

    with app.app_context():
        db.session.execute(text("UPDATE login_session SET created_at = now() - interval '31 days'"))
        db.session.commit()
    assert user.get("/").status_code == 302
