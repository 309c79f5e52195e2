"""The search box."""

from wtforms import SearchField
from wtforms.validators import Length

from app.forms import Form
from app.search.query import MAX_QUERY_LENGTH
from app.validators import no_control_characters, strip


class SearchForm(Form):
    """What to look for, read from the query string (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Search your notes",
        filters=[strip],
        validators=[
            Length(
                max=MAX_QUERY_LENGTH,
                message=f"Search for at most {MAX_QUERY_LENGTH} characters.",
            ),
            no_control_characters,
        ],
    )
