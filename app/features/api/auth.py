"""Who an API request is for: a personal access token in `Authorization: Bearer`, and only that.

Cookies and the session never authenticate the API (the views read `g.api_user`, never
Flask-Login's current_user), and a token never opens a page. A `read` token may call the
GET routes only: any other method answers 403 before the view runs.
"""

from flask import g, request
from flask_babel import gettext

from app.extensions import db
from app.features.api.problems import Problem
from app.features.tokens.service import authenticate
from app.models import User
from app.throttle import writing_with_token

READS = ("GET", "HEAD", "OPTIONS")
REALM = 'Bearer realm="memo"'
# A secret is `memo_pat_` and URL-safe base64: anything far longer is not one of ours.
SECRET_MAX_LENGTH = 200


def bearer_secret():
    """Return the secret of the request's `Authorization: Bearer` header, or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    return secret


def unauthorized(detail, error=None):
    """Return the 401 that asks for a token (with why, when one was sent)."""
    challenge = REALM if error is None else f'{REALM}, error="{error}"'
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


def authenticate_request():
    """Find the request's token and account, or refuse; a `read` token may not write."""
    secret = bearer_secret()
    if secret is None:
        raise unauthorized(
            gettext("Send a personal access token: Authorization: Bearer memo_pat_...")
        )
    token = authenticate(secret, request.remote_addr)
    user = db.session.get(User, token.user_id) if token is not None else None
    if user is None:
        raise unauthorized(gettext("The token is unknown, expired or revoked."), "invalid_token")
    g.api_token, g.api_user = token, user
    writing_with_token(token.id, token.name)
    if request.method not in READS and token.scope != "write":
        raise Problem(
            403,
            "insufficient-scope",
            gettext(
                "This token may only read; make a token with the write scope to change anything."
            ),
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="write"'},
        )


def api_user():
    """Return the account the request's token is for."""
    return g.api_user
