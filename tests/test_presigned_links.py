"""Presigned download links on a store that enforces their expiry (LocalStack), as moto does not.

moto serves a presigned GET after its X-Amz-Expires has passed, so a test against it cannot
prove that a download link stops working. LocalStack's S3 (devenv/enforcing_store.py) refuses it.
"""

import time
import uuid

import pytest
import requests

from app import create_app
from app.extensions import db
from devenv import enforcing_store
from devenv.enforcing_store import EnforcingStore
from devenv.visitors import Browser
from tests.uploads import Attacher

pytestmark = pytest.mark.skipif(
    bool(enforcing_store.missing()), reason=f"LocalStack cannot run: {enforcing_store.missing()}"
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 20


@pytest.fixture(scope="module")
def store():
    """LocalStack's S3 with one bucket, for this module."""
    started = EnforcingStore(f"memo-{uuid.uuid4().hex[:12]}").start()
    yield started
    started.stop()


@pytest.fixture
def enforcing_app(app, store):
    """An app like `app` whose bucket is on LocalStack."""
    application = create_app("config.TestingConfig", store.settings())
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def ann(enforcing_app):
    """ann, signed in, with one note, as an Attacher on the LocalStack app."""
    browser = Browser(enforcing_app.test_client())
    browser.signup()
    browser.create_note()
    return Attacher(browser)


def test_a_download_link_works_until_it_expires_and_not_after(enforcing_app, ann, monkeypatch):
    monkeypatch.setitem(enforcing_app.config, "ATTACHMENT_DOWNLOAD_SECONDS", 2)
    assert ann.attach(1, PDF, "report.pdf").status_code == 302
    [(attachment_id, name)] = ann.listing(1)
    assert name == "report.pdf"
    link = ann.browser.get(f"/attachments/{attachment_id}").headers["Location"]
    download = requests.get(link, timeout=10)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    time.sleep(3)
    expired = requests.get(link, timeout=10)
    assert expired.status_code == 403
    assert "Request has expired" in expired.text
