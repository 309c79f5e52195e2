"""How the API's routes describe their answers in the OpenAPI document: each status it may
give, an error as problem+json, and the headers a request may send."""

import marshmallow as ma
from marshmallow import fields

from app.features.api import bp
from app.features.api.problems import PROBLEM_TYPE

# Any route may answer these: no token (401), an address no route has (404, or 405 when only
# another method has it: an id out of range, say), a body refused (413, 415), an address or
# headers too long for the web server (414, 431), the database or the store briefly gone (503).
EVERY_ROUTE = (400, 401, 404, 405, 413, 414, 415, 431, 503)


class ProblemOut(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    invalid_params = fields.List(fields.Dict(), metadata={"description": "422: each field"})
    note = fields.Dict(metadata={"description": "412: the note as it is now"})


PROBLEM = "PROBLEM"  # the document's one response of an error
PROBLEM_DESCRIPTION = (
    "A problem (RFC 9457); its `type` names it, such as `/api/problems/not-found` (the "
    "reference page lists them). The web front answers a "
    "request it refuses before the app (too large, too slow, headers or address too long) "
    "with a small HTML page instead."
)


def describe_problems(spec):
    """Add the problem+json response the routes refer to into the document."""
    spec.components.response(
        PROBLEM,
        {
            "description": PROBLEM_DESCRIPTION,
            "content": {PROBLEM_TYPE: {"schema": ProblemOut}, "text/html": {"schema": {}}},
        },
    )


IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": 'The note\'s revision as its ETag says, e.g. "3", or `*`; compared '
    'strongly: a weak tag (W/"3") never matches (412). Without it: 428.',
    "schema": {"type": "string"},
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": 'The ETag the client holds, e.g. "3": 304 while it is the note\'s.',
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Up to 255 printable ASCII characters: the same key within 24 hours "
    "answers the same note.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def problems(*statuses, headers=()):
    """Document the problem+json answers of a route: EVERY_ROUTE's and `statuses`."""

    def decorate(view):
        for status in sorted(set(EVERY_ROUTE + statuses)):
            view = bp.alt_response(status, response=PROBLEM)(view)
        if headers:
            view = bp.doc(parameters=list(headers))(view)
        return view

    return decorate
