"""Connections through PgBouncer in transaction mode (DATABASE_CONNECTION_POOL_URL).

Each transaction may run on a different server connection, so nothing may be left on a
session for the next transaction to find. PgBouncer 1.18 (Debian 12's) also refuses the
`options` startup parameter that sets the statement timeout on a direct connection: a
pooled transaction sets it with SET LOCAL, which ends with the transaction.
"""

from sqlalchemy import event

from app.extensions import db


def init_app(app):
    """Give every transaction of a pooled engine its statement and idle-in-transaction timeouts."""
    if not app.config["DATABASE_POOLED"]:
        return
    statement = (
        f"SET LOCAL statement_timeout = {int(app.config['STATEMENT_TIMEOUT_MS'])};"
        " SET LOCAL idle_in_transaction_session_timeout"
        f" = {int(app.config['IDLE_IN_TRANSACTION_TIMEOUT_MS'])}"
    )

    def set_statement_timeout(connection):
        # Through the DBAPI cursor: psycopg2 opens the transaction with this statement,
        # and SQLAlchemy, still beginning, must not begin again for it.
        with connection.connection.dbapi_connection.cursor() as cursor:
            cursor.execute(statement)

    with app.app_context():
        event.listen(db.engine, "begin", set_statement_timeout)
