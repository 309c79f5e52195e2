"""What every API request goes through: its token, its body's size and type, and headers.

Registered with the other blueprints (app/__init__.py's register_blueprints) through init_app;
the routes live in notes.py, account.py, files.py.
"""

import math

from flask import g, request
from flask_babel import gettext
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from app.errors import DATABASE_DOWN, STORE_DOWN, Refused, claim_errors, first_line, logger
from app.extensions import CommitOutcomeUnknown, csrf, db
from app.features.api import (  # noqa: F401  (routes on bp)
    DOCUMENT,
    MemoApi,
    account,
    bp,
    changes,
    docs,
    files,
    linking,
    notes,
)
from app.features.api.auth import authenticate_request
from app.features.api.documented import describe_problems
from app.features.api.problems import Problem, handle_error, handle_refused, problem_response
from app.features.notes.quota import QuotaFull
from app.i18n.formats import file_size
from app.models import BIGINT_MAX, utcnow
from app.storage import StorageError
from app.urls import IdConverter

# A note's JSON is at most 20,000 characters of content (up to 4 bytes each, or 12 as a
# \u escape pair) and a title: no body the API takes is larger than this.
BODY_BUDGET = 256 * 1024
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# The routes whose body is required: without one they answer 415, as for one not JSON.
BODY_ROUTES = ("api.create_note", "api.change_note", "api.tick_task", "api.upload_attachment")


@bp.before_request
def check_request():
    """Authenticate the request, then refuse a body too large or not JSON."""
    authenticate_request()
    if (request.content_length or 0) > BODY_BUDGET:
        raise Problem(
            413,
            "too-large",
            gettext("A request body may be at most %(size)s.", size=file_size(BODY_BUDGET)),
        )
    request.max_content_length = BODY_BUDGET  # a chunked body is cut off at it too
    if request.method in WRITES and has_body() and not request.is_json:
        raise Problem(
            415, "not-json", gettext("Send the body as JSON: Content-Type: application/json.")
        )


@bp.errorhandler(RecursionError)
def nested_too_deeply(error):
    """Answer a JSON body nested deeper than Python's parser goes (400, not a 500)."""
    return problem_response(400, "bad-request", gettext("The body is not valid JSON."))


def has_body():
    """Return whether the request carries a body (a type, a length or chunks), or its route
    takes one."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    sent = bool(request.mimetype or request.content_length or chunked)
    return sent or request.endpoint in BODY_ROUTES


def id_schema(converter):
    """Describe an `<id:...>` in a path: a positive bigint."""
    return {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}


@bp.after_request
def add_headers(response):
    """Keep API answers out of caches, and tell the write rate after a counted write."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("Authorization")
    budget = g.get("spent", {}).get("note-writes")
    if budget is not None:
        limit, used, window_ends = budget
        response.headers["RateLimit-Limit"] = str(limit)
        response.headers["RateLimit-Remaining"] = str(max(0, limit - used))
        response.headers["RateLimit-Reset"] = str(seconds_until(window_ends))
    return response


def seconds_until(moment):
    """Return the whole seconds from now until `moment` (at least 0)."""
    return max(0, math.ceil((moment - utcnow()).total_seconds()))


@bp.errorhandler(QuotaFull)
def quota_full(error):
    """Answer a save past the account's quota: 409, nothing written."""
    db.session.rollback()
    return problem_response(409, "quota-full", str(error))


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(PoolTimeoutError)
def database_unavailable(error):
    """Answer 503 while the database is down or restarting."""
    logger.warning("database unavailable: %s", first_line(error))
    db.session.rollback()
    return problem_response(503, "unavailable", str(DATABASE_DOWN), [("Retry-After", "5")])


@bp.errorhandler(CommitOutcomeUnknown)
def commit_outcome_unknown(error):
    """Answer 503 saying the write may have landed: send it again with the same key."""
    logger.warning("database lost during a commit: %s", first_line(error))
    db.session.rollback()
    detail = gettext(
        "The database stopped answering while this write was being committed: it may have "
        "been saved or not. Send it again with the same Idempotency-Key, which makes it at "
        "most once, or read the note to see whether it changed."
    )
    return problem_response(503, "unavailable", detail, [("Retry-After", "5")])


@bp.errorhandler(StorageError)
def storage_unavailable(error):
    """Answer 503 when the object store fails before anything was changed."""
    logger.warning("object store failed: %s", error)
    db.session.rollback()
    return problem_response(503, "unavailable", str(STORE_DOWN), [("Retry-After", "5")])


bp.register_error_handler(HTTPException, handle_error)
bp.register_error_handler(Refused, handle_refused)
csrf.exempt(bp)


def init_app(app):
    """Serve the API and its document. Call before errors.init_app: flask-smorest registers
    an app-wide handler of HTTP errors, which the pages' own handler then replaces."""
    # JSON as UTF-8 text, as the export writes it: "회의록", not "\ud68c\uc758\ub85d".
    app.json.ensure_ascii = False
    openapi = MemoApi(app)
    openapi.register_converter(IdConverter, id_schema)
    describe_problems(openapi.spec)
    openapi.spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "memo_pat_..."}
    )
    openapi.register_blueprint(bp)
    app.extensions[DOCUMENT] = openapi.spec
    claim_errors(app, "/api/v1/", handle_error)
    app.register_blueprint(docs.bp)
