"""The throttle's own pool, and connections through PgBouncer in transaction mode
(DATABASE_CONNECTION_POOL_URL).

Each transaction may run on a different server connection, so nothing may be left on a
session for the next transaction to find. PgBouncer 1.18 (Debian 12's) also refuses the
`options` startup parameter that sets the statement timeout on a direct connection: a
pooled transaction sets it with SET LOCAL, which ends with the transaction.
"""

from sqlalchemy import event

from app.extensions import db
from config import THROTTLE_CONNECTIONS

THROTTLE_POOL = "throttle"  # the bind of the throttle's own pool


def add_throttle_pool(app):
    """Give app/throttle.py a pool of its own on the app's database (before db.init_app): a
    count, which a thread makes while it holds its request's connection, then never waits for
    the connections the requests hold, nor they for it."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if uri is None:
        return
    own = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "url": uri, "pool_size": THROTTLE_CONNECTIONS}
    app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}), THROTTLE_POOL: own}


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
        for engine in db.engines.values():  # the app's and the throttle's (app/throttle.py)
            event.listen(engine, "begin", set_statement_timeout)
