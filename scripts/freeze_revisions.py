#!/usr/bin/env python3
"""List this branch's new revisions in migrations/frozen.txt, and the chain's head in head.txt.

    .venv/bin/python scripts/freeze_revisions.py [--main main]

Every revision on main is listed there and frozen (docs/releases.md). A revision this branch
adds is listed too, and its line may change as long as main's frozen.txt does not have it:
run this again after editing, renumbering or relinking it. A line main has is never changed
here; the freeze test names such a revision, and the change belongs in a new revision.

migrations/head.txt is one line, the chain's head, which /readyz compares the database with
(the web reads it instead of the revision files). This script is the one way to write it: a
new or relinked revision means running it again, and tests/test_revision_freeze.py fails until
then. Two branches that each add a revision both change it; whichever lands second relinks
its revision (scripts/land --relink runs this script after relinking).
"""

import argparse
import subprocess
import sys

from app.release.freeze import FROZEN, current_checksums, read_frozen
from app.schema import HEAD, VERSIONS, chain_heads

HEADER = (
    "# Every revision that has landed on main, with the SHA-256 of its code (docstrings and\n"
    "# comments aside): frozen. tests/test_revision_freeze.py compares each file with its line;\n"
    "# scripts/freeze_revisions.py lists a branch's new revisions; scripts/land keeps main's.\n"
)


def main_entries(ref):
    """Return main's frozen.txt entries, or exit if git cannot read them."""
    shown = subprocess.run(
        ["git", "show", f"{ref}:migrations/frozen.txt"], capture_output=True, text=True
    )
    if shown.returncode:
        missing = "does not exist" in shown.stderr or "exists on disk" in shown.stderr
        if missing:
            return {}
        sys.exit(f"freeze_revisions: cannot read {ref}'s frozen.txt: {shown.stderr.strip()}")
    return read_frozen(shown.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--main", default="main", help="the ref whose lines are frozen")
    args = parser.parse_args()
    shipped = main_entries(args.main)
    current = current_checksums()
    changed = [name for name, checksum in shipped.items() if current.get(name) != checksum]
    if changed:
        sys.exit(
            f"freeze_revisions: {', '.join(changed)} differ from {args.main}'s frozen lines; a "
            "landed revision is frozen: restore it and put the change in a new revision"
        )
    lines = [f"{name} {checksum}" for name, checksum in current.items()]
    FROZEN.write_text(HEADER + "\n".join(lines) + "\n")
    heads = sorted(chain_heads(VERSIONS))
    HEAD.write_text(" ".join(heads) + "\n")
    added = sorted(current.keys() - shipped.keys())
    print(f"migrations/frozen.txt: {len(lines)} revisions; new on this branch: {added or 'none'}")
    print(f"migrations/head.txt: {' '.join(heads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
