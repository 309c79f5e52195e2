"""Word counts: fetch a web page (or read a note) and count its words, as flask-by-example did."""

from flask import Blueprint

bp = Blueprint("wordcount", __name__)

from app.wordcount import routes  # noqa: E402,F401  (routes attach themselves to bp)
