"""DDL helpers that revisions import: changes to live tables that do not block them.

Revisions import them as `from migrations.ddl import create_index_concurrently` (the oldest
as `from app.release import ...`): both names re-export this module, and a shipped revision is
frozen, so its import stays. Keep each helper backward compatible: old revisions call them too.
"""

from alembic import context, op
from sqlalchemy import text


def index_is_valid(name):
    """Return True, False (left INVALID by an interrupted build) or None (absent)."""
    return op.get_bind().scalar(
        text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = :name"
        ),
        {"name": name},
    )


def create_index_concurrently(
    name, table, columns, unique=False, where=None, using=None, parameters=None
):
    """Build an index without blocking writes; rebuild one an interrupted run left INVALID.

    Must be called inside `op.get_context().autocommit_block()`. `IF NOT EXISTS`
    alone would keep an INVALID index forever, so the state is checked first.
    `using` names an access method other than btree ("gin"); `parameters` are its
    storage parameters ("fastupdate = off").
    """
    kind = "UNIQUE INDEX" if unique else "INDEX"
    method = f" USING {using}" if using else ""
    storage = f" WITH ({parameters})" if parameters else ""
    predicate = f" WHERE {where}" if where else ""
    create = (
        f'CREATE {kind} CONCURRENTLY "{name}" ON "{table}"{method} ({columns}){storage}{predicate}'
    )
    if context.is_offline_mode():
        op.execute(f"{create.replace('CONCURRENTLY', 'CONCURRENTLY IF NOT EXISTS', 1)}")
        return
    state = index_is_valid(name)
    if state is True:
        return
    # A concurrent build blocks no one, so the session's statement_timeout must not
    # kill it on a large table; the previous value comes back afterwards.
    previous = op.get_bind().scalar(text("SHOW statement_timeout"))
    op.execute("SET statement_timeout = 0")
    try:
        if state is False:
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        op.execute(create)
    finally:
        op.execute(f"SET statement_timeout = '{previous}'")


def constraint_exists(table, name):
    """Return whether `table` has a constraint called `name` (always False offline)."""
    if context.is_offline_mode():
        return False
    return bool(
        op.get_bind().scalar(
            text(
                "SELECT 1 FROM pg_constraint WHERE conname = :name"
                " AND conrelid = to_regclass(:table)"
            ),
            {"name": name, "table": f'"{table}"'},
        )
    )
