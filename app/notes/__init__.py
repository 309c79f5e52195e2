"""Notes: each user's own list, with create, read, update and delete."""

from flask import Blueprint

bp = Blueprint("notes", __name__)

from app.notes import routes  # noqa: E402,F401  (routes attach themselves to bp)
