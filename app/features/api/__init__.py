"""The JSON API under /api/v1/ (reference: /api/docs): the same notes, the same rules as the pages.

`bp` is a flask-smorest Blueprint (a Flask Blueprint that also describes its routes): its
schemas (schemas.py) validate the input and make the OpenAPI 3.1 document at
/api/v1/openapi.json. Every request needs a personal access token (auth.py), is CSRF-exempt
(no cookie authenticates it), and every error is problem+json (problems.py). The routes are in
notes.py, account.py and files.py; /api/docs (docs.py) renders the document as a page.
"""

from flask_smorest import Api, Blueprint

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Memo's notes, attachments and exports for scripts and apps.",
)


class MemoApi(Api):
    """flask-smorest's Api, with no catch-all error response in the document: each route
    lists the problems it may answer (documented.py)."""

    DEFAULT_ERROR_RESPONSE_NAME = None


DOCUMENT = "memo-openapi"  # app.extensions' key of the app's OpenAPI document (an APISpec)
