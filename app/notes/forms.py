"""The note form."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form
from app.models import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH
from app.validators import no_control_characters, strip


class NoteForm(Form):
    """A note's title and content, within the lengths the database allows."""

    title = StringField(
        "Title",
        filters=[strip],
        validators=[
            DataRequired("Give the note a title."),
            Length(
                max=TITLE_MAX_LENGTH,
                message=f"Title must be at most {TITLE_MAX_LENGTH:,} characters.",
            ),
            no_control_characters,
        ],
    )
    content = TextAreaField(
        "Content",
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=CONTENT_MAX_LENGTH,
                message=f"Content must be at most {CONTENT_MAX_LENGTH:,} characters.",
            ),
            no_control_characters,
        ],
    )
