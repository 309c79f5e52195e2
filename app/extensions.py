"""Flask extensions, created unbound so models and blueprints never import the app."""

from flask import current_app, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError
from psycopg2.extensions import STATUS_READY as READY
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so a downgrade can drop exactly the constraint its upgrade made.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RefererCheckingCSRFProtect(CSRFProtect):
    """CSRFProtect whose HTTPS Referer check answers 400 to a malformed Referer, not 500,
    and that looks no further at a request whose method it never checks (a GET): Flask-WTF
    1.2 looks up the view's exemption first, on every request."""

    def protect(self, apply_exemptions=False):
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            super().protect(apply_exemptions)
        except ValueError:  # urlparse() of a Referer such as "https://[::1" or "https://h:x/"
            raise CSRFError("The referrer header is malformed.") from None


class CommitOutcomeUnknown(OperationalError):
    """The connection was lost while COMMIT was on its way: the write may have landed or not.

    The request's answer says so (app/errors.py, the API's problem): a client sends it again
    with the same idempotency key, which makes it at most once (issue #89).
    """


class ReconnectingSession(Session):
    """A session that sends a statement once more, on a new connection, when the pooled
    connection it was sent on had been dropped (the database restarted, say) and nothing
    could be lost by it: no transaction begun on the connection and nothing staged in the
    session (an object added, changed or deleted but not yet flushed).

    The pool does not ping a connection before each use (config.py): a dropped one is found
    when a statement fails on it. SQLAlchemy then marks every connection of the pool opened
    before as stale, so that the second send gets a new one. The rollback before it would
    discard what the session staged (a pending add() is expunged) and what a begun
    transaction holds, so then the statement is not sent again and the request fails as it
    would have (503, app/errors.py). A commit whose connection is lost is CommitOutcomeUnknown.
    """

    def execute(self, *args, **kwargs):
        return self.reconnecting(super().execute, args, kwargs)

    def scalar(self, *args, **kwargs):
        return self.reconnecting(super().scalar, args, kwargs)

    def scalars(self, *args, **kwargs):
        return self.reconnecting(super().scalars, args, kwargs)

    def holds_nothing_staged(self):
        """Return whether the session has no object waiting for its flush."""
        return not (self.new or self.dirty or self.deleted)

    def reconnecting(self, send, args, kwargs):
        dbapi_connection = self.connection().connection.dbapi_connection
        # psycopg2: in autocommit each statement commits; else READY is no transaction begun,
        # so nothing was flushed in it.
        # (The session's sets are looked at last: most statements run in a begun transaction.)
        nothing_to_lose = (
            dbapi_connection.autocommit or dbapi_connection.status == READY
        ) and self.holds_nothing_staged()
        try:
            return send(*args, **kwargs)
        except DBAPIError as error:
            if not (error.connection_invalidated and nothing_to_lose):
                raise
        self.rollback()  # gives up the dropped connection; the send below checks out another
        return send(*args, **kwargs)

    def commit(self):
        """Commit; a connection lost once the flush is done (at COMMIT) is CommitOutcomeUnknown."""
        self.flush()  # a failure here is before COMMIT: nothing was written
        try:
            super().commit()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            raise CommitOutcomeUnknown(
                error.statement, error.params, error.orig, connection_invalidated=True
            ) from error


db = SQLAlchemy(model_class=Base, session_options={"class_": ReconnectingSession})
login_manager = LoginManager()
csrf = RefererCheckingCSRFProtect()
babel = Babel()
