"""Real local services for development, tests and benchmarks: PostgreSQL (pgserver) and S3 (moto).

Neither is a fake: pgserver runs the PostgreSQL 16 server binaries, and moto's
server mode answers the S3 API over HTTP, so the app talks to both exactly as
it talks to a managed database and a bucket in production.
"""

import fcntl
import json
import logging
import mimetypes
import os
import shutil
import signal
import tempfile
import warnings
from pathlib import Path

import psycopg2
from psycopg2 import sql

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "memo-local",
    "AWS_SECRET_ACCESS_KEY": "memo-local-secret",
    "AWS_REGION": "us-east-1",
}


# As root, pgserver runs PostgreSQL as this system user, made with `useradd` on first use.
POSTGRES_SYSTEM_USER = "pgserver"
# Every process of ours that may make that user takes this lock first (see ensure_system_user).
SYSTEM_USER_LOCK = Path(tempfile.gettempdir()) / "memo-pgserver-user.lock"


def ensure_system_user():
    """As root, make pgserver's system user once, whichever process gets here first.

    pgserver checks for the user and calls `useradd` without a lock: processes starting
    servers at once on a fresh machine (the suite's) each call it, and one can run `initdb`
    as a uid that the next `useradd` replaced. Under this lock only the first one makes it.
    """
    if os.geteuid() != 0:
        return
    from pgserver.utils import ensure_user_exists

    with open(SYSTEM_USER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_user_exists(POSTGRES_SYSTEM_USER)


def start_postgres(data_dir, cleanup_mode="stop"):
    """Start (or reuse) an embedded PostgreSQL keeping its data in `data_dir`; return it."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver

    ensure_system_user()
    Path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(Path(data_dir), cleanup_mode=cleanup_mode)


def throwaway_postgres(prefix):
    """Start an embedded PostgreSQL in a new temporary folder that goes when it stops.

    Return the server and the folder (for the caller's other throwaway files).
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    return start_postgres(folder / "postgres", cleanup_mode="delete"), folder


def stop_postgres(server, timeout=30):
    """Stop an embedded PostgreSQL with a fast shutdown (SIGINT), whoever started it.

    pgserver stops a server only when its last known user exits, and a user that
    was killed is never forgotten; the run command owns its server, so it stops it.
    """
    import psutil

    pid = server.get_pid()
    try:
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout)
    except psutil.NoSuchProcess:
        pass


def connect(url):
    """Return a connection to `url` that runs each statement on its own (autocommit)."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def execute(url, *statements):
    """Run statements on `url`, each outside any transaction (CREATE DATABASE needs that)."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def query(url, statement, parameters=()):
    """Return the rows (tuples) of one query on `url`."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def ensure_database(admin_url, name, recreate=False):
    """Create database `name` on the server behind `admin_url` unless it exists."""
    if recreate:
        execute(
            admin_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )
    if not query(admin_url, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
        execute(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class ObjectStore:
    """moto's S3 server on 127.0.0.1, with one bucket whose photos anyone may read.

    Attachments stay private (downloads go through presigned URLs), and only the web
    origins given to allow_uploads_from() may send them from a script (CORS).
    """

    def __init__(self, bucket, port=0):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.bucket = bucket
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint_url = None

    def start(self):
        """Start the server and create the bucket with a public-read policy."""
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        client = self.client()
        client.create_bucket(Bucket=self.bucket)
        # moto answers anonymous GETs with 403 unless a policy allows them; browsers
        # load the profile photos anonymously, exactly as from a public bucket or CDN.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadPhotos",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    # Photos only: raw uploads under uploads/ stay private, as they should
                    # in a production bucket.
                    "Resource": f"arn:aws:s3:::{self.bucket}/avatars/*",
                }
            ],
        }
        client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))
        return self

    def allow_uploads_from(self, *origins):
        """Let scripts on these web origins POST files to the bucket; no other origin may."""
        rule = {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 600,
        }
        self.client().put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})

    def stop(self):
        """Stop the server; its objects are gone unless saved first."""
        self.server.stop()

    def restart(self):
        """Serve again on the same port after stop(); moto keeps the objects in this process."""
        from moto.server import ThreadedMotoServer

        host, port = self.endpoint_url.removeprefix("http://").split(":")
        self.server = ThreadedMotoServer(ip_address=host, port=int(port), verbose=False)
        self.server.start()

    @property
    def public_url(self):
        """Return the base URL that objects are served from (path-style)."""
        return f"{self.endpoint_url}/{self.bucket}"

    def environment(self):
        """Return the variables that point the app at this store."""
        return {
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_PUBLIC_URL": self.public_url,
            **LOCAL_CREDENTIALS,
        }

    def client(self):
        """Return a boto3 client for this store (one per address: making one costs about
        as much as a test's requests, and the suite empties the bucket after every test)."""
        import boto3

        if getattr(self, "_client_for", None) != self.endpoint_url:
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region_name=LOCAL_CREDENTIALS["AWS_REGION"],
            )
            self._client_for = self.endpoint_url
        return self._client

    def empty(self):
        """Delete every object in the bucket."""
        while keys := sorted(stored_keys(self))[:1000]:  # a deletion takes at most 1,000 keys
            batch = [{"Key": key} for key in keys]
            self.client().delete_objects(Bucket=self.bucket, Delete={"Objects": batch})

    def in_this_process(self):
        """Return moto's bucket when its server runs in this process (as the suite's does),
        else None."""
        from moto.s3.models import s3_backends

        for account in list(s3_backends.keys()):
            for backend in s3_backends[account].values():
                bucket = backend.buckets.get(self.bucket)
                if bucket is not None:
                    return bucket
        return None

    def save(self, folder):
        """Mirror every object into `folder`, so a restart of the store keeps them."""
        client, folder = self.client(), Path(folder)
        staging = folder.with_name(folder.name + ".saving")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        saved = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                target = staging / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                body = client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                target.write_bytes(body.read())
                saved += 1
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        return saved

    def restore(self, folder):
        """Upload the objects saved in `folder` by a previous run."""
        client, folder = self.client(), Path(folder)
        restored = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            client.put_object(
                Bucket=self.bucket,
                Key=path.relative_to(folder).as_posix(),
                Body=path.read_bytes(),
                ContentType=content_type,
            )
            restored += 1
        return restored


def stored_keys(store, prefix=""):
    """Return the keys of the objects in a store's bucket (under `prefix`)."""
    return set(stored_tags(store, prefix))


def stored_tags(store, prefix=""):
    """Return each stored object's key (under `prefix`) with its ETag, a digest of its bytes.

    Read from moto's objects when its server runs in this process, as moto lists them (a
    listing over HTTP costs about 6.5 ms of CPU, and the tests list the bucket before and
    after what they check); listed over HTTP from any other store.
    """
    from moto.s3.models import FakeDeleteMarker

    bucket = store.in_this_process() if isinstance(store, ObjectStore) else None
    if bucket is None:
        pages = store.client().get_paginator("list_objects_v2")
        listed = pages.paginate(Bucket=store.bucket, Prefix=prefix)
        return {item["Key"]: item["ETag"] for page in listed for item in page.get("Contents", [])}
    # Each key's versions, copied in one step: moto's server thread may be storing or deleting
    # meanwhile (its own items() copies the keys, then looks each up again).
    versions = list(dict.items(bucket.keys))
    latest = [(name, kept[-1]) for name, kept in versions if kept and name.startswith(prefix)]
    return {name: key.etag for name, key in latest if not isinstance(key, FakeDeleteMarker)}
