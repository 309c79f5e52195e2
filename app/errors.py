"""Error pages (HTML for browsers, JSON for clients that prefer it), a database lost midway,
and the one refusal type every feature raises (Refused)."""

import logging

from flask import current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, ServiceUnavailable, default_exceptions

from app.extensions import CommitOutcomeUnknown, db, login_manager
from app.storage import StorageError

logger = logging.getLogger("memo.errors")
PREFIX_HANDLERS = "memo-error-prefixes"  # app.extensions' key: claim_errors()
DATABASE_DOWN = _l(
    "The service is briefly unavailable: its database is not answering. "
    "Please try again in a moment."
)
# The connection was lost at COMMIT: the change may be saved (CommitOutcomeUnknown).
SAVED_OR_NOT = _l(
    "The database stopped answering while your change was being saved: it may have been "
    "saved. Open the page again to see whether it was before you repeat it."
)
# Any request the object store failed (a photo, an attachment, an export's link, an import):
# nothing was changed, so the same words fit each.
STORE_DOWN = _l(
    "The file store is not answering, so this could not be done. Nothing was changed: "
    "please try again in a moment."
)

FRIENDLY_MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You are not allowed to do that."),
    404: _l("There is nothing here. The address may be mistyped, or the page moved or deleted."),
    405: _l("That action is not allowed here."),
    413: _l("That upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. It has been logged; please try again."),
    503: _l("The service is briefly unavailable. Please try again in a moment."),
}
# The error's name as a page title (Werkzeug's are English).
ERROR_NAMES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Server error"),
    503: _l("Briefly unavailable"),
}
# Flask-WTF's reasons for refusing a form (English only), in the reader's language.
CSRF_REASONS = {
    "The CSRF token is missing.": _l(
        "The CSRF token is missing. Reload the page and send the form again."
    ),
    "The CSRF session token is missing.": _l(
        "The CSRF session token is missing. Reload the page and send the form again."
    ),
    "The CSRF token has expired.": _l(
        "The CSRF token has expired. Reload the page and send the form again."
    ),
    "The CSRF token is invalid.": _l(
        "The CSRF token is invalid. Reload the page and send the form again."
    ),
    "The CSRF tokens do not match.": _l(
        "The CSRF tokens do not match. Reload the page and send the form again."
    ),
    "The referrer header is missing.": _l(
        "The referrer header is missing. Reload the page and send the form again."
    ),
    "The referrer header is malformed.": _l(
        "The referrer header is malformed. Reload the page and send the form again."
    ),
    "The referrer does not match the host.": _l(
        "The referrer does not match the host. The form was sent from another site."
    ),
}


class Refused(Exception):
    """Something Memo will not do, and why: the words a person reads (translated, or a lazy
    string where made at import time), the HTTP status it is answered with, the input at
    fault (`field`, if one is) and when to try again (`retry_after`, seconds).

    A refusal that names its field is 422 unless told otherwise, one that names none 400.
    Pages answer it with handle_refused (the error page), the API with problem+json
    (app/features/api/wiring.py); a view that shows it in its own form catches it there.
    A feature's subclass only names it: `problem`, the API's problem name, when the status's
    own does not fit.
    """

    problem = None

    def __init__(self, message, status=None, *, field=None, retry_after=None):
        super().__init__(message)
        self.message = message
        self.status = status or (422 if field else 400)
        self.field = field
        self.retry_after = retry_after

    def __str__(self):
        return str(self.message)

    def as_http_error(self):
        """Return the HTTP error a page answers this refusal with (Retry-After kept)."""
        error = default_exceptions[self.status](description=str(self))
        if self.retry_after:
            error.retry_after = self.retry_after
        return error


def first_line(error):
    """Return the first line of a database error, without SQLAlchemy's boilerplate."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def wants_json():
    """Return whether the client prefers JSON to HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def message_for(error):
    """Return the message to show for `error`: its own, unless it is Werkzeug's stock text."""
    if isinstance(error, CSRFError):
        return str(CSRF_REASONS.get(error.description, FRIENDLY_MESSAGES[400]))
    stock = type(error).description
    if error.description and error.description != stock:
        return str(error.description)
    return str(FRIENDLY_MESSAGES.get(error.code, stock))


def name_for(error):
    """Return the error's name in the reader's language."""
    return str(ERROR_NAMES.get(error.code, error.name))


def handle_http_error(error):
    """Render any HTTP error, rolling back the session after a server error.

    An address under a prefix another handler claimed (the API's /api/v1/, whose errors are
    problem+json) is answered by that handler, also when no route matched it.
    """
    for prefix, handler in current_app.extensions.get(PREFIX_HANDLERS, {}).items():
        if request.path.startswith(prefix):
            return handler(error)
    if error.code >= 500:
        db.session.rollback()
    message = message_for(error)
    # Keep what the error says besides its body, such as Retry-After on a 429 or Allow on a 405.
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    if wants_json():
        return {"error": message, "status": error.code}, error.code, headers
    page = render_template(
        "errors/error.html",
        code=error.code,
        name=name_for(error),
        message=message,
        way_out=getattr(error, "way_out", None),  # (address, words) where it offers one
    )
    return page, error.code, headers


def claim_errors(app, prefix, handler):
    """Have `handler` answer the HTTP errors of every address under `prefix`."""
    app.extensions.setdefault(PREFIX_HANDLERS, {})[prefix] = handler


def handle_refused(refusal):
    """Answer a refusal no view showed itself: nothing kept, its words and status on the page."""
    db.session.rollback()
    return handle_http_error(refusal.as_http_error())


def handle_database_unavailable(error):
    """Answer 503, not a 500 with a traceback, while the database is down or restarting."""
    logger.warning("database unavailable: %s", first_line(error))
    g.database_lost = True  # the page is rendered as for a signed-out visitor
    return handle_http_error(ServiceUnavailable(str(DATABASE_DOWN)))


def handle_commit_outcome_unknown(error):
    """Answer 503 saying the change may have been saved: the COMMIT went, its answer did not."""
    logger.warning("database lost during a commit: %s", first_line(error))
    g.database_lost = True
    return handle_http_error(ServiceUnavailable(str(SAVED_OR_NOT)))


def database_lost():
    """Whether this request lost its database: then it cannot tell who is signed in."""
    return g.get("database_lost", False)


def signed_in_user_context():
    """Give templates `current_user`, as Flask-Login would, but nobody once the database is lost.

    Loading the signed-in user needs the database that just failed. Flask-Login's own
    context processor (turned off in create_app) would load the user as the page renders.
    """
    return {"current_user": login_manager.anonymous_user() if database_lost() else current_user}


def handle_storage_unavailable(error):
    """Answer 503 when the object store fails before anything was changed."""
    logger.warning("object store failed: %s", error)
    return handle_http_error(ServiceUnavailable(str(STORE_DOWN)))


def end_database_session(error=None):
    """Close the request's database session; a database gone since the response was made is fine."""
    try:
        db.session.remove()
    except (OperationalError, InterfaceError) as lost:
        # The connection is already invalidated and back in the pool: nothing is left to roll
        # back, and the response, made before, stands. Forget the session.
        logger.warning("database connection lost at the end of a request: %s", first_line(lost))
        db.session.registry.clear()


def init_app(app):
    """Register the error handlers: every HTTP error, 500 included, and a lost database."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Refused, handle_refused)
    # The pool checks each connection before use, so these mean the server itself is
    # gone, restarting or overloaded (statement timeouts are OperationalErrors too).
    for lost in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(lost, handle_database_unavailable)
    app.register_error_handler(CommitOutcomeUnknown, handle_commit_outcome_unknown)
    app.register_error_handler(StorageError, handle_storage_unavailable)
    app.context_processor(signed_in_user_context)
    # Runs before Flask-SQLAlchemy's own teardown (registered earlier), leaving it nothing to do.
    app.teardown_appcontext(end_database_session)
