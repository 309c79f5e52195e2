"""The addresses an account holds and held: who may undo what (docs/mail.md, "Who may undo what").

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-25

A new table (its lock conflicts with nobody): one row per address an account has had, when
its standing began (`first_held_at`) and when the account left it (`left_at`, NULL while it
is the account's). For 7 days after a move the address left outranks the new one, and the
address held first ranks highest. No backfill: an account without rows ranks its current
address from its creation, and a move writes the rows it needs.

The previous release never reads it, and moves accounts without writing it; an account moved
by it during the deploy has a row for its old address that is not the current one, which
this release reads as left at once (docs/mail.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# A new table: the previous release never reads it.
backward_compatible = True


def upgrade():
    op.create_table(
        "address_hold",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_key", sa.Text(), nullable=False),
        sa.Column("first_held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_address_hold_user_id_user", ondelete="CASCADE"
        ),
        sa.CheckConstraint("char_length(email) <= 254", name="ck_address_hold_email_length"),
        sa.PrimaryKeyConstraint("id", name="pk_address_hold"),
        sa.UniqueConstraint("user_id", "email_key", name="uq_address_hold_user_id_email_key"),
    )


def downgrade():
    op.drop_table("address_hold")  # its constraints go with it
