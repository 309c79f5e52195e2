"""Memo's presigned links and upload policies on a store that enforces them (LocalStack's S3).

moto, the suite's store, serves a presigned GET with a forged signature or after it expired,
and stores a POST whatever its policy says. LocalStack's S3 (devenv/enforcing_store.py)
refuses them as S3 does, so these tests send Memo's own links and forms, genuine and
tampered with, and show what the browser gets back. It does not check the signature of a
POST's policy itself: docs/attachments.md says what is proved where.
"""

import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from app import create_app
from app.extensions import db
from devenv import enforcing_store
from devenv.enforcing_store import EnforcingStore
from devenv.services import stored_keys
from devenv.uploads import FILENAME_FIELD, Attacher, back_from_store, send_to_store
from devenv.visitors import Browser
from tests.attaching import PDF

pytestmark = pytest.mark.skipif(
    bool(enforcing_store.missing()), reason=f"LocalStack cannot run: {enforcing_store.missing()}"
)


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
    client = store.client()
    for key in stored_keys(store):
        client.delete_object(Bucket=store.bucket, Key=key)


def attacher(application, email, nickname):
    """A new user, signed in, with one note, as an Attacher on `application`."""
    browser = Browser(application.test_client())
    assert browser.signup(email, nickname).status_code == 302
    browser.create_note()
    return Attacher(browser)


@pytest.fixture
def ann(enforcing_app):
    """ann, signed in, with one note (id 1), on the LocalStack app."""
    return attacher(enforcing_app, "ann@example.com", "ann")


@pytest.fixture
def bob(enforcing_app, ann):
    """bob, signed in, with one note (id 2), on the LocalStack app."""
    return attacher(enforcing_app, "bob@example.com", "bob")


def download_link(person, note_id=1, data=PDF, name="report.pdf"):
    """Attach a file and return the presigned link that its download redirects to."""
    assert person.attach(note_id, data, name).status_code == 302
    [(attachment_id, _)] = person.listing(note_id)
    return person.browser.get(f"/attachments/{attachment_id}").headers["Location"]


def with_query(link, **changes):
    """Return `link` with some query parameters replaced, its signature kept."""
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def test_a_download_link_works_until_it_expires_and_not_after(enforcing_app, ann, monkeypatch):
    monkeypatch.setitem(enforcing_app.config, "ATTACHMENT_DOWNLOAD_SECONDS", 2)
    link = download_link(ann)
    download = requests.get(link, timeout=10)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert download.headers["Content-Type"] == "application/pdf"
    time.sleep(3)
    expired = requests.get(link, timeout=10)
    assert expired.status_code == 403
    assert "Request has expired" in expired.text


ALTERATIONS = {
    "served as HTML": lambda link: with_query(link, **{"response-content-type": "text/html"}),
    "shown inline": lambda link: with_query(link, **{"response-content-disposition": "inline"}),
    "valid for a week": lambda link: with_query(link, **{"X-Amz-Expires": "604800"}),
    "another key": lambda link: link.replace("/attachments/", "/attachment-uploads/", 1),
}


def test_a_download_link_altered_in_any_way_is_refused(ann):
    link = download_link(ann)
    for alteration, alter in ALTERATIONS.items():
        refused = requests.get(alter(link), timeout=10)
        assert refused.status_code == 403, alteration
        assert "SignatureDoesNotMatch" in refused.text, alteration
        assert PDF not in refused.content, alteration
    assert requests.get(link, timeout=10).status_code == 200


def test_a_download_link_signed_without_memos_secret_is_refused(ann, store):
    link = download_link(ann)
    key = urlsplit(link).path.split("/", 2)[2]
    guessed = store.client(secret="a guess").generate_presigned_url(
        "get_object", Params={"Bucket": store.bucket, "Key": key}, ExpiresIn=60
    )
    refused = requests.get(guessed, timeout=10)
    assert refused.status_code == 403
    assert "SignatureDoesNotMatch" in refused.text
    assert PDF not in refused.content


def test_a_form_that_keeps_to_its_policy_is_stored_and_attached(ann, store):
    answer = ann.upload(1, PDF, "report.pdf")
    assert answer.status_code == 303
    assert ann.browser.get(back_from_store(answer)).status_code == 302
    assert ann.listing(1)[0][1] == "report.pdf"
    assert ann.attach_by_script(1, PDF, "second.pdf").status_code == 302
    assert [name for _, name in ann.listing(1)] == ["report.pdf", "second.pdf"]


def test_the_store_refuses_a_file_larger_than_the_room_the_form_was_signed_for(
    enforcing_app, ann, store, monkeypatch
):
    monkeypatch.setitem(enforcing_app.config, "ATTACHMENT_MAX_BYTES", 1000)
    url, fields = ann.form(1)
    refused = send_to_store(url, fields, b"x" * 1001, "big.bin", **{FILENAME_FIELD: "big.bin"})
    assert refused.status_code == 400
    assert "EntityTooLarge" in refused.text
    assert stored_keys(store) == set()
    assert ann.attach(1, b"x" * 1000, "fits.bin").status_code == 302


def test_the_store_refuses_a_file_of_another_size_than_the_script_announced(ann, store):
    for size, refusal in ((99, "EntityTooSmall"), (101, "EntityTooLarge")):
        started = ann.start(1, "a.txt", 100).get_json()
        refused = send_to_store(started["url"], started["fields"], b"z" * size, "a.txt")
        assert refused.status_code == 400
        assert refusal in refused.text
    assert stored_keys(store) == set()


def test_the_store_refuses_a_form_sent_to_another_key(ann, bob, store):
    bobs_link = download_link(bob, 2, b"bob's own words", "words.txt")
    bobs_file = urlsplit(bobs_link).path.split("/", 2)[2]
    before = stored_keys(store)
    url, fields = ann.form(1)
    for key in (bobs_file, bob.form(2)[1]["key"], fields["key"] + "-other"):
        refused = send_to_store(url, fields, b"ann's bytes", "x.txt", key=key)
        assert refused.status_code == 403
        assert "Invalid according to Policy: Policy Condition failed" in refused.text
    assert stored_keys(store) == before
    assert requests.get(bobs_link, timeout=10).content == b"bob's own words"


def test_the_store_refuses_a_form_whose_way_back_was_changed(ann, store):
    url, fields = ann.form(1)
    redirect = "https://elsewhere.example/steal"
    refused = send_to_store(url, fields, PDF, "r.pdf", success_action_redirect=redirect)
    assert refused.status_code == 403
    assert "Policy Condition failed" in refused.text
    assert "Location" not in refused.headers
    assert stored_keys(store) == set()


def test_the_store_refuses_a_form_after_its_policy_expired(enforcing_app, ann, store, monkeypatch):
    monkeypatch.setitem(enforcing_app.config, "ATTACHMENT_UPLOAD_MINUTES", 2 / 60)
    url, fields = ann.form(1)
    time.sleep(3)
    refused = send_to_store(url, fields, PDF, "late.pdf", **{FILENAME_FIELD: "late.pdf"})
    assert refused.status_code == 403
    assert "Invalid according to Policy: Policy expired." in refused.text
    assert stored_keys(store) == set()
