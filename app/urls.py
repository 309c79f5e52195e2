"""URLs: the client's address and scheme behind proxies, database ids in routes (`<id:...>`),
secrets in routes (`<secret:...>`), and the profile photo's URL in templates."""

import socket

from flask import url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter

from app.models import BIGINT_MAX


class Proxied:
    """Read the client's address and scheme from X-Forwarded-For and -Proto, trusting `hops`
    proxies (the router's), and the front (front/) besides when the request came through it.

    The front appends its peer (the router, or the client itself) to X-Forwarded-For and
    passes the request on over a Unix socket, where nobody else connects: such a request
    trusts one hop more. The router sets X-Forwarded-Proto; X-Forwarded-Host it passes on as
    the client sent it, so the Host header alone names this site.
    """

    def __init__(self, wsgi_app, hops):
        self.direct = ProxyFix(wsgi_app, x_for=hops, x_proto=1, x_host=0) if hops else wsgi_app
        self.fronted = ProxyFix(wsgi_app, x_for=hops + 1, x_proto=1, x_host=0)

    def __call__(self, environ, start_response):
        connection = environ.get("gunicorn.socket")
        through_front = connection is not None and connection.family == socket.AF_UNIX
        return (self.fronted if through_front else self.direct)(environ, start_response)


class IdConverter(IntegerConverter):
    """A database id: a positive integer that fits PostgreSQL's `bigint`."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=BIGINT_MAX)


class SecretConverter(UnicodeConverter):
    """A path segment that is a secret (a link's token): the request log and error reports
    write the variable's name in its place (app/secret_paths.py)."""


def photo_url(user):
    """Return the URL of the user's profile photo, or of the placeholder."""
    return user.image_url or url_for("static", filename="avatar-placeholder.svg")
