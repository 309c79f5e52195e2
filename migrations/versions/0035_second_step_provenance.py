"""How each second step was made, recorded when it is made: the start of its chain of proofs;
and whether an address came to its account through a second step.

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-27

Four nullable columns, each added in a statement that only takes the brief ACCESS EXCLUSIVE
lock (no rewrite, no scan):
- passkey, totp_credential and recovery_code get chain_started_at: when the password alone
  began the chain of second steps this one was made through (its own making for the first
  second step, which asks for the password alone; the chain of the second step the session
  had just passed for one made through it). A recovery removes the chains begun since the
  danger began (docs/mail.md, "The one rule"). NULL for those made before: judged as before
  this revision, added through the oldest second step the account still has.
- address_hold.arrived_with_second_step: whether the move that brought the address needed a
  second step (the account had one when it completed). NULL for rows made before, and for an
  address the account left: read as not recorded, which never counts as a password-only move.

The previous release never names them: what it adds there is judged as before until the new
release serves.
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

# Nullable columns the previous release never names.
backward_compatible = True

CHAINS = ("passkey", "totp_credential", "recovery_code")


def upgrade():
    for table in CHAINS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS chain_started_at "
            "timestamp with time zone"
        )
    op.execute("ALTER TABLE address_hold ADD COLUMN IF NOT EXISTS arrived_with_second_step boolean")


def downgrade():
    op.execute("ALTER TABLE address_hold DROP COLUMN IF EXISTS arrived_with_second_step")
    for table in reversed(CHAINS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS chain_started_at")
