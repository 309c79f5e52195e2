"""Error pages: HTML for browsers, JSON for clients that prefer it."""

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from app.extensions import db

FRIENDLY_MESSAGES = {
    400: "The request could not be understood. Please go back and try again.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. The page may have moved, or it may not be yours.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
    503: "The service is briefly unavailable. Please try again in a moment.",
}


def wants_json():
    """Return whether the client prefers JSON to HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def describe(error):
    """Return the message to show for `error`: its own, unless it is Werkzeug's stock text."""
    stock = type(error).description
    if error.description and error.description != stock:
        return error.description
    return FRIENDLY_MESSAGES.get(error.code, stock)


def handle_http_error(error):
    """Render any HTTP error, rolling back the session after a server error."""
    if error.code >= 500:
        db.session.rollback()
    message = describe(error)
    # Keep what the error says besides its body, such as Retry-After on a 429 or Allow on a 405.
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    if wants_json():
        return {"error": message, "status": error.code}, error.code, headers
    page = render_template("errors/error.html", code=error.code, name=error.name, message=message)
    return page, error.code, headers


def init_app(app):
    """Register the error handler for every HTTP error, 500 included."""
    app.register_error_handler(HTTPException, handle_http_error)
