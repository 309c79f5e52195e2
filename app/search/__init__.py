"""Search: PostgreSQL full-text search of the signed-in user's notes, ranked and highlighted."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from app.search import routes  # noqa: E402,F401  (routes attach themselves to bp)
