"""Profile photos: user.image_url, nullable and unique.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Safe on a live, populated table: adding a nullable column rewrites no row; the
unique index is built CONCURRENTLY outside a transaction (reads and writes go on,
so it may take as long as it needs), then attached as the constraint, which needs
only a brief lock. Each brief lock is guarded by a lock_timeout, so the release
fails fast (and can be rerun) instead of queueing every query behind it. A rerun
after a failure skips what is already done.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CONSTRAINT = "uq_user_image_url"


def upgrade():
    expect_quick_statements()
    op.add_column("user", sa.Column("image_url", sa.Text(), nullable=True), if_not_exists=True)
    with op.get_context().autocommit_block():
        drop_invalid_index(CONSTRAINT)
        # The app's 15 s statement_timeout would kill the build on a big table; it blocks no one.
        op.execute("SET statement_timeout = 0")
        op.execute(
            f'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {CONSTRAINT} ON "user" (image_url)'
        )
        op.execute("RESET statement_timeout")
    expect_quick_statements()
    op.execute(f'ALTER TABLE "user" ADD CONSTRAINT {CONSTRAINT} UNIQUE USING INDEX {CONSTRAINT}')


def downgrade():
    expect_quick_statements()
    op.drop_constraint(op.f(CONSTRAINT), "user", type_="unique")
    op.drop_column("user", "image_url")


def expect_quick_statements():
    """Fail this transaction soon rather than wait for a lock while queries queue behind it."""
    op.execute("SET LOCAL lock_timeout = '2s'")
    op.execute("SET LOCAL statement_timeout = '5s'")


def drop_invalid_index(name):
    """Drop the INVALID index a killed CONCURRENTLY build leaves, so a rerun builds it anew."""
    if op.get_context().as_sql:
        return  # offline SQL cannot look at the catalog; check pg_index.indisvalid by hand
    valid = op.get_bind().scalar(
        sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": name},
    )
    if valid is False:
        op.execute(f"DROP INDEX CONCURRENTLY {name}")
