"""Reminders on notes and the occurrences they fired (docs/reminders.md).

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-25

Two new tables (their locks conflict with nobody), nothing else touched:
- reminder: a note's reminder (one a note), its wall-clock start, zone, RRULE and next time;
- reminder_occurrence: each firing, unique per reminder and moment (each is mailed once).

The previous release never reads them: a reminder set in the new release waits there, and
only this release's worker fires it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# New tables: the previous release never reads them.
backward_compatible = True

# Read by scripts/lint_migrations.py: the squawk rules this revision may break, and why.
squawk_exceptions = {
    "prefer-timestamp-tz": (
        "reminder.starts_at is a wall-clock time on purpose: 09:00 in the reminder's own zone "
        "(time_zone), whatever offset that zone has on each day it fires (RFC 5545's local "
        "DTSTART with a TZID); every instant is timestamptz"
    ),
}


def upgrade():
    op.create_table(
        "reminder",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("repeat", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "repeat IN ('none', 'daily', 'weekdays', 'weekly', 'monthly', 'yearly')",
            name="ck_reminder_repeat_known",
        ),
        sa.CheckConstraint("char_length(time_zone) <= 64", name="ck_reminder_zone_length"),
        sa.CheckConstraint("char_length(rule) <= 200", name="ck_reminder_rule_length"),
        sa.ForeignKeyConstraint(
            ["note_id"], ["note.id"], name="fk_reminder_note_id_note", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_reminder_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminder"),
        sa.UniqueConstraint("note_id", name="uq_reminder_note_id"),
    )
    op.create_index("ix_reminder_user_id", "reminder", ["user_id"])
    op.create_index(
        "ix_reminder_due_at", "reminder", ["due_at"], postgresql_where=sa.text("due_at IS NOT NULL")
    )
    op.create_table(
        "reminder_occurrence",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("reminder_id", sa.BigInteger(), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), server_default="queued", nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('queued', 'sent', 'held', 'void')",
            name="ck_reminder_occurrence_outcome_known",
        ),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["reminder.id"],
            name="fk_reminder_occurrence_reminder_id_reminder",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["note.id"], name="fk_reminder_occurrence_note_id_note", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_reminder_occurrence_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_occurrence"),
        sa.UniqueConstraint("reminder_id", "due_at", name="uq_reminder_occurrence_reminder_id"),
    )
    op.create_index(
        "ix_reminder_occurrence_user_id_fired_at", "reminder_occurrence", ["user_id", "fired_at"]
    )
    op.create_index("ix_reminder_occurrence_note_id", "reminder_occurrence", ["note_id"])


def downgrade():
    op.drop_table("reminder_occurrence")
    op.drop_table("reminder")
