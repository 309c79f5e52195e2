"""Profile photos in S3-compatible object storage: the only module that imports boto3.

The database keeps only each photo's public URL; the key is its last three path
segments (`avatars/<user id>/<random>.<ext>`), whatever base URL it is served from.
An upload waits, as sent, under a private key (`uploads/<user id>/<random>`) until a
worker has made the photo from it; only `avatars/` is public.
"""

import logging
import secrets
import threading
from contextlib import contextmanager
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from config import bucket_url

logger = logging.getLogger("memo.storage")
PHOTO_PREFIX = "avatars/"
UPLOAD_PREFIX = "uploads/"
# A key never gets new content (a new photo gets a new key), so caches may keep it for good.
CACHE_CONTROL = "public, max-age=31536000, immutable"


class StorageError(Exception):
    """The object store refused a request or did not answer; the message says which."""


class Bucket(NamedTuple):
    """An S3 client, the bucket it works on and the base URL that bucket is served from."""

    client: Any
    name: str
    public_url: str


def init_app(app):
    """Note the store's settings; the client is made on first use, not at every start-up.

    Making a boto3 client loads the S3 service model (about 0.1 s): the release phase and
    every worker boot would pay it, though most never touch the store.
    """
    app.extensions["storage"] = None
    app.extensions["storage_lock"] = threading.Lock()


def make_bucket(config):
    """Create the S3 client; boto3 clients are thread-safe, so every request shares it."""
    import boto3  # imported here, with the client: 0.17 s that most processes never need
    from botocore.config import Config as BotoConfig

    endpoint = config["S3_ENDPOINT_URL"] or None
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=config["AWS_REGION"],
        aws_access_key_id=config["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=config["AWS_SECRET_ACCESS_KEY"],
        config=BotoConfig(
            # One attempt, 2 s to connect and 3 s to answer: a down store fails an upload at
            # once and a hung one in about 3 s, well inside the router's 30 s (see README).
            connect_timeout=2,
            read_timeout=3,
            retries={"total_max_attempts": 1, "mode": "standard"},
            # MinIO, R2 and local servers answer for buckets under the endpoint's path.
            s3={"addressing_style": "path" if endpoint else "auto"},
            # Presigned uploads and downloads: SigV4, the one every S3-compatible store takes.
            signature_version="s3v4",
            # boto3 1.36+ adds checksums that several S3-compatible stores refuse.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return Bucket(client, config["S3_BUCKET"], config["S3_PUBLIC_URL"])


def bucket():
    """Return the current app's bucket, or raise StorageError if none is configured."""
    extensions = current_app.extensions
    if extensions["storage"] is None:
        if not current_app.config["S3_BUCKET"]:
            raise StorageError("no object store is configured (S3_BUCKET is unset)")
        with extensions["storage_lock"]:
            if extensions["storage"] is None:
                extensions["storage"] = make_bucket(current_app.config)
    return extensions["storage"]


@contextmanager
def failures_as(action):
    """Turn any botocore failure, network or refusal, into one StorageError naming `action`."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise StorageError(f"{action} failed: {error}") from error


def user_prefix(user_id, kind=PHOTO_PREFIX):
    """Return the key prefix under which the photos (or uploads) of user `user_id` are stored."""
    return f"{kind}{user_id}/"


def new_upload_key(user_id):
    """Return a new private key for one of the user's uploads."""
    return f"{user_prefix(user_id, UPLOAD_PREFIX)}{secrets.token_urlsafe(16)}"


def put_private(key, data):
    """Store `data` under `key`, readable only with the app's credentials."""
    store = bucket()
    with failures_as(f"storing {key}"):
        store.client.put_object(
            Bucket=store.name, Key=key, Body=data, ContentType="application/octet-stream"
        )


def get_object(key):
    """Return the bytes stored under `key`."""
    store = bucket()
    with failures_as(f"reading {key}"):
        return store.client.get_object(Bucket=store.name, Key=key)["Body"].read()


def put_image(user_id, data, content_type, extension):
    """Store an image under a new random key of the user's and return its public URL."""
    store = bucket()
    key = f"{user_prefix(user_id)}{secrets.token_urlsafe(16)}.{extension}"
    with failures_as(f"storing {key}"):
        store.client.put_object(
            Bucket=store.name,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )
    return f"{store.public_url}/{key}"


def key_for_url(url):
    """Return the key of a photo URL made by put_image(), or None for any other URL."""
    parts = urlsplit(url or "").path.rsplit("/", 3)
    if len(parts) == 4 and f"{parts[1]}/" == PHOTO_PREFIX:
        return "/".join(parts[1:])
    return None


def delete_key(key):
    """Delete one object (deleting a missing key succeeds, as S3 does)."""
    store = bucket()
    with failures_as(f"deleting {key}"):
        store.client.delete_object(Bucket=store.name, Key=key)


def list_objects(prefix=PHOTO_PREFIX):
    """Yield (key, last modified) of every object under `prefix`."""
    store = bucket()
    with failures_as(f"listing {prefix}"):
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.name, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]


def delete_prefix(prefix):
    """Delete every object under `prefix` and return how many there were."""
    keys = [key for key, _ in list_objects(prefix)]
    for key in keys:
        delete_key(key)
    return len(keys)


def delete_or_log(what, delete, *args):
    """Delete objects the database no longer refers to; if the store fails, log what is left.

    The rows are gone already, so the user's action stands: `flask storage cleanup`
    removes what this leaves behind.
    """
    try:
        delete(*args)
    except StorageError as error:
        logger.warning(
            "orphaned %s left in the object store (%s); `flask storage cleanup` removes it",
            what,
            error,
        )


def delete_photo(url):
    """Delete the object behind a photo URL that no user holds any more."""
    key = key_for_url(url)
    if key:
        delete_or_log(key, delete_key, key)


class ObjectMissing(StorageError):
    """The store answered that no object exists under the key."""


def head(key):
    """Return the size, last-modified time and user metadata of the object under `key`."""
    store = bucket()
    try:
        with failures_as(f"looking up {key}"):
            answer = store.client.head_object(Bucket=store.name, Key=key)
    except StorageError as error:
        if is_missing(error.__cause__):
            raise ObjectMissing(f"no object under {key}") from error
        raise
    return answer["ContentLength"], answer["LastModified"], answer.get("Metadata", {})


def is_missing(error):
    """Return whether a botocore error is the store saying the key does not exist."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound")


def first_bytes(key, count):
    """Return up to `count` bytes from the start of an object (a ranged GET, never the rest)."""
    store = bucket()
    with failures_as(f"reading the start of {key}"):
        answer = store.client.get_object(Bucket=store.name, Key=key, Range=f"bytes=0-{count - 1}")
        return answer["Body"].read(count)


def copy(source, target):
    """Copy an object inside the bucket; the store does it, no byte passes through here."""
    store = bucket()
    with failures_as(f"copying {source} to {target}"):
        store.client.copy_object(
            Bucket=store.name,
            Key=target,
            CopySource={"Bucket": store.name, "Key": source},
            MetadataDirective="REPLACE",
            ContentType="application/octet-stream",
        )


def upload_url(config):
    """Return where browsers POST files: the bucket itself, never a CDN in front of it."""
    return bucket_url(config["S3_BUCKET"], config["S3_ENDPOINT_URL"], config["AWS_REGION"])


def upload_form(key, max_bytes, expires_in, after, filename_field):
    """Sign a browser POST of one file to `key`; return the form's URL and hidden fields.

    The policy fixes the key, the size range (1 byte to `max_bytes`), the expiry and
    `after`: `("redirect", url)` sends the browser back to `url` (a plain form) and
    `("status", "201")` answers a script. `filename_field` names a metadata field the
    browser may fill with the file's name (`${filename}` lets S3 fill it in itself).
    """
    kind, value = after
    field = {"redirect": "success_action_redirect", "status": "success_action_status"}[kind]
    fields = {field: value, filename_field: "${filename}"}
    conditions = [
        {field: value},
        ["content-length-range", 1, max_bytes],
        ["starts-with", f"${filename_field}", ""],
    ]
    store = bucket()
    with failures_as(f"signing an upload to {key}"):
        post = store.client.generate_presigned_post(
            store.name, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
    return upload_url(current_app.config), post["fields"]


def download_url(key, disposition, content_type, expires_in):
    """Return a URL that serves the object for `expires_in` seconds with these headers."""
    store = bucket()
    with failures_as(f"signing a download of {key}"):
        return store.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": store.name,
                "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=expires_in,
        )
