"""Attachments: files on notes, uploaded by the browser straight to the object store."""

from flask import Blueprint

bp = Blueprint("attachments", __name__)

from app.attachments import routes  # noqa: E402,F401  (routes attach themselves to bp)
