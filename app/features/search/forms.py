"""The search box."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SearchField
from wtforms.validators import Length

from app.features.search.query import MAX_QUERY_LENGTH
from app.forms import Form
from app.validators import no_control_characters, strip


class SearchForm(Form):
    """What to look for, read from the query string (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search your notes"),
        filters=[strip],
        validators=[
            Length(
                max=MAX_QUERY_LENGTH,
                message=_l(
                    "Search for at most %(limit)s characters.", limit=f"{MAX_QUERY_LENGTH:,}"
                ),
            ),
            no_control_characters,
        ],
    )
    archived = BooleanField(_l("Search the archive too"))
