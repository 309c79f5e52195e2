"""The record of applied revisions (schema_revisions), made by a revision like every table.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-26

Until this revision, each release phase created the table itself before migrating, then added
the columns checksum, release and note where an older release had made it without them. So
every database a release phase has touched has it: this revision creates it only where it is
missing, and adds only the columns missing (checked first: ALTER TABLE takes its lock even
when every column exists, and /readyz reads the table). On such a database it changes nothing.
On a new one, the revisions before this one run before the table exists: the release phase
keeps their records and writes them in this revision's transaction (app/release/records.py).

The downgrade leaves the table, rows and all: it records the revisions that stay applied
(their parents and checksums, which the release phase compares with its chain before every
upgrade), the release phase deletes this revision's own row in the same transaction, and the
releases before this one create the table themselves and write into it. Dropping it would
make the next release phase take every revision as run before the record existed.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# A table the previous release creates and writes itself, with the same columns.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-text-field": (
        "the columns keep the types every release so far created them with, so that the "
        "table is the same whichever made it"
    ),
}

TABLE = "schema_revisions"
LATER_COLUMNS = {"checksum": "varchar(64)", "release": "varchar(64)", "note": "text"}


def upgrade():
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
        " revision varchar(32) PRIMARY KEY,"
        " down_revision varchar(32),"
        " backward_compatible boolean NOT NULL,"
        " description text NOT NULL DEFAULT '',"
        " applied_at timestamptz NOT NULL DEFAULT now(),"
        " checksum varchar(64),"
        " release varchar(64),"
        " note text)"
    )
    missing = missing_columns()
    if missing:
        added = (f"ADD COLUMN IF NOT EXISTS {name} {LATER_COLUMNS[name]}" for name in missing)
        op.execute(f"ALTER TABLE {TABLE} {', '.join(added)}")


def missing_columns():
    """Return the later columns the table lacks (in `--sql` output: all, as for the oldest)."""
    if context.is_offline_mode():
        return list(LATER_COLUMNS)
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(TABLE)}
    return [name for name in LATER_COLUMNS if name not in present]


def downgrade():
    """Leave the table: it records the revisions that stay applied (see above)."""
