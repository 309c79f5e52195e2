"""My page in tests: the account as stored, the photo as a browser fetches it, what the page
shows of it, and users with a photo (the fixtures `with_photo` and `stoppable_user`)."""

import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv import pictures
from devenv.visitors import Browser
from tests.accounts import sign_up_by_code
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


@pytest.fixture
def stoppable_user(stoppable_app):
    """A signed-in user of `stoppable_app`, with a photo in `stoppable_store`."""
    browser = sign_up_by_code(Browser(stoppable_app.test_client()))
    assert upload(stoppable_app, browser, pictures.jpeg()).status_code == 302
    return browser
