"""The note form."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form
from app.validators import no_control_characters, strip


class NoteForm(Form):
    """A note's title (1-200 characters) and content (up to 20,000)."""

    title = StringField(
        "Title",
        filters=[strip],
        validators=[
            DataRequired("Give the note a title."),
            Length(max=200, message="Title must be at most 200 characters."),
            no_control_characters,
        ],
    )
    content = TextAreaField(
        "Content",
        filters=[lambda value: value or ""],
        validators=[
            Length(max=20_000, message="Content must be at most 20,000 characters."),
            no_control_characters,
        ],
    )
