"""URLs: database ids in routes (`<id:note_id>`), and the profile photo's URL in templates."""

from flask import url_for
from werkzeug.routing import IntegerConverter

from app.models import BIGINT_MAX


class IdConverter(IntegerConverter):
    """A database id: a positive integer that fits PostgreSQL's `bigint`."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=BIGINT_MAX)


def photo_url(user):
    """Return the URL of the user's profile photo, or of the placeholder."""
    return user.image_url or url_for("static", filename="avatar-placeholder.svg")
