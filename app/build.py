"""Which code this is: the one name of a release, for the pages' tags, the offline worker's
caches and the release phase's records.

The platform names the build's commit in one of BUILD_VARIABLES (Heroku sets the first two,
other builders the third). A local run has none: its code is named by a digest of the app's
files, so that a changed template, word or static file names other code.
"""

import hashlib
import os
from functools import cache
from pathlib import Path

BUILD_VARIABLES = ("HEROKU_BUILD_COMMIT", "HEROKU_SLUG_COMMIT", "SOURCE_VERSION")
PACKAGE = Path(__file__).resolve().parent


def build_commit():
    """Return the commit the platform built, or None."""
    return next((os.environ[name] for name in BUILD_VARIABLES if os.environ.get(name)), None)


@cache
def code_release():
    """Name the code that makes the pages: the build's commit (12 digits), else a digest of the
    app's files, its templates, words and static files too, read once a process (about 35 ms)."""
    commit = build_commit()
    if commit:
        return commit[:12]
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + path.read_bytes())
    return digest.hexdigest()[:12]
