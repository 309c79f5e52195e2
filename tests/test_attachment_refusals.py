"""Attachments refused: too large, too many, over the quota, forged or stale confirms, hostile
names and types. Each is refused with a clear message and a 4xx, nothing half-kept.

Every upload here is a real multipart POST to the suite's S3 server (moto over HTTP), which,
unlike S3, does not enforce the policy's conditions: Memo's own checks are what is proven.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import (
    back_from_store,
    confirm_query,
    policy,
    reported_key,
    send_to_store,
)
from tests.attaching import PDF, attachments, confirmed, flashed, page_text
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


def test_a_file_over_the_size_limit_is_refused_before_and_after_the_upload(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    refused = ann.start(1, "big.bin", 1001)
    assert refused.status_code == 413
    assert refused.get_json()["error"] == (
        "The file is 1,001 bytes; a file may be at most 1,000 bytes."
    )
    url, fields = ann.form(1)
    assert ["content-length-range", 1, 1000] in policy(fields)["conditions"]
    # The store used here does not enforce the policy: Memo's own check catches it.
    response = ann.browser.get(back_from_store(send_to_store(url, fields, b"x" * 1001)))
    assert response.status_code == 413
    assert "a file may be at most 1,000 bytes. It was not attached." in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


def test_the_per_note_count_is_checked_before_the_policy_and_at_confirm(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 2)
    ann.attach(1, PDF, "one.pdf")
    answer = ann.upload(1, PDF, "two.pdf")  # signed while there was room for one more
    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 1)
    response = ann.browser.get(back_from_store(answer))
    assert response.status_code == 400
    assert "This note has reached its limit of 1 attachments." in page_text(response)
    run_queued_jobs(app)
    assert reported_key(answer) not in stored_keys(object_store)

    monkeypatch.setitem(app.config, "ATTACHMENTS_PER_NOTE", 2)
    ann.attach(1, PDF, "two.pdf")
    assert ann.form(1) is None  # no policy is signed for a full note
    assert "reached its limit of 2 attachments" in page_text(ann.browser.get("/notes/1"))
    refused = ann.start(1, "three.pdf", 10)
    assert refused.status_code == 400
    assert [name for _, name in ann.listing(1)] == ["one.pdf", "two.pdf"]


def test_the_users_quota_is_checked_before_the_policy_and_at_confirm(
    app, ann, object_store, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_QUOTA_BYTES", 100)
    ann.attach(1, b"a" * 60, "sixty.txt")
    url, fields = ann.form(1)
    assert ["content-length-range", 1, 40] in policy(fields)["conditions"]
    refused = ann.start(1, "fifty.txt", 50)
    assert refused.status_code == 413
    assert "only 40 bytes of your attachment space is left" in refused.get_json()["error"]
    response = ann.browser.get(back_from_store(send_to_store(url, fields, b"b" * 50)))
    assert response.status_code == 413
    assert "only 40 bytes of your attachment space is left" in page_text(response)
    ann.attach(1, b"c" * 40, "forty.txt")
    assert "use all of your" in page_text(ann.browser.get("/notes/1"))
    assert ann.form(1) is None
    assert [size for *_, size in confirmed(app)] == [60, 40]


def test_a_confirm_for_a_key_issued_to_another_user_is_404_and_leaves_it(
    app, ann, bob, object_store
):
    answer = bob.upload(2, PDF, "bobs.pdf")
    response = ann.browser.get(f"/notes/1/attachments/confirm?{confirm_query(answer)}")
    assert response.status_code == 404
    assert "was not started from your notes" in page_text(response)
    assert reported_key(answer) in stored_keys(object_store)
    assert bob.browser.get(back_from_store(answer)).status_code == 302  # still bob's to confirm


def test_a_confirm_for_a_key_issued_to_another_note_is_400_and_leaves_it(app, ann, object_store):
    ann.browser.create_note("Second note")
    answer = ann.upload(1, PDF, "report.pdf")
    response = ann.browser.get(f"/notes/2/attachments/confirm?{confirm_query(answer)}")
    assert response.status_code == 400
    assert "This upload belongs to another note." in page_text(response)
    assert reported_key(answer) in stored_keys(object_store)
    assert confirmed(app) == []


@pytest.mark.parametrize(
    "key",
    [
        "attachment-uploads/1/never-issued",
        "attachments/1/never-issued",
        "uploads/1/a-photo-upload",
        "avatars/1/x.webp",
        "attachment-uploads/1/%00",
        "attachment-uploads/1/../../avatars/1/x.webp",
        "x" * 5000,
        "",
    ],
)
def test_a_confirm_for_a_key_never_issued_is_404(app, ann, key):
    response = ann.browser.get(f"/notes/1/attachments/confirm?key={key}")
    assert response.status_code == 404
    assert confirmed(app) == []


def test_a_confirm_with_a_forged_or_altered_signature_is_404(app, ann, object_store):
    answer = ann.upload(1, PDF, "report.pdf")
    signed = parse_qs(urlsplit(answer.headers["Location"]).query)["upload"][0]
    payload, signature = signed.rsplit(".", 1)
    for forged in (payload + ".AAAA", "WzEsMSwieCIsMSwxXQ." + signature, "", "x" * 5000):
        response = ann.browser.get(f"/notes/1/attachments/confirm?upload={forged}")
        assert response.status_code == 404
        assert "was not started from your notes" in page_text(response)
    assert confirmed(app) == []
    assert reported_key(answer) in stored_keys(object_store)


def test_a_repeated_confirm_attaches_the_file_once(app, ann, object_store):
    answer = ann.upload(1, PDF, "report.pdf")
    assert ann.browser.get(back_from_store(answer)).status_code == 302
    again = ann.browser.get(back_from_store(answer))
    assert again.status_code == 302
    assert "report.pdf was already attached." in flashed(ann.browser.get("/notes/1"))
    assert len(confirmed(app)) == 1
    run_queued_jobs(app)
    assert len(stored_keys(object_store)) == 1


def test_an_upload_after_its_policy_expired_is_refused_and_deleted(
    app, ann, object_store, monkeypatch
):
    # A policy that ran out 41 minutes ago, and the 30 minutes' transfer time with it.
    monkeypatch.setitem(app.config, "ATTACHMENT_UPLOAD_MINUTES", -41)
    url, fields = ann.form(1)
    response = ann.browser.get(back_from_store(send_to_store(url, fields, PDF, "late.pdf")))
    assert response.status_code == 400
    assert "arrived after its permission had run out" in page_text(response)
    run_queued_jobs(app)
    assert attachments(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\secret plans.txt", "secret plans.txt"),
        ("bell\x07and\x1bescape\x7f.txt", "bellandescape.txt"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("ÿ" * 996 + ".txt", "ÿ" * 251 + ".txt"),
        ("a" * 1000, "a" * 255),
        ("..", "attachment.bin"),
    ],
)
def test_a_hostile_file_name_is_stored_and_shown_safely(app, ann, given, kept):
    response = ann.attach_by_script(1, b"plain text\n", given)
    assert response.status_code == 302
    [(name, _, _)] = confirmed(app)
    assert name == kept
    [(attachment_id, shown)] = ann.listing(1)
    assert shown == kept
    link = ann.browser.get(f"/attachments/{attachment_id}").headers["Location"]
    disposition = requests.get(link, timeout=10).headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith('attachment; filename="')
    assert "/" not in disposition.split("filename*=UTF-8''")[1]


def test_a_hostile_name_recorded_by_the_store_is_cleaned_too(app, ann):
    ann.attach(1, PDF, "x", **{"x-amz-meta-filename": "utf-8''..%2F..%2Fevil%E2%80%AE.pdf"})
    assert confirmed(app) == [("evil.pdf", "application/pdf", len(PDF))]


def test_an_empty_file_is_refused_before_and_after_the_upload(app, ann, object_store):
    refused = ann.start(1, "empty.txt", 0)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "The file is empty. Choose a file with something in it."
    response = ann.attach(1, b"", "empty.txt")
    assert response.status_code == 400
    assert "The file is empty." in page_text(response)
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cat.png", b"<html><script>alert(1)</script></html>", "“Image”, but its content is not"),
        ("report.pdf", pictures.png(), "says “PDF document”, but its content is “Image”."),
        ("song.mp3", PDF, "says “Audio”, but its content is “PDF document”."),
    ],
)
def test_bytes_that_contradict_a_type_served_inline_are_refused_in_the_panel(
    app, ann, object_store, name, data, message
):
    response = ann.attach(1, data, name)
    assert response.status_code == 400
    # The note page itself, the refusal in words in its attachments panel, not an error page.
    panel = page_text(response).split('id="attachments"')[1]
    refusal = panel.split('<p class="flash flash-error" role="alert">')[1].split("</p>")[0]
    assert refusal.startswith(f"{name}: its name says") and message in refusal
    assert refusal.endswith("It was not attached.")
    assert "/" not in refusal.removeprefix(name)  # no raw type such as audio/mp4
    run_queued_jobs(app)
    assert confirmed(app) == [] and stored_keys(object_store) == set()


@pytest.mark.parametrize(
    ("name", "data", "served_as"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "application/octet-stream"),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "application/octet-stream"),
        ("notes.txt", b"<html>not rendered</html>", "text/plain"),
        ("archive.zip", b"PK\x03\x04" + b"\0" * 100, "application/zip"),
    ],
)
def test_markup_is_never_served_as_markup(app, ann, name, data, served_as):
    ann.attach(1, data, name)
