"""A revision on main is frozen: its code may not change once main has shipped it.

Main is `main` (else `origin/main`, else HEAD), or the ref in MEMO_MAIN_REF.

Each revision file is compared with the version main's first-parent line first had
(every later version on that line, and the file in this tree): `down_revision`, the
operations and the marks may not change; docstrings, comments and formatting may.
Relinking a shipped revision makes Alembic skip its new ancestors on every database that
ran it (issue 19); the history of how it happened here is in docs/releases.md.
"""

import os
import subprocess

import pytest

from devenv.history import (
    HistoryUnavailable,
    check_history_is_complete,
    frozen_violations,
    main_ref,
)

# Edits made on main before this rule existed, each accepted as it is: the version such a
# commit left is the one later versions are compared with. Never add to this list.
ACCEPTED_BEFORE_THE_RULE = {
    # 0001 was rewritten while it was the only revision, before any release shipped.
    "migrations/versions/0001_users_and_notes.py": {"1ff6934", "1c52a63"},
    # Relinked onto 0002 at the merge of issue 3, then its import moved to app.release.
    "migrations/versions/0003_note_completed.py": {"85fe498", "c10d2fe"},
    "migrations/versions/0002_user_image_url.py": {"c10d2fe"},
    # The relinks of issue 19: 0011 onto 0007, then 0010; 0010 onto 0009.
    "migrations/versions/0011_note_search.py": {"fc10c9e", "2122606"},
    "migrations/versions/0010_attachments.py": {"254c475"},
    # Its import moved to app.release, then it was marked backward compatible.
    "migrations/versions/0007_background_work.py": {"3aec1c1", "709aca1"},
}

REVISION = """\"\"\"{doc}\"\"\"

from alembic import op

revision = "{revision}"
down_revision = {parent}


def upgrade():
    op.execute("{sql}")
"""


def test_no_revision_shipped_on_main_changed_its_code():
    """Every revision file here, and every version of it on main, has the code main shipped."""
    try:
        check_history_is_complete()
    except HistoryUnavailable as error:
        pytest.skip(f"main's history is not here, so the freeze cannot be checked: {error}")
    # scripts/land sets MEMO_MAIN_REF to the merge it verifies: main as it will be.
    problems = frozen_violations(
        main_ref(os.environ.get("MEMO_MAIN_REF")), ACCEPTED_BEFORE_THE_RULE
    )
    assert not problems, (
        "A shipped revision is frozen (docs/releases.md): put the change in a new revision, and "
        "relink only your branch's new revision onto main's head (scripts/relink_revision.py).\n"
        + "\n".join(problems)
    )


def commit_revision(repo, revision, parent, doc="A revision.", sql="SELECT 1"):
    """Write a revision file into the scratch repository and commit it on main."""
    versions = repo / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    text = REVISION.format(doc=doc, revision=revision, parent=parent, sql=sql)
    (versions / f"{revision}_test.py").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{revision}: {doc}")


def git(repo, *args):
    """Run git in the scratch repository."""
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    """A scratch repository on main with two revisions, 0001 and 0002."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "test@example.com")
    git(tmp_path, "config", "user.name", "test")
    commit_revision(tmp_path, "0001", "None")
    commit_revision(tmp_path, "0002", '"0001"')
    return tmp_path


def test_a_shipped_revisions_docstring_may_change(repo):
    """A new docstring, comment or formatting is not a change of the code."""
    commit_revision(repo, "0002", '"0001"', doc="A corrected docstring.")
    assert frozen_violations("main", {}, cwd=repo) == []


def test_a_relinked_shipped_revision_is_refused_on_main_and_in_the_tree(repo):
    """Changing down_revision of a revision main shipped is named, by commit and in the tree."""
    commit_revision(repo, "0003", '"0002"')
    commit_revision(repo, "0003", '"0001"')
    problems = frozen_violations("main", {}, cwd=repo)
    assert len(problems) == 2
    assert "0003_test.py: " in problems[0]
    assert "changed down_revision from '0002' to '0001'" in problems[0]
    assert "this tree changes down_revision from '0002' to '0001'" in problems[1]


def test_a_shipped_revisions_operations_may_not_change(repo):
    """An operation edited in place is a change, even when the file is otherwise the same."""
    commit_revision(repo, "0002", '"0001"', sql="SELECT 2")
    on_main, in_tree = frozen_violations("main", {}, cwd=repo)
    assert "0002_test.py: " in on_main
    assert "changed upgrade() (shipped by " in on_main
    assert "this tree changes upgrade()" in in_tree
