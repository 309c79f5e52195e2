"""What the web knows of the schema: its version, and whether a newer one is safe to serve.

/readyz reads these, and so does the release phase (app/release/). They only read:
the record of applied revisions (table `schema_revisions`, made by revision 0034) is written
by the release phase.
The head the code was written for is one line, migrations/head.txt, written with
migrations/frozen.txt by scripts/freeze_revisions.py; the rest of the chain (for a database
ahead of this release) is read from the revision files' text: importing them would load
Alembic's operations and the DDL helpers into every web worker.
"""

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import text

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
HEAD = VERSIONS.parent / "head.txt"  # one line: the chain's head, written at each freeze

COMPAT_TABLE = "schema_revisions"


def database_heads(connection):
    """Return the revisions alembic_version holds (empty for a new database)."""
    if not connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
        return set()
    return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


def compatibility_records(connection):
    """Return {revision: (down_revision, backward_compatible)} as recorded at upgrade."""
    if not connection.scalar(text(f"SELECT to_regclass('{COMPAT_TABLE}') IS NOT NULL")):
        return {}
    rows = connection.execute(
        text(f"SELECT revision, down_revision, backward_compatible FROM {COMPAT_TABLE}")
    )
    return {row.revision: (row.down_revision, row.backward_compatible) for row in rows}


class RollbackRefused(Exception):
    """The database is ahead of this release in a way this release must not run on."""


def check_rollback(connection, unknown, code_heads):
    """Explain why this older release may run on a newer schema, or raise RollbackRefused.

    Every revision between the database's heads and this code's heads must be
    recorded as backward compatible; then this release can serve as it is.
    """
    records = compatibility_records(connection)
    for head in sorted(unknown):
        revision = head
        while revision not in code_heads:
            if revision not in records:
                raise RollbackRefused(
                    f"the database is at revision {head}, which this release does not know, "
                    f"and nothing records whether {revision} is backward compatible; deploy "
                    "the release that has it, or downgrade the schema with that release first"
                )
            down_revision, compatible = records[revision]
            if not compatible:
                raise RollbackRefused(
                    f"the database is at revision {head}, ahead of this release "
                    f"({', '.join(sorted(code_heads))}), and revision {revision} is not marked "
                    "backward compatible, so this release's code may not work with it; roll "
                    "forward again, or run `flask db downgrade "
                    f"{', '.join(sorted(code_heads))}` with the newer release first"
                )
            revision = down_revision
    return (
        f"the database is at {', '.join(sorted(unknown))}, ahead of this release's head "
        f"{', '.join(sorted(code_heads))}; the newer revisions are marked backward compatible"
    )


@cache
def code_revisions(folder=VERSIONS):
    """Return {revision: its parents (a tuple)} as this release's revision files name them."""
    chain = {}
    for path in folder.glob("*.py"):
        names = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if getattr(target, "id", None) in ("revision", "down_revision"):
                        names[target.id] = ast.literal_eval(node.value)
        if "revision" in names:
            parents = names.get("down_revision")
            chain[names["revision"]] = (
                tuple(parents)
                if isinstance(parents, list | tuple)
                else ((parents,) if parents else ())
            )
    return chain


def chain_heads(folder=VERSIONS):
    """Return the revisions in `folder` that no other revision names as its parent."""
    chain = code_revisions(folder)
    parents = {parent for named in chain.values() for parent in named}
    return set(chain) - parents


@cache
def code_heads():
    """Return the head this release was written for, as scripts/freeze_revisions.py recorded it
    in migrations/head.txt (tests/test_revision_freeze.py checks it is the chain's head)."""
    return set(HEAD.read_text().split())
