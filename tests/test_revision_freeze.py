"""A revision on main is frozen: its code may not change once it has landed.

migrations/frozen.txt lists every landed revision with the checksum of its code (docstrings,
comments and formatting aside); this compares each file with its line, so it works in any
clone, shallow or not. A branch's new revision is listed by scripts/freeze_revisions.py, and
scripts/land keeps main's lines as they are. Relinking a shipped revision makes Alembic skip
its new ancestors on every database that ran it (docs/releases.md).
"""

import os
import subprocess
import sys

from app.release.freeze import (
    FROZEN,
    current_checksums,
    freeze_problems,
    read_frozen,
    revision_checksum,
)
from app.schema import HEAD, chain_heads, code_heads, code_revisions
from devenv import ROOT
from devenv.history import git

REVISION = """\"\"\"{doc}\"\"\"

from alembic import op

revision = "{revision}"
down_revision = {parent}


def upgrade():
    op.execute("{sql}")
"""


def revision_source(revision="0002", parent='"0001"', doc="A revision.", sql="SELECT 1"):
    """Return a revision file's text."""
    return REVISION.format(doc=doc, revision=revision, parent=parent, sql=sql)


def test_every_revision_here_is_frozen_with_the_code_it_landed_with():
    problems = freeze_problems(read_frozen(FROZEN.read_text()), current_checksums())
    assert problems == [], (
        "A landed revision is frozen (docs/releases.md): put the change in a new revision.\n"
        + "\n".join(problems)
    )


def test_a_revisions_docstring_comments_and_formatting_may_change():
    before = revision_checksum(revision_source())
    after = revision_checksum(
        revision_source(doc="A corrected docstring.").replace("    op.", "    # why\n    op.")
    )
    assert after == before


def test_a_relinked_or_edited_revision_is_named(tmp_path):
    (tmp_path / "0002_test.py").write_text(revision_source())
    frozen = current_checksums(tmp_path)
    (tmp_path / "0002_test.py").write_text(revision_source(parent='"0000"'))
    [relinked] = freeze_problems(frozen, current_checksums(tmp_path))
    assert relinked.startswith("0002_test.py changed since it landed")
    (tmp_path / "0002_test.py").write_text(revision_source(sql="SELECT 2"))
    [edited] = freeze_problems(frozen, current_checksums(tmp_path))
    assert "put the change in a new revision" in edited


def test_a_new_revision_must_be_listed_and_a_listed_one_must_stay(tmp_path):
    (tmp_path / "0002_test.py").write_text(revision_source())
    frozen = current_checksums(tmp_path)
    (tmp_path / "0003_test.py").write_text(revision_source("0003", '"0002"'))
    (tmp_path / "0002_test.py").unlink()
    problems = freeze_problems(frozen, current_checksums(tmp_path))
    assert problems == [
        "0002_test.py is frozen but no longer in migrations/versions",
        "0003_test.py is not in migrations/frozen.txt: add it with "
        "`python scripts/freeze_revisions.py` before it lands",
    ]


def test_the_freeze_script_lists_new_revisions_and_never_changes_mains_lines(tmp_path):
    """In a scratch checkout (its own migrations/), as a developer runs it on a branch."""
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    release = ("app/__init__.py", "app/release/__init__.py", "app/release/ddl.py")
    for name in ("migrations/__init__.py", *release, "app/release/freeze.py", "app/schema.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    (versions / "0001_test.py").write_text(revision_source("0001", "None"))
    git("init", "-q", "-b", "main", cwd=tmp_path)
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
        "--allow-empty", "-m", "start", cwd=tmp_path)  # fmt: skip
    script = [sys.executable, str(ROOT / "scripts" / "freeze_revisions.py")]

    def freeze():
        # The scratch checkout's app/ and migrations/ come first, as the repository's do in its own.
        environ = {**os.environ, "PYTHONPATH": str(tmp_path)}
        return subprocess.run(script, cwd=tmp_path, env=environ, capture_output=True, text=True)

    assert freeze().returncode == 0
    git("add", "-A", cwd=tmp_path)
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
        "-m", "0001 lands", cwd=tmp_path)  # fmt: skip
    (versions / "0002_test.py").write_text(revision_source())
    listed = freeze()
    assert listed.returncode == 0 and "new on this branch: ['0002_test.py']" in listed.stdout
    assert (tmp_path / "migrations" / "head.txt").read_text() == "0002\n"
    (versions / "0002_test.py").write_text(revision_source(sql="SELECT 2"))
    assert freeze().returncode == 0  # not on main yet: its line follows it
    (versions / "0001_test.py").write_text(revision_source("0001", '"0000"'))
    refused = freeze()
    assert refused.returncode == 1
    assert "0001_test.py differ from main's frozen lines" in refused.stderr


# Revisions before 0017 landed out of order (0011, 0014, 0013, 0016, 0015, 0017): shipped
# as they are. From 0017 on, each file's number is its parent's plus one, so listing the
# folder shows the chain; scripts/relink_revision.py --renumber keeps it so at a merge.
NUMBERED_IN_ORDER_FROM = "0017"


def test_from_0017_each_revision_is_numbered_one_above_its_parent():
    chain = code_revisions()
    names = {path.name.split("_")[0]: path.name for path in FROZEN.parent.glob("versions/*.py")}
    assert set(names) == set(chain), "a revision's file name starts with its id"
    out_of_order = [
        f"{names[revision]} revises {parents[0]}"
        for revision, parents in chain.items()
        if len(parents) == 1
        and parents[0] >= NUMBERED_IN_ORDER_FROM
        and int(revision) != int(parents[0]) + 1
    ]
    assert out_of_order == []


def test_the_head_readyz_expects_is_the_chains_head():
    """/readyz compares the database with migrations/head.txt, which only the freeze script
    writes: a revision added or relinked without running it again fails here, not in production."""
    lines = HEAD.read_text().splitlines()
    heads = sorted(chain_heads())
    assert lines == [" ".join(heads)], (
        f"migrations/head.txt says {lines}, but the chain's head is {heads}: run "
        "`.venv/bin/python scripts/freeze_revisions.py` and commit migrations/head.txt"
    )
    assert code_heads() == set(heads)
