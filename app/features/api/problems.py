"""The API's errors as RFC 9457 problem details (`application/problem+json`).

Each kind of error has a stable `type`: a relative URI, `/api/problems/<name>`, resolved
against the API's own address, so it stays right on any host. /api/docs lists them.
"""

from flask import jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.errors import message_for
from app.extensions import db
from app.features.api.reasons import translated_reason

PROBLEM_TYPE = "application/problem+json"
# The front passes bodies of at most 512 KiB (FORM_LIMIT in front/serving.py) to the app.
DRAIN_MAX = 1024 * 1024
PROBLEMS_PATH = "/api/problems/"
# The problem of each status that has no more particular one.
BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "changes-forgotten",
    412: "version-mismatch",
    413: "too-large",
    415: "not-json",
    422: "invalid-fields",
    428: "version-required",
    429: "too-many-requests",
    500: "server-error",
    503: "unavailable",
}
TITLES = {
    "bad-request": _l("Bad request"),
    "unauthorized": _l("A valid token is needed"),
    "forbidden": _l("Not allowed"),
    "insufficient-scope": _l("The token may only read"),
    "not-found": _l("Not found"),
    "method-not-allowed": _l("Method not allowed"),
    "conflict": _l("Conflict"),
    "version-mismatch": _l("The note changed since that version"),
    "changes-forgotten": _l("Changes this old are no longer kept"),
    "version-required": _l("If-Match is required"),
    "too-large": _l("Too large"),
    "not-json": _l("The body must be JSON"),
    "invalid-fields": _l("Invalid fields"),
    "invalid-cursor": _l("Invalid cursor"),
    "quota-full": _l("Over the account's quota"),
    "idempotency-key-reused": _l("Idempotency-Key used for another request"),
    "too-many-requests": _l("Too many requests"),
    "upload-refused": _l("Upload refused"),
    "search-refused": _l("Search refused"),
    "rename-refused": _l("Rename refused"),
    "server-error": _l("Server error"),
    "unavailable": _l("Briefly unavailable"),
}


class Problem(HTTPException):
    """An API error with its problem's name, a detail and extension members."""

    def __init__(self, status, name=None, detail=None, headers=None, **members):
        super().__init__(description=detail)
        self.code = status
        self.problem = name or BY_STATUS.get(status, "bad-request")
        self.members = members
        self.extra_headers = headers or {}


def problem_response(status, name, detail, headers=(), **members):
    """Return the problem+json response for one error."""
    body = {
        "type": PROBLEMS_PATH + name,
        "title": str(TITLES.get(name, name)),
        "status": status,
        "detail": detail,
        **members,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    for header, value in headers:
        response.headers[header] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def invalid_fields(error):
    """Return the fields webargs refused (`{"title": ["..."]}`) as a list of names and reasons."""
    messages = getattr(error, "data", {}).get("messages", {})
    fields = []
    for location in messages.values():
        for name, reasons in location.items() if isinstance(location, dict) else []:
            reasons = [reasons] if isinstance(reasons, str) else reasons
            reason = " ".join(translated_reason(str(each)) for each in reasons)
            fields.append({"name": name, "reason": reason})
    return fields


def drain():
    """Read and drop what is left of a refused request's body (up to DRAIN_MAX): gunicorn
    closes a connection whose body was left unread, and the front, still sending it, would
    answer 502 instead of the problem."""
    stream, left = request.environ["wsgi.input"], min(request.content_length or 0, DRAIN_MAX)
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        left -= len(chunk)


def handle_error(error):
    """Answer any HTTP error of an API request as problem+json, its body read first."""
    drain()
    if error.code >= 500:
        db.session.rollback()
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    if isinstance(error, Problem):
        headers += list(error.extra_headers.items())
        detail = error.description or str(TITLES.get(error.problem, ""))
        return problem_response(error.code, error.problem, detail, headers, **error.members)
    name = BY_STATUS.get(error.code, "bad-request")
    if error.code == 422:
        fields = invalid_fields(error)
        names = ", ".join(field["name"] for field in fields)
        detail = (
            gettext("These fields are not valid: %(names)s.", names=names)
            if fields
            else message_for(error)
        )
        return problem_response(422, name, detail, headers, invalid_params=fields)
    if error.code == 400 and getattr(error, "data", None):
        return problem_response(400, name, gettext("The body is not valid JSON."), headers)
    return problem_response(error.code, name, message_for(error), headers)


def handle_refused(refusal):
    """Answer a refusal (app.errors.Refused) as problem+json: nothing kept, its status and
    words; the field at fault as `invalid_params`, and Retry-After, where it has them."""
    drain()
    db.session.rollback()
    name = refusal.problem or BY_STATUS.get(refusal.status, "bad-request")
    headers = [("Retry-After", str(refusal.retry_after))] if refusal.retry_after else []
    members = {}
    if refusal.field:
        members["invalid_params"] = [{"name": refusal.field, "reason": str(refusal)}]
    return problem_response(refusal.status, name, str(refusal), headers, **members)


def is_api_request():
    """Return whether this request is for the API (its errors are problem+json)."""
    return request.path.startswith("/api/v1/") or request.path == "/api/v1"
