"""Emails and nicknames are compared one way only: NFKC, then case-folded, in Python.

PostgreSQL's lower() and Python's str.lower() disagree on some letters, so an account
could be created that could never sign in, or twice under "the same" address. Each
pair below is one account; the letters come from several scripts.
"""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LoginThrottle, User, comparison_key, utcnow
from devenv.visitors import PASSWORD, Browser

SAME_EMAIL = [
    ("İnci@example.com", "İnci@example.com"),  # Turkish dotted capital I, signed in as given
    ("ΟΔΟΣ@example.gr", "οδος@example.gr"),  # Greek capital sigma and final sigma
    ("σοφία@example.gr", "ΣΟΦΊΑ@example.gr"),
    ("straße@example.de", "STRASSE@example.de"),  # German sharp s
    ("ᏣᎳᎩ@example.com", "ꮳꮃꭹ@example.com"),  # Cherokee capitals and small letters
    ("ａｎｎ@example.com", "ann@example.com"),  # full-width Latin
    ("café@example.fr", "cafe\u0301@example.fr"),  # é composed, and e + combining acute
]
SAME_NICKNAME = [("Straße", "STRASSE"), ("ΟΔΟΣ", "οδος"), ("ａｎｎ", "ANN"), ("ᏣᎳᎩ", "ꮳꮃꭹ")]
IDS = ["turkish-dotted", "final-sigma", "sigma", "sharp-s", "cherokee"]
IDS += ["full-width", "combining"]


def registered(app):
    with app.app_context():
        return list(db.session.scalars(select(User.email)))


def make_account(app, email, nickname):
    """Store an account with `email` as one made before sign-up refused addresses Memo cannot
    mail (a non-ASCII part before the @; docs/mail.md) was: such accounts exist."""
    with app.app_context():
        user = User(email=email, nickname=nickname, email_verified_at=utcnow())
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()


@pytest.mark.parametrize(("signed_up", "signed_in"), SAME_EMAIL, ids=IDS)
def test_an_account_signs_in_with_its_email_in_any_case_or_form(app, signed_up, signed_in):
    browser = Browser(app.test_client())
    make_account(app, signed_up, "someone")
    assert len(registered(app)) == 1
    browser.logout()
    response = browser.login(email=signed_in)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert browser.get("/").status_code == 200


@pytest.mark.parametrize(("signed_up", "again"), SAME_EMAIL, ids=IDS)
def test_the_same_email_in_another_case_or_form_makes_no_second_account(app, signed_up, again):
    make_account(app, signed_up, "first")
    Browser(app.test_client()).signup(email=again, nickname="second")
    assert len(registered(app)) == 1
    with app.app_context():
        assert User.find_by_email(again).nickname == "first"
        db.session.add(User(email=again, nickname="second", password_hash="x"))
        with pytest.raises(IntegrityError, match="email"):
            db.session.commit()


@pytest.mark.parametrize(("first", "second"), SAME_NICKNAME)
def test_the_same_nickname_in_another_case_or_form_is_taken(app, count_rows, first, second):
    Browser(app.test_client()).signup(email="one@example.com", nickname=first)
    response = Browser(app.test_client()).signup(email="two@example.com", nickname=second)
    assert response.status_code == 400
    assert "This nickname is taken." in response.get_data(as_text=True)
    assert count_rows("user") == 1


def test_the_login_throttle_counts_an_email_in_any_form_as_one(app, user):
    user.logout()
    for email in ["ΟΔΟΣ@example.gr", "οδος@example.gr", "ΟΔΟΣ@EXAMPLE.GR"]:
        user.login(email=email, password="not the password")
    with app.app_context():
        subjects = db.session.scalars(
            select(LoginThrottle.subject).where(LoginThrottle.scope == "email")
        )
        assert list(subjects) == [comparison_key("οδοσ@example.gr")]


def test_the_key_is_what_the_database_indexes(app, user):
    with app.app_context():
        ann = db.session.scalar(select(User))
        assert (ann.email_key, ann.nickname_key) == ("ann@example.com", "ann")


def test_an_account_the_previous_release_wrote_without_keys_signs_in(app, postgres, browser):
    # The previous release serves until the new one starts, and its signups have no keys.
    browser.signup(email="dan@example.com", nickname="dan")
    postgres.execute(
        "UPDATE \"user\" SET email = 'Dan@Example.com', email_key = NULL, nickname_key = NULL"
    )
    browser.logout()
    assert browser.login(email="dan@example.com").status_code == 302
    assert browser.get("/").status_code == 200
    second = Browser(app.test_client())
    second.signup(email="DAN@example.com", nickname="other")
    keys = 'SELECT email_key, nickname_key FROM "user"'
    connection = postgres.connect()
    with connection.cursor() as cursor:
        cursor.execute(keys)
        assert cursor.fetchall() == [("dan@example.com", "dan")]
    connection.close()
