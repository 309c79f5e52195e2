"""`flask storage check`: whether the bucket keeps old versions of what is overwritten or
deleted, for a bounded time, and aborts unfinished uploads (docs/operations.md), asked of the
suite's S3 server (moto) as of any S3-compatible store."""

import uuid

import pytest

from app import create_app
from app.extensions import db

OLD_VERSIONS = {
    "ID": "old-versions",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
}
UNFINISHED_UPLOADS = {
    "ID": "unfinished-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
}


@pytest.fixture
def bucket(app, object_store):
    """A new bucket on the suite's S3 server, and an app that uses it; return (app, its name)."""
    name = f"memo-check-{uuid.uuid4().hex[:12]}"
    object_store.client().create_bucket(Bucket=name)
    application = create_app("config.TestingConfig", {"S3_BUCKET": name})
    yield application, name
    with application.app_context():
        db.engine.dispose()


def check(application):
    result = application.test_cli_runner().invoke(args=["storage", "check"])
    return result.exit_code, result.stdout, result.stderr.strip()


def test_a_new_bucket_has_no_safety_net_and_the_check_says_what_is_missing(bucket):
    application, _ = bucket
    code, printed, error = check(application)
    assert code == 1
    assert "versioning: never enabled" in printed
    assert "old versions expire after: never (no rule)" in printed
    assert error == (
        "Error: the bucket's safety net is not on: versioning is not enabled; no rule expires "
        "old versions; no rule aborts unfinished uploads (docs/operations.md)"
    )


def test_versioning_with_both_lifecycle_rules_is_a_safety_net(bucket, object_store):
    application, name = bucket
    client = object_store.client()
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration={"Rules": [OLD_VERSIONS, UNFINISHED_UPLOADS]}
    )
    code, printed, error = check(application)
    assert (code, error) == (0, "")
    assert "versioning: Enabled" in printed
    assert "old versions expire after: 30 days" in printed
    assert "unfinished multipart uploads aborted after: 7 days" in printed
    assert printed.strip().endswith("the bucket's safety net is on")


def test_a_rule_for_part_of_the_bucket_or_a_disabled_one_does_not_count(bucket, object_store):
    application, name = bucket
    client = object_store.client()
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    exports_only = {**OLD_VERSIONS, "Filter": {"Prefix": "exports/"}}
    disabled = {**UNFINISHED_UPLOADS, "Status": "Disabled"}
    client.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration={"Rules": [exports_only, disabled]}
    )
    code, _, error = check(application)
    assert code == 1
    assert "no rule expires old versions; no rule aborts unfinished uploads" in error


def test_suspended_versioning_is_not_a_safety_net(bucket, object_store):
    application, name = bucket
    client = object_store.client()
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    code, printed, error = check(application)
    assert code == 1 and "versioning: Suspended" in printed
    assert "versioning is not enabled" in error
