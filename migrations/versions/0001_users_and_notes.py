"""Users, their login sessions and their notes.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Creates the tables while they are empty, so the indexes are built at once. Ids are
bigint identities, and strings are text with CHECK constraints on their length: a
limit can later change with NOT VALID + VALIDATE instead of a table lock.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def id_column():
    return sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False)


def user_id_column(table):
    return sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("user.id", name=f"fk_{table}_user_id_user", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade():
    op.create_table(
        "user",
        id_column(),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("nickname", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
        sa.CheckConstraint("char_length(email) <= 254", name="ck_user_email_length"),
        sa.CheckConstraint(
            "char_length(nickname) BETWEEN 2 AND 30", name="ck_user_nickname_length"
        ),
    )
    op.create_index("uq_user_email_lower", "user", [sa.literal_column("lower(email)")], unique=True)
    op.create_index(
        "uq_user_nickname_lower", "user", [sa.literal_column("lower(nickname)")], unique=True
    )
    op.create_table(
        "login_session",
        id_column(),
        sa.Column("token_hash", sa.Text(), nullable=False),
        user_id_column("login_session"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_session"),
        sa.UniqueConstraint("token_hash", name="uq_login_session_token_hash"),
    )
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"])
    op.create_table(
        "note",
        id_column(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        user_id_column("note"),
        sa.PrimaryKeyConstraint("id", name="pk_note"),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="ck_note_title_length"),
        sa.CheckConstraint("char_length(content) <= 20000", name="ck_note_content_length"),
    )
    op.create_index("ix_note_user_id_created_at", "note", ["user_id", "created_at", "id"])


def downgrade():
    op.drop_index("ix_note_user_id_created_at", table_name="note")
    op.drop_table("note")
    op.drop_index("ix_login_session_user_id", table_name="login_session")
    op.drop_table("login_session")
    op.drop_index("uq_user_nickname_lower", table_name="user")
    op.drop_index("uq_user_email_lower", table_name="user")
    op.drop_table("user")
