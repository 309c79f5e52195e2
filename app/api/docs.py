"""The API's reference page, /api/docs: the OpenAPI document rendered by the app itself."""

from flask import Blueprint, render_template

from app.api import openapi

bp = Blueprint("apidocs", __name__)


@bp.get("/api/docs")
def reference():
    """Show every route of the API, its parameters and answers, from the OpenAPI document."""
    return render_template("api/docs.html", spec=openapi.spec.to_dict())
