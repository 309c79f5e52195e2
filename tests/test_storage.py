"""Object storage against a real S3 server over HTTP: keys, headers, URLs, deletion, failures.

Also `flask storage cleanup` (every kind of object) and `flask storage rewrite-photo-urls`.
"""

import re
import urllib.request

import pytest
from sqlalchemy import select

from app import create_app, objects, storage
from app.extensions import db
from app.models import User
from config import DevelopmentConfig
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import Attacher
from tests.workers import run_queued_jobs

WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L"  # the bytes do not matter to the store


def put(app, user_id=7, data=WEBP):
    with app.app_context():
        return objects.put_photo(user_id, data, "image/webp", "webp")


def key_of(url, store):
    return url.removeprefix(f"{store.public_url}/")


def test_put_photo_stores_under_a_new_random_key_of_the_user(app, object_store):
    first, second = put(app), put(app)
    assert re.fullmatch(r"avatars/7/[\w-]{22}\.webp", key_of(first, object_store))
    assert first != second
    assert stored_keys(object_store) == {key_of(first, object_store), key_of(second, object_store)}


def test_stored_object_is_served_at_its_url_with_type_and_long_caching(app, object_store):
    url = put(app)
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == WEBP
        assert response.headers["Content-Type"] == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_no_acl_is_sent_the_bucket_policy_alone_makes_photos_public(app, object_store):
    key = key_of(put(app), object_store)
    grants = object_store.client().get_object_acl(Bucket=object_store.bucket, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner's, only


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:9000/memo-local/avatars/3/abc_-9.webp", "avatars/3/abc_-9.webp"),
        ("https://cdn.example/avatars/3/abc.webp", "avatars/3/abc.webp"),
        ("https://memo.s3.eu-west-1.amazonaws.com/avatars/12/x.webp", "avatars/12/x.webp"),
        ("https://cdn.example/other/3/abc.webp", None),
        ("https://cdn.example/abc.webp", None),
        ("", None),
        (None, None),
    ],
)
def test_key_for_url_finds_the_key_whatever_the_base(url, key):
    assert objects.key_for_url(url) == key


def test_delete_key_deletes_one_object(app, object_store):
    keep, gone = put(app), put(app)
    with app.app_context():
        storage.delete_key(key_of(gone, object_store))
    assert stored_keys(object_store) == {key_of(keep, object_store)}


def test_delete_prefix_deletes_one_users_objects_only(app, object_store):
    put(app, user_id=1)
    put(app, user_id=1)
    other = put(app, user_id=11)  # "avatars/1" is a prefix of "avatars/11" but not of its folder
    with app.app_context():
        assert storage.delete_prefix(f"{objects.PHOTO_PREFIX}1/") == 2
    assert stored_keys(object_store) == {key_of(other, object_store)}


def test_a_stopped_store_is_a_storage_error(stoppable_app, stoppable_store):
    stoppable_store.stop()
    with pytest.raises(storage.StorageError, match="storing avatars/7/.* failed"):
        put(stoppable_app)


def test_without_a_bucket_storage_says_it_is_not_configured(app):
    unconfigured = create_app("config.TestingConfig", {"S3_BUCKET": ""})
    with pytest.raises(storage.StorageError, match="no object store is configured"):
        put(unconfigured)


@pytest.mark.parametrize(
    ("environ", "public_url"),
    [
        ({"AWS_REGION": "eu-west-1"}, "https://memo.s3.eu-west-1.amazonaws.com"),
        ({"S3_ENDPOINT_URL": "http://127.0.0.1:9000/"}, "http://127.0.0.1:9000/memo"),
        ({"S3_PUBLIC_URL": "https://photos.example.com/"}, "https://photos.example.com"),
    ],
    ids=["aws", "endpoint-path-style", "cdn"],
)
def test_photo_urls_are_built_on_the_public_url(environ, public_url):
    settings = DevelopmentConfig(
        {"DATABASE_URL": "postgres://x@y/z", "S3_BUCKET": "memo", **environ}
    )
    assert public_url == settings.S3_PUBLIC_URL


# flask storage cleanup


@pytest.fixture
def orphans(app, user, object_store):
    """Ann's photo, two objects no user refers to, and an object outside avatars/."""
    assert user.upload_photo(pictures.jpeg()).status_code == 302
    run_queued_jobs(app)
    client = object_store.client()
    client.put_object(Bucket=object_store.bucket, Key="notes/keep.txt", Body=b"not a photo")
    return {key_of(put(app, user_id=1), object_store), key_of(put(app, user_id=99), object_store)}


def cleanup(runner, *args):
    result = runner.invoke(args=["storage", "cleanup", *args])
    return result.exit_code, result.output.splitlines()


def test_cleanup_deletes_the_objects_no_user_refers_to(runner, object_store, orphans):
    keep = stored_keys(object_store) - orphans
    code, lines = cleanup(runner, "--min-age", "0")
    assert code == 0
    assert sorted(lines[:-1]) == sorted(f"deleted {key}" for key in orphans)
    assert lines[-1].startswith(
        "3 objects under avatars/, uploads/, attachments/, attachment-uploads/, exports/, "
        "imports/: deleted 2"
    )
    assert stored_keys(object_store) == keep
    assert len(keep) == 2  # Ann's photo, and the object outside avatars/


def test_cleanup_dry_run_deletes_nothing(runner, object_store, orphans):
    before = stored_keys(object_store)
    code, lines = cleanup(runner, "--dry-run", "--min-age", "0")
    assert code == 0
    assert sorted(lines[:-1]) == sorted(f"would delete {key}" for key in orphans)
    assert "would delete 2" in lines[-1]
    assert stored_keys(object_store) == before


def test_cleanup_leaves_recent_objects_which_may_be_uploads_in_flight(
    runner, object_store, orphans
):
    before = stored_keys(object_store)
    code, lines = cleanup(runner)
    assert code == 0
    assert lines == [
        "3 objects under avatars/, uploads/, attachments/, attachment-uploads/, exports/, imports/:"
        " deleted 0 nothing refers to (older than 60 min), kept 3"
    ]
    assert stored_keys(object_store) == before


def test_cleanup_with_the_store_stopped_fails_with_one_line(stoppable_app, stoppable_store):
    stoppable_store.stop()
    code, lines = cleanup(stoppable_app.test_cli_runner(), "--min-age", "0")
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("Error: listing avatars/ failed")


def test_cleanup_knows_every_kind_of_object(app, runner, user, object_store, monkeypatch):
    user.create_note()
    assert Attacher(user).attach(1, b"kept", "kept.txt").status_code == 302
    run_queued_jobs(app)
    monkeypatch.setitem(app.config, "ATTACHMENT_UPLOAD_MINUTES", 0)
    monkeypatch.setitem(app.config, "ATTACHMENT_TRANSFER_MINUTES", 0)
    kept = stored_keys(object_store)
    client = object_store.client()
    orphans = {"attachments/1/no-row", "attachment-uploads/1/1/never-confirmed"}
    for key in orphans:
        client.put_object(Bucket=object_store.bucket, Key=key, Body=b"x")
    code, lines = cleanup(runner, "--min-age", "0")
    assert code == 0
    assert sorted(lines[:-1]) == sorted(f"deleted {key}" for key in orphans)
    assert stored_keys(object_store) == kept
    assert [key.split("/")[0] for key in kept] == ["attachments"]


# flask storage rewrite-photo-urls


def photo_urls(app):
    with app.app_context():
        return db.session.scalars(
            select(User.image_url).where(User.image_url.is_not(None)).order_by(User.id)
        ).all()


def test_rewrite_photo_urls_moves_every_photo_to_the_new_public_url(
    app, runner, user, other_user, object_store, monkeypatch
):
    for browser in (user, other_user):
        assert browser.upload_photo(pictures.jpeg()).status_code == 302
    run_queued_jobs(app)
    before = photo_urls(app)
    assert all(url.startswith(f"{object_store.public_url}/avatars/") for url in before)
    monkeypatch.setitem(app.config, "S3_PUBLIC_URL", "https://cdn.example")
    result = runner.invoke(args=["storage", "rewrite-photo-urls", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "rewrote 1 photo URLs, up to user id 1",
        "rewrote 1 photo URLs, up to user id 2",
        "2 photo URLs now on https://cdn.example",
    ]
    after = photo_urls(app)
    assert after == [url.replace(object_store.public_url, "https://cdn.example") for url in before]
    assert f'src="{after[0]}"' in user.get("/mypage").get_data(as_text=True)
    # Run again (after a stop, say): nothing is left to change.
    again = runner.invoke(args=["storage", "rewrite-photo-urls"])
    assert again.output.splitlines() == ["0 photo URLs now on https://cdn.example"]
    assert photo_urls(app) == after
