"""Revision files read as text, so a test names a revision's parent as the revision does."""

import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def parent_of(revision):
    """Return the down_revision that revision `revision` names (relinked at merges)."""
    (path,) = VERSIONS.glob(f"{revision}_*.py")
    return re.search(r'^down_revision = "(\w+)"', path.read_text(), re.MULTILINE)[1]
