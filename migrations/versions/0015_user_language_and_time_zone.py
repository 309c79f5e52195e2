"""Each user's language and time zone: user.language (nullable) and user.time_zone.

Revision ID: 0015
Revises: 0016
Create Date: 2026-11-23

user.language is NULL until the user chooses one: their pages then follow the browser's
Accept-Language, as they did before. user.time_zone is an IANA name, NOT NULL with the
constant default 'UTC', the zone every time was shown in before: on PostgreSQL 11+ adding
a column with a constant default is metadata only (no rewrite, no scan), so old rows read
'UTC' at once and the brief ACCESS EXCLUSIVE lock is all it takes. The previous release
never names either column; its inserts get the defaults. The names are checked by the app
(languages and zones change more often than the schema should).
"""

from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None

# The previous release never names language or time_zone; its inserts get the defaults.
backward_compatible = True


def upgrade():
    op.execute('ALTER TABLE "user" ADD COLUMN IF NOT EXISTS language text')
    op.execute(
        "ALTER TABLE \"user\" ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT 'UTC'"
    )


def downgrade():
    op.execute('ALTER TABLE "user" DROP COLUMN IF EXISTS time_zone')
    op.execute('ALTER TABLE "user" DROP COLUMN IF EXISTS language')
