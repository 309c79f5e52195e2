"""A request to turn the second step off after a wait, for whoever lost every second step and
every recovery code (docs/mail.md, "Losing every second step").

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-25

One new table (its lock conflicts with nobody), nothing else touched:
- second_step_recovery: an account's standing request and when it was made.

The previous release never reads it: a request made in the new release waits unseen there,
and a sign-in that passes a second step there does not end it (the next one here does).
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "second_step_recovery",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_second_step_recovery_user_id_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_second_step_recovery"),
    )


def downgrade():
    op.drop_table("second_step_recovery")
