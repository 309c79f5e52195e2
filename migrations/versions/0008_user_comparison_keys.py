"""Emails and nicknames compared one way: user.email_key and user.nickname_key, unique.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

Each key is comparison_key() of the column (NFKC, case-folded, computed in Python: see
app/models.py; copied here, as a revision is frozen at what it did). Safe on a live,
populated table while the previous release serves traffic: 1. the columns are added
nullable (metadata only); 2. every row's keys are written in batches of ids, each batch
its own short transaction; 3. if two accounts would then share a key, the revision stops
naming them by id (emails stay out of the log) before any index exists, and a rerun after
an operator has resolved them goes on; 4. the unique indexes are built CONCURRENTLY.
The old lower() indexes stay: the previous release still relies on them, and rows it
writes meanwhile have no keys (the new code fills those in when it meets them; a later
contract release backfills the rest, sets NOT NULL and drops the lower() indexes).
"""

import unicodedata

import sqlalchemy as sa
from alembic import context, op

from app.release import create_index_concurrently

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Two nullable columns the previous release never names; its inserts leave them empty.
backward_compatible = True

BATCH_SIZE = 1_000
KEYS = {"email_key": "email", "nickname_key": "nickname"}


class AccountsWouldMerge(Exception):
    """Two accounts' emails or nicknames are the same once normalized."""


def comparison_key(text):
    """Return NFKC(casefold(NFKC(text))), as app.models.comparison_key does at 0008."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def backfill():
    """Write both keys of every user, one batch of ids per transaction."""
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text('SELECT id, email, nickname FROM "user" WHERE id > :last ORDER BY id LIMIT :n'),
            {"last": last_id, "n": BATCH_SIZE},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text(
                'UPDATE "user" SET email_key = :email_key, nickname_key = :nickname_key'
                " WHERE id = :id AND (email_key IS DISTINCT FROM :email_key"
                " OR nickname_key IS DISTINCT FROM :nickname_key)"
            ),
            [
                {
                    "id": row.id,
                    "email_key": comparison_key(row.email),
                    "nickname_key": comparison_key(row.nickname),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id


def refuse_merges():
    """Stop, naming the accounts by id, if two would share an email or nickname key."""
    bind = op.get_bind()
    clashes = []
    for key in KEYS:
        groups = bind.execute(
            sa.text(
                f'SELECT array_agg(id ORDER BY id) AS ids FROM "user" WHERE {key} IS NOT NULL'
                f" GROUP BY {key} HAVING count(*) > 1 ORDER BY min(id)"
            )
        ).all()
        clashes += [f"{KEYS[key]}s of users {', '.join(map(str, row.ids))}" for row in groups]
    if clashes:
        raise AccountsWouldMerge(
            "0008 would merge accounts whose "
            + "; ".join(clashes)
            + " are the same once case-folded and NFKC-normalized. Change all but one of "
            "each group (or merge them by hand), then run `flask db upgrade` again."
        )


def upgrade():
    for key in KEYS:
        op.add_column("user", sa.Column(key, sa.Text(), nullable=True), if_not_exists=True)
    with op.get_context().autocommit_block():
        if not context.is_offline_mode():  # the keys need Python's casefold: online only
            backfill()
            refuse_merges()
        for key in KEYS:
            create_index_concurrently(f"uq_user_{key}", "user", key, unique=True)


def downgrade():
    for key in KEYS:
        op.drop_column("user", key)  # its unique index goes with it
