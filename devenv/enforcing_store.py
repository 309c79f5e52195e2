"""LocalStack's S3 on the host (PyPI, pinned in devenv/localstack/): a store that checks links.

moto serves a presigned GET with a forged signature or after it expired, and stores a browser
POST whatever its policy says. LocalStack's S3 (localstack-core 4.13.1), run without Docker
and with S3_SKIP_SIGNATURE_VALIDATION=0, refuses a presigned GET whose SigV4 signature does
not match or that has expired, and a POST whose policy has expired or whose form breaks one of
the policy's conditions (the key, `content-length-range`, the redirect or status). It does not
check the signature of a POST's policy itself (docs/attachments.md says what that leaves).

It runs from a virtualenv of its own, devenv/localstack/.venv (it pins its own boto3), which
`scripts/dev.py test` creates; without it the tests that need it are skipped, saying why.
"""

import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from devenv.liveserver import free_port

FOLDER = Path(__file__).resolve().parent / "localstack"
REQUIREMENTS = FOLDER / "requirements.txt"
VENV = FOLDER / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"
# LocalStack checks a signature made with an access key it was never told of against the
# secret "test"; a link signed with any other secret is forged to it.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": "us-east-1",
}
SETTINGS = {
    "SERVICES": "s3",
    "EAGER_SERVICE_LOADING": "1",
    "S3_SKIP_SIGNATURE_VALIDATION": "0",
    # Its default server, twisted, needs service_identity for TLS, which only its image has.
    "GATEWAY_SERVER": "hypercorn",
    # Nothing but S3 on one port of 127.0.0.1: no DNS server, no calls home, no downloads.
    "DNS_ADDRESS": "0",
    "DISABLE_EVENTS": "1",
    "SKIP_SSL_CERT_DOWNLOAD": "1",
}


def requirements_digest():
    """Return the digest of the pinned requirements that an install is stamped with."""
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def missing():
    """Return why LocalStack cannot run here, or an empty string if it can."""
    if not PYTHON.exists():
        return f"LocalStack is not installed in {VENV} (./scripts/test installs it)"
    if not STAMP.exists() or STAMP.read_text() != requirements_digest():
        return f"{VENV} does not hold {REQUIREMENTS.name} as pinned (./scripts/test updates it)"
    return ""


class EnforcingStore:
    """LocalStack's S3 on 127.0.0.1 on a free port, with one bucket, its state in a temp folder."""

    def __init__(self, bucket):
        self.bucket = bucket
        self.folder = tempfile.TemporaryDirectory(prefix="memo-localstack-")
        self.port = free_port()
        self.process = None

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        """Start the server, wait until its S3 answers, and create the bucket."""
        folder = self.folder.name
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": folder,
            "TMPDIR": folder,
            "LOCALSTACK_VOLUME_DIR": f"{folder}/volume",
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            **SETTINGS,
        }
        with Path(folder, "localstack.log").open("wb") as log:
            self.process = subprocess.Popen(
                [str(PYTHON), "-m", "localstack.runtime.main"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.s3_is_running():
                self.client().create_bucket(Bucket=self.bucket)
                return self
            time.sleep(0.2)
        said = Path(folder, "localstack.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(
            f"LocalStack's S3 did not start on port {self.port} in {timeout} s:\n{said}"
        )

    def s3_is_running(self):
        """Return whether LocalStack says its S3 is up."""
        try:
            health = requests.get(f"{self.endpoint_url}/_localstack/health", timeout=2)
        except requests.ConnectionError:
            return False
        return health.ok and health.json().get("services", {}).get("s3") == "running"

    def stop(self):
        """Stop the server and delete its objects."""
        if self.process and self.process.poll() is None:
            # Nothing to save (its state is the temporary folder), and its shutdown takes seconds.
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()

    def client(self, secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"]):
        """Return a boto3 client for this store; `secret` other than its own forges signatures."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret,
            region_name=CREDENTIALS["AWS_REGION"],
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def settings(self):
        """Return the app settings that point Memo at this store."""
        return {
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_PUBLIC_URL": f"{self.endpoint_url}/{self.bucket}",
            **CREDENTIALS,
        }
