"""The S3 client: the only module that imports boto3, and it knows no key layout.

Every call names its key; which keys exist, what they hold and who deletes them is
app/objects.py's business. Failures of any kind become one StorageError.
"""

import sys
import threading
from contextlib import contextmanager
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from config import bucket_url


class StorageError(Exception):
    """The object store refused a request or did not answer; the message says which."""


class Bucket(NamedTuple):
    """An S3 client and the bucket it works on."""

    client: Any
    name: str


def init_app(app):
    """Note the store's settings; the client is made on first use, not at every start-up.

    Making a boto3 client loads the S3 service model (about 0.1 s): the release phase and
    every worker boot would pay it, though most never touch the store.
    """
    app.extensions["storage"] = None
    app.extensions["storage_transfers"] = None
    app.extensions["storage_lock"] = threading.Lock()


def make_bucket(config, read_timeout=3, attempts=1):
    """Create the S3 client; boto3 clients are thread-safe, so every request shares it."""
    # botocore 1.44 (httpsession.py) imports urllib3.contrib.pyopenssl only to take the
    # standard library's ssl.SSLContext from it; with pyOpenSSL installed (py_webauthn needs
    # it) that loads pyOpenSSL and cryptography: 9.9 MB in every web worker once it signed an
    # upload form (my page does). Marked missing, botocore takes the same ssl.SSLContext from
    # urllib3.util.ssl_. Nothing of Memo's uses urllib3's pyOpenSSL support.
    sys.modules.setdefault("urllib3.contrib.pyopenssl", None)
    import boto3  # imported here, with the client: 0.17 s that most processes never need
    from botocore.config import Config as BotoConfig  # with boto3, for the same reason

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
            read_timeout=read_timeout,
            retries={"total_max_attempts": attempts, "mode": "standard"},
            # MinIO, R2 and local servers answer for buckets under the endpoint's path.
            s3={"addressing_style": "path" if endpoint else "auto"},
            # Presigned uploads and downloads: SigV4, the one every S3-compatible store takes.
            signature_version="s3v4",
            # boto3 1.36+ adds checksums that several S3-compatible stores refuse.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return Bucket(client, config["S3_BUCKET"])


def bucket(kind="storage", **options):
    """Return the current app's bucket, or raise StorageError if none is configured."""
    extensions = current_app.extensions
    if extensions[kind] is None:
        if not current_app.config["S3_BUCKET"]:
            raise StorageError("no object store is configured (S3_BUCKET is unset)")
        with extensions["storage_lock"]:
            if extensions[kind] is None:
                extensions[kind] = make_bucket(current_app.config, **options)
    return extensions[kind]


def transfers_bucket():
    """Return the bucket for a worker's large transfers: a minute to answer, three attempts.

    Completing a multipart upload of a large archive can take the store longer than the
    3 s a web request may wait; nobody waits on a job for it.
    """
    return bucket("storage_transfers", read_timeout=60, attempts=3)


@contextmanager
def failures_as(action):
    """Turn any botocore failure, network or refusal, into one StorageError naming `action`."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise StorageError(f"{action} failed: {error}") from error


def put_object(key, data, content_type="application/octet-stream", cache_control=None):
    """Store `data` under `key`; who may read it is the bucket policy's business."""
    store = bucket()
    headers = {"CacheControl": cache_control} if cache_control else {}
    with failures_as(f"storing {key}"):
        store.client.put_object(
            Bucket=store.name, Key=key, Body=data, ContentType=content_type, **headers
        )


# An export archive goes up in parts of this size, two at a time: a worker's memory stays flat.
TRANSFER_PART_BYTES = 8 * 1024 * 1024
TRANSFER_PARTS_AT_ONCE = 2


def upload_file(key, file, content_type):
    """Store the contents of an open file under a private `key`, in parts (multipart upload)."""
    from boto3.s3.transfer import TransferConfig  # with boto3 itself, lazily: see make_bucket

    store = transfers_bucket()
    transfer = TransferConfig(
        multipart_threshold=TRANSFER_PART_BYTES,
        multipart_chunksize=TRANSFER_PART_BYTES,
        max_concurrency=TRANSFER_PARTS_AT_ONCE,
    )
    # s3transfer reads the parts of a file object into memory, by default up to 10 of them
    # ahead (80 MiB here: +82 MB on a 100 MB export); two keep two uploads busy. boto3 1.44's
    # TransferConfig takes no argument for it, but keeps s3transfer's attribute.
    transfer.max_in_memory_upload_chunks = TRANSFER_PARTS_AT_ONCE
    with failures_as(f"storing {key}"):
        store.client.upload_fileobj(
            file, store.name, key, ExtraArgs={"ContentType": content_type}, Config=transfer
        )


class ObjectTooLarge(StorageError):
    """The object holds more bytes than its reader allows."""


def copy_object_into(key, file, most=None, chunk_bytes=1024 * 1024):
    """Write the object under `key` into an open file, a chunk at a time; past `most` bytes
    stop and raise ObjectTooLarge."""
    store = transfers_bucket()
    written = 0
    with failures_as(f"reading {key}"):
        body = store.client.get_object(Bucket=store.name, Key=key)["Body"]
        for chunk in body.iter_chunks(chunk_bytes):
            written += len(chunk)
            if most is not None and written > most:
                body.close()
                raise ObjectTooLarge(f"{key} holds more than {most} bytes")
            file.write(chunk)


def get_object(key):
    """Return the bytes stored under `key`."""
    store = bucket()
    with failures_as(f"reading {key}"):
        return store.client.get_object(Bucket=store.name, Key=key)["Body"].read()


def delete_key(key):
    """Delete one object (deleting a missing key succeeds, as S3 does)."""
    store = bucket()
    with failures_as(f"deleting {key}"):
        store.client.delete_object(Bucket=store.name, Key=key)


def list_objects(prefix):
    """Yield (key, last modified) of every object under `prefix`."""
    store = bucket()
    with failures_as(f"listing {prefix}"):
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.name, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]


def abort_unfinished_uploads(prefix, started_before):
    """Abort the multipart uploads under `prefix` started before `started_before` (a worker
    killed while it sent an archive leaves one, whose parts the store keeps and bills); return
    how many."""
    store = bucket()
    aborted = 0
    with failures_as(f"listing the unfinished uploads under {prefix}"):
        pages = store.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=store.name, Prefix=prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < started_before:
                    store.client.abort_multipart_upload(
                        Bucket=store.name, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
    return aborted


def delete_prefix(prefix):
    """Delete every object under `prefix` and return how many there were."""
    keys = [key for key, _ in list_objects(prefix)]
    for key in keys:
        delete_key(key)
    return len(keys)


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


def upload_form(key, sizes, expires_in, after, filename_field):
    """Sign a browser POST of one file to `key`; return the form's URL and hidden fields.

    The policy fixes the key, the size range (`sizes`: the least and most bytes), the expiry and
    `after`: `("redirect", url)` sends the browser back to `url` (a plain form) and
    `("status", "201")` answers a script. `filename_field` names a metadata field the
    browser may fill with the file's name (`${filename}` lets S3 fill it in itself).
    """
    kind, value = after
    field = {"redirect": "success_action_redirect", "status": "success_action_status"}[kind]
    fields = {field: value, filename_field: "${filename}"}
    conditions = [
        {field: value},
        ["content-length-range", *sizes],
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


class SafetyNet(NamedTuple):
    """What keeps a deleted or overwritten object recoverable, as the bucket says."""

    versioning: str  # "Enabled", "Suspended" or "never enabled"
    old_versions_days: int | None  # a whole-bucket rule expires old versions after so many days
    abort_uploads_days: int | None  # ... and aborts unfinished multipart uploads


def safety_net():
    """Return the bucket's versioning state and the lifecycle rules that bound it."""
    store = bucket()
    with failures_as("reading the bucket's versioning"):
        versioning = store.client.get_bucket_versioning(Bucket=store.name).get("Status")
    try:
        with failures_as("reading the bucket's lifecycle rules"):
            answer = store.client.get_bucket_lifecycle_configuration(Bucket=store.name)
        rules = [rule for rule in answer.get("Rules", []) if whole_bucket_rule(rule)]
    except StorageError as error:
        code = getattr(error.__cause__, "response", {}).get("Error", {}).get("Code")
        if code != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    old = [r["NoncurrentVersionExpiration"].get("NoncurrentDays") for r in rules
           if "NoncurrentVersionExpiration" in r]  # fmt: skip
    aborts = [r["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation") for r in rules
              if "AbortIncompleteMultipartUpload" in r]  # fmt: skip
    return SafetyNet(
        versioning or "never enabled", min(old, default=None), min(aborts, default=None)
    )


def whole_bucket_rule(rule):
    """Whether a lifecycle rule is enabled for every object (no prefix, tag or size filter)."""
    scope = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    return rule.get("Status") == "Enabled" and scope in ({}, {"Prefix": ""})
