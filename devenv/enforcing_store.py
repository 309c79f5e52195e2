"""s3rver, an S3 server (npm, pinned in devenv/s3rver/) that refuses expired presigned links.

moto serves a presigned GET long after its X-Amz-Expires; s3rver 3.7.1 refuses it
("Request has expired"), so the tests that concern a link's expiry run against it.
`scripts/dev.py test` installs it with `npm ci`; without node or the package the tests
that need it are skipped, saying why.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from devenv.liveserver import free_port

PACKAGE = Path(__file__).resolve().parent / "s3rver"
PROGRAM = PACKAGE / "node_modules" / "s3rver" / "bin" / "s3rver.js"
# s3rver's one account: these keys sign every request.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "S3RVER",
    "AWS_SECRET_ACCESS_KEY": "S3RVER",
    "AWS_REGION": "us-east-1",
}


def missing():
    """Return why s3rver cannot run here, or an empty string if it can."""
    if shutil.which("node") is None:
        return "node is not installed (./scripts/test installs s3rver when node and npm are)"
    if not PROGRAM.exists():
        return f"s3rver is not installed: run `npm ci --prefix {PACKAGE}` (./scripts/test does)"
    return ""


class EnforcingStore:
    """s3rver on 127.0.0.1 on a free port, with one bucket, its objects in a temporary folder."""

    def __init__(self, bucket):
        self.bucket = bucket
        self.folder = tempfile.TemporaryDirectory(prefix="memo-s3rver-")
        self.port = free_port()
        self.process = None

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        """Start the server and wait until it answers."""
        command = ["node", str(PROGRAM), "--directory", self.folder.name, "--silent"]
        command += ["--address", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen([*command, "--configure-bucket", self.bucket])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"s3rver did not start on port {self.port} within {timeout} s")

    def stop(self):
        """Stop the server and delete its objects."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.folder.cleanup()

    def settings(self):
        """Return the app settings that point Memo at this store."""
        return {
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_PUBLIC_URL": f"{self.endpoint_url}/{self.bucket}",
            **CREDENTIALS,
        }
